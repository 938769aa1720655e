"""The playground: sliders on the left, one live figure, readouts and plain-language explanations.

The figure is sent first: the run, then the figure, then the readouts above it and the sidebar's other controls
(their values are known before any widget is drawn), so that after a move the browser draws the new run before it
redraws the rest of the page.

The figure plays each new run by itself, and its own learning-rate, momentum and epochs sliders move in the browser
(ui/figure.py, components/live_figure.js). Two nested st.fragments keep a sidebar move from rerunning more than
it changes:
- the momentum's section: its slider and the run's section. A momentum move reruns it, not the rest of the sidebar;
- inside it, the run's section: the learning rate's slider and the run. A learning-rate move reruns it alone.
"""

import streamlit as st

from compute import cache, runs
from settings import lesson
from settings.controls import LR_GRID, relevant
from ui import explain, figure, overfit_text, share, tabular, widgets

values = widgets.page("Watch PyTorch train a linear model")
shown = relevant(values) | {"zero_grad"}
lesson_ = widgets.current_lesson()


slots = widgets.sidebar_slots()
drawn = set()  # this full run's: a fragment's rerun sees the last full run's, where the sidebar was drawn


def rest_of_sidebar() -> None:
    """The sidebar's other controls, once a full run: after the figure, or before the message of a run that cannot
    start."""
    if "sidebar" not in drawn:
        drawn.add("sidebar")
        widgets.sidebar_rest(values, shown, ("zero_grad",), slots.rest)


if lesson_.has_challenge:
    within = f" within {lesson_.goal_epochs} epochs" if lesson_.goal_epochs else ""
    st.info(f"**Challenge:** bring the loss below {lesson_.goal_loss:g}{within}.", icon="🎯")
run_box, more_box = st.container(), st.container()


def show_run(values: dict, lr_caption, lower) -> None:
    """The run: its figure and readouts, the caption under the learning rate, and into `lower` the downloads and
    explanations."""
    with widgets.or_stop("This run cannot start", "Training…" if cache.takes_long(values) else None, rest_of_sidebar):
        result = cache.run(values)

    readouts = st.container()  # above the figure, written after it
    figure.show(values, shown, lesson_)
    with readouts:
        _readouts(result, values)
    lr_caption.caption(explain.lr_limit_caption(result))
    h = result.history

    changed = widgets.changes_since_last_run(values)
    if changed:
        st.caption("Changed since the previous run: " + "; ".join(changed))
    share.offer(result, values, lesson_)  # "Share with the class", when the link names a class (ui/share.py)

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


def _readouts(result, values: dict) -> None:
    """What the run did, above the figure: an optimum's note, a divergence and its one-click fixes, the numbers, a
    challenge's verdict."""
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
    m[1].metric("Final loss", explain.num(h.final_loss), help=explain.loss_help(result))
    m[2].metric("Best possible loss", explain.num(result.surface.min_loss), help=explain.best_loss_help(result))
    m[3].metric("R²", explain.num(explain.r2_of(result), 3), help=explain.R2_HELP)
    st.caption(explain.params_caption(result))
    held_out = overfit_text.held_out_caption(result)  # a test set or weight decay: their numbers
    if held_out:
        st.caption(held_out)

    challenge = lesson.check_challenge(lesson_, h)
    if challenge is not None:
        (st.success if challenge.met else st.warning)(challenge.message, icon="🎯")


@st.fragment
def run_section(values: dict, more_box) -> None:
    """The learning rate's slider and the run. A fragment: a learning-rate move (the sidebar's or the figure's)
    reruns this section only, unless a button changed another control."""
    if widgets.moved_since_last_run(values) - {"lr"}:
        st.rerun()  # the whole page
    lr_caption = widgets.learning_rate(values, shown, slots.lr)
    widgets.sync_url(values)
    lower = more_box.container()  # written on every full run, so that a fragment run may write there too
    show_run(values, lr_caption, lower)


@st.fragment
def momentum_section(values: dict) -> None:
    """The momentum's slider and the run's section (a fragment of its own inside this one). A fragment: a momentum
    move reruns this section, unless a button changed another control."""
    if widgets.moved_since_last_run(values) - {"momentum"}:
        st.rerun()  # the whole page
    widgets.momentum(values, shown, slots.momentum)
    run_section(values, more_box)


with run_box:
    momentum_section(values)
rest_of_sidebar()  # after the figure: see above
