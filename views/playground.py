"""The playground: sliders on the left, one animated figure, readouts and plain-language explanations.

Three nested st.fragments, so that a slider move reruns no more of the page than it changes:
- the momentum's section: its slider, the run's section and the family chart. A momentum move reruns it, not the
  rest of the sidebar and the page;
- inside it, the run's section: the learning rate's slider and the run. A learning-rate move reruns it alone, not
  the family chart, which does not depend on the learning rate (the browser is spared redrawing it: in Chromium
  that halved the time from a key press to the new run drawn, `python bench/bench_latency.py`, deploy/README.md);
- inside it too, the family chart: picking its other setting reruns it alone.
"""

import contextlib

import streamlit as st

from ui import cache, explain, family, lesson, runs, tabular, widgets
from ui.controls import LR_GRID, relevant

values = widgets.init_values()
shown = relevant(values) | {"zero_grad"}
lesson_ = widgets.current_lesson()

st.title("Watch PyTorch train a linear model")
for note in widgets.take_notes():
    st.warning(f"Link corrected — {explain.md_escape(note)}", icon="🔗")

lr_slot, momentum_slot = widgets.sidebar(values, shown, extra=("zero_grad",), later=True)
if lesson_.has_challenge:
    within = f" within {lesson_.goal_epochs} epochs" if lesson_.goal_epochs else ""
    st.info(f"**Challenge:** bring the loss below {lesson_.goal_loss:g}{within}.", icon="🎯")
offered = [k for k in ("lr", "momentum") if k in shown and k not in lesson_.hidden | lesson_.locked]
run_box, more_box = st.container(), st.container()
FAMILY_SETTING = "family_setting"  # the key of the family chart's radio: which ladder its slider walks


def show_run(values: dict, lr_caption, lower) -> None:
    """The run: its figure and readouts, the caption under the learning rate, and into `lower` (under the family
    chart) the downloads and explanations."""
    try:
        with st.spinner("Training…") if cache.takes_long(values) else contextlib.nullcontext():
            result = cache.run(values)
            fig = cache.playground_figure(values)
    except ValueError as exc:
        st.error(f"This run cannot start: {exc}")
        st.stop()

    lr_caption.caption(explain.lr_limit_caption(result))
    h = result.history
    if result.optimum_note:
        st.info(result.optimum_note, icon="ℹ️")
    growing = runs.growing_message(result)  # above the limit, on its way up, not yet called diverged
    if h.diverged or growing:
        if h.diverged:
            st.error(runs.divergence_message(result), icon="💥")
        else:
            st.warning(growing, icon="📈")
        fixes = [f for f in runs.one_click_fixes(result, values, LR_GRID) if all(map(lesson_.allows, f[1]))]
        for k, (column, (label, changes)) in enumerate(zip(st.columns(3), fixes, strict=False)):
            column.button(label, on_click=widgets.set_values, kwargs=changes, type="primary" if k == 0 else "secondary")

    m = st.columns(4)
    m[0].metric("Steps", f"{h.steps}", help=f"{h.epoch_of(h.steps):g} epochs of {h.steps_per_epoch} step(s)")
    m[1].metric("Final loss", explain.num(h.final_loss), help="Mean squared error on all the data after the last step")
    m[2].metric("Best possible loss", explain.num(result.surface.min_loss), help="The least-squares optimum's loss")
    m[3].metric("R²", explain.num(explain.r2_of(result), 3), help=explain.R2_HELP)
    st.caption(explain.params_caption(result))

    challenge = lesson.check_challenge(lesson_, h)
    if challenge is not None:
        (st.success if challenge.met else st.warning)(challenge.message, icon="🎯")
    family_hint = ""
    if offered and not family.unavailable(values):
        family_hint = (
            f" To compare {'learning rates' if 'lr' in offered else 'momenta'}, drag the slider of the next chart."
        )
    st.caption("Press ▶ Play under the chart to watch the training, or drag its slider to any step." + family_hint)
    st.plotly_chart(fig, width="stretch", key="playground_chart")

    changed = widgets.changes_since_last_run(values)
    if changed:
        st.caption("Changed since the previous run: " + "; ".join(changed))

    with lower:
        downloads = st.columns([1, 1, 3])
        downloads[0].download_button(
            "⬇ Every step (.csv)",
            lambda: tabular.history_csv(h),  # made when clicked, not on every rerun
            file_name="run_steps.csv",
            mime="text/csv",
            help="step, epoch, loss and the parameters after every step",
        )
        downloads[1].download_button(
            "⬇ Final model (.json)",
            lambda: tabular.model_json(result.dataset, result.config, h),
            file_name="model.json",
            mime="application/json",
            help="the parameters (also in the original units when inputs were rescaled) and the settings",
        )

        left, right = st.columns(2)
        with left.expander("What am I looking at?", expanded=True):
            st.markdown(explain.what_am_i_looking_at(result))
        with right.expander("The update rule, with this run's numbers", expanded=True):
            st.markdown(explain.update_rule(result))


@st.fragment
def run_section(values: dict, lr_slot, more_box) -> None:
    """The learning rate's slider and the run. A fragment: a learning-rate move reruns this section only, unless
    the family chart shows the momentum ladder (drawn at one learning rate) or a button changed another control."""
    alone = set() if st.session_state.get(FAMILY_SETTING) == "momentum" else {"lr"}
    if widgets.moved_since_last_run(values) - alone:
        st.rerun()  # the whole page
    lr_caption = widgets.learning_rate(values, shown, lr_slot)
    widgets.sync_url(values)
    lower = more_box.container()  # written on every full run, so that a fragment run may write there too
    show_run(values, lr_caption, lower)


@st.fragment
def family_section(values: dict, settings: list[str]) -> None:
    """Every learning rate (or momentum) at once: a slider in the chart, no server round trip. A fragment: picking
    the other setting reruns this section only."""
    st.subheader("Every learning rate (or momentum) at once")
    reason = family.unavailable(values)
    if reason:
        st.caption(reason)
        return
    setting = st.radio(
        "The slider under this chart changes the",
        settings,
        format_func=family.SETTINGS.get,
        horizontal=True,
        key=FAMILY_SETTING,
    )
    start = (
        "The slider starts at your momentum."
        if setting == "momentum"
        else "The slider starts at the learning rate the sidebar had when this chart was drawn (a move of the "
        "sidebar's learning rate redraws only the chart above)."
    )
    st.caption(
        "Each run was computed ahead of time, so the path and the loss change at once as you drag, without waiting "
        f"for the server. Everything but the {family.SETTINGS[setting]} is as in the sidebar. {start}"
    )
    st.plotly_chart(cache.family_figure(values, setting), width="stretch", key="family_chart")


@st.fragment
def momentum_section(values: dict) -> None:
    """The momentum's slider, the run's section and the family chart (both fragments of their own inside this one).
    A fragment: a momentum move reruns this section, unless a button changed another control."""
    if widgets.moved_since_last_run(values) - {"momentum"}:
        st.rerun()  # the whole page
    widgets.momentum(values, shown, momentum_slot)
    run_section(values, lr_slot, more_box)
    if offered:
        family_section(values, offered)  # in this fragment's own body: one drawn into an outside container piles up


with run_box:
    momentum_section(values)
