"""Step-by-step lab: one update at a time with the real numbers, four gradients side by side, and the code."""

import streamlit as st

import charts
import engine
from compute import stepper
from settings.controls import relevant
from ui import explain, lab, widgets

LAB_HEIGHTS = {"data": 400, "surface": 400, "loss": 260}  # px: the three panels of the run so far

values = widgets.page("Step by step: one update at a time")
shown = (relevant(values) | {"zero_grad"}) - {"device", *stepper.PLAIN}

lr_caption = widgets.sidebar(values, shown, extra=("zero_grad",))
aside = stepper.set_aside(values)
if aside:
    st.info(f"This lab steps plain MSE on every point: the link's {' and '.join(aside)} apply on the playground.")

with widgets.or_stop("This run cannot start"):
    full = stepper.whole_run(values)  # the whole run: fixes the axes so the picture does not jump between clicks
    trainer = stepper.trainer(values)
if values["zero_grad"]:  # the limit is a zeroed run's: without zeroing the rule is another one (the warning's)
    lr_caption.caption(explain.lr_limit_caption(full))
cfg, ds = trainer.cfg, trainer.ds

buttons = st.columns([1, 1, 1.3, 1, 3])
buttons[0].button("Step", on_click=stepper.advance, args=(1,), type="primary", disabled=trainer.done)
buttons[1].button("Step ×10", on_click=stepper.advance, args=(10,), disabled=trainer.done)
buttons[2].button("Run to the end", on_click=stepper.advance, args=(None,), disabled=trainer.done)
buttons[3].button("Reset", on_click=stepper.reset)
h = trainer.history()
st.query_params["step"] = str(h.steps)
buttons[4].markdown(
    f"**Step {h.steps} of {trainer.total_steps}** · epoch {h.epoch_of(h.steps):.3g} · "
    f"full-data loss {explain.num(float(h.loss[-1]))}"
)
if h.diverged:
    st.error(f"The run diverged at step {h.diverged_at}: the loss grew past a million times its start.", icon="💥")
if not cfg.zero_grad:
    st.warning(lab.zero_grad_warning(full), icon="⚠️")

left, right = st.columns([1.25, 1])
with left:  # three panels in columns of their own: on a phone they stack, each the screen's width
    top = st.columns(2)
    for place, name in ((top[0], "data"), (top[1], "surface"), (st.container(), "loss")):
        fig = charts.still_panel(
            name,
            ds,
            h,
            full.surface,
            full.optimum,
            cfg.fit_bias,
            height=LAB_HEIGHTS[name],
            last_step=trainer.total_steps,
        )
        place.plotly_chart(charts.Prebuilt(fig), width="stretch", key=f"lab_{name}")

with right:
    if trainer.done:
        st.success("The run is over. Reset to start again, or change a setting.")
    else:
        view = lab.step_view(trainer)
        which = "all points" if view.batch is None else f"the mini-batch of rows {list(view.batch[:12])}"
        st.markdown(f"**Next step ({view.step} → {view.step + 1}) on {which}**")
        st.markdown(
            "**1. Forward pass:** prediction ŷ = "
            + ("w·x" if ds.d == 1 else "w1·x1 + w2·x2")
            + (" + b" if cfg.fit_bias else "")
            + f" with {explain.vector(view.names, view.params)}"
        )
        st.dataframe(view.table, hide_index=True, width="stretch", height=220)
        st.markdown("**2. Loss** (mean squared error):")
        st.latex(lab.loss_formula(view))
        st.markdown(
            "**3. Backward pass:** the gradient"
            + (" (what `loss.backward()` puts in `.grad`)" if cfg.method in ("optimizer", "autograd") else "")
        )
        for formula in lab.gradient_formulas(view, cfg.fit_bias):
            st.latex(formula)
        if view.accumulated is not None:
            st.markdown(
                f":orange[Not zeroed: `.grad` now holds the sum of all gradients so far, "
                f"{explain.vector(view.names, view.accumulated)}, and that is what the update uses.]"
            )
        momentum = lab.momentum_lines(trainer, view)
        if momentum is not None:
            st.markdown("**Momentum buffer**, as torch.optim.SGD keeps it (updated before the step):")
            st.code(momentum, language=None, wrap_lines=True)
        st.markdown("**4. Update:**")
        st.code("\n".join(lab.update_lines(view, cfg)), language=None, wrap_lines=True)

with st.expander("Four ways to get the same gradient", expanded=True):
    if trainer.done:
        st.caption("The run is over: reset to compare gradients along the way.")
    else:
        delta = st.select_slider(
            "Finite-difference delta",
            options=[10.0**-k for k in range(0, 8)],
            value=0.1,
            format_func=lambda v: f"{v:g}",
            key="lab_delta",
        )
        st.dataframe(lab.gradient_table(ds, view, cfg.fit_bias, delta), hide_index=True, width="stretch")
        sweep = engine.delta_sweep(ds, view.params, cfg.fit_bias, idx=view.batch)
        st.plotly_chart(charts.delta_error_figure(sweep, delta), width="stretch", key="lab_delta_chart")
        best_delta, best_error = charts.smallest_error(sweep, "forward", "float32")
        st.markdown(
            "Forward differences, (L(p+δ) − L(p))/δ, make two errors: a truncation error that shrinks with δ and a "
            "rounding error, from subtracting two nearly equal losses, that grows as δ shrinks — hence the V, "
            f"whose bottom in float32 is near δ = {best_delta:.0e} (error {best_error:.1e}). "
            "Central differences, (L(p+δ) − L(p−δ))/2δ, are exact on this quadratic loss for any δ, so only the "
            "rounding error is left, and float64 pushes it down by nine orders of magnitude."
        )

with st.expander("Show the code: this exact run as a PyTorch script"):
    script = engine.export_script(ds, cfg)
    st.caption(f"Written the {explain.METHOD_STYLES[cfg.method]} way. Run it and it prints the same numbers.")
    st.code(script, language="python")
    dl = st.columns(2)
    dl[0].download_button("Download .py", script, file_name="train.py", mime="text/x-python")
    dl[1].download_button(
        "Download notebook (.ipynb)",
        engine.export_notebook(ds, cfg),
        file_name="train.ipynb",
        mime="application/x-ipynb+json",
    )
