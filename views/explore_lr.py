"""Which learning rate, which momentum: a sweep of 50 learning rates and a map of (learning rate, momentum)."""

import streamlit as st

from compute import explore, explore_cache
from ui import explain, explore_text, widgets

values = widgets.page("Which learning rate? Which momentum?")
widgets.sidebar(values, explore.shown(values, explore.SWEEP_KEYS))

with widgets.or_stop("The sweep cannot run on these settings", "Training 50 runs at once…"):
    sweep, stab = explore_cache.lr_sweep(values)
    sweep_fig = explore_cache.sweep_figure(values)

st.header("Learning-rate sweep")
st.markdown(
    "Each dot is a whole training run on the same data, from the same start, for the same number of steps; only the "
    "learning rate differs. Too small and the loss hardly moves; past the dashed red line, 2/λmax (λmax is the "
    "steepest curvature of the loss), every step overshoots and the run blows up. In between lies the fastest rate, "
    "near 2/(λmin+λmax)."
)
event = st.plotly_chart(sweep_fig, width="stretch", key="sweep_chart", on_select="rerun", selection_mode="points")
st.caption(explore_text.sweep_summary(sweep, stab))

choices = explore.link_choices(sweep)
picked = [p["x"] for p in (event.selection.points if event else []) if "x" in p]
if picked and picked != st.session_state.get("sweep_picked"):  # a click on a dot picks its rate once
    st.session_state["sweep_picked"] = picked
    st.session_state["sweep_lr"] = explore.nearest(choices, float(picked[0]))
if st.session_state.get("sweep_lr") not in choices:
    st.session_state["sweep_lr"] = explore.default_choice(choices, stab)
left, right = st.columns([2, 1], vertical_alignment="bottom")
lr = left.select_slider(
    "Open this learning rate in the playground (or click a dot above)",
    options=choices,
    key="sweep_lr",
    format_func=lambda v: f"{v:g}",
)
right.link_button(f"▶ Watch lr = {lr:g} in the playground", explore.playground_url(values, lr), width="stretch")

st.header("Momentum map")
st.markdown(
    "Momentum keeps part of the previous step: v = momentum·v + gradient, step = lr·v. Every cell below is a run; "
    "its colour is how many steps the loss needs to fall tenfold (dark is fast, grey diverged). First: measured "
    "from the runs; second: predicted from the loss surface's curvature alone. They agree."
)
with widgets.or_stop("The momentum map cannot run on these settings", "Training a grid of runs…"):
    mm = explore_cache.momentum_map(values)
    map_figs = explore_cache.momentum_figures(values)
for column, fig, panel in zip(st.columns(2), map_figs, ("measured", "theory"), strict=True):
    column.plotly_chart(fig, width="stretch", key=f"momentum_chart_{panel}")
m = st.columns(4)
m[0].metric("Condition number λmax/λmin", explain.num(stab.condition_number, 3))
m[1].metric("Best rate without momentum", f"{explain.num(stab.best_lr, 3)}")
m[2].metric("Best pair: learning rate", explain.num(stab.best_momentum_lr, 3))
m[3].metric("Best pair: momentum", explain.num(stab.best_momentum, 3))
st.markdown(
    "**Monotone**: the loss falls smoothly. **Ripples**: momentum carries the parameters past the bottom and back, "
    "so the loss wobbles as it falls — that happens once (1 + momentum − lr·λ)² < 4·momentum. **Diverges**: "
    "past (2 + 2·momentum)/λmax even momentum cannot save the run. The star is the best pair: on a long thin valley "
    "(a large condition number) it is far faster than the best rate without momentum."
)
url, pair_lr, pair_momentum = explore.best_pair_link(values, stab)
st.link_button(f"▶ Watch lr = {pair_lr:g} with momentum {pair_momentum:g} in the playground", url)
