"""Feature scaling: the same data raw, times 0.1 and standardized, side by side (one under another on a phone):
tutorial 003's failure explained."""

import streamlit as st

from compute import custom, explore, explore_cache
from settings.controls import DATASET_LABELS, LR_GRID
from ui import explain, explore_text, widgets

st.title("Why scale the inputs?")
st.markdown(
    "Tutorial 003 trains on raw thermometer readings (around 20 to 80) with a learning rate of 0.01, and the loss "
    "blows up within a few steps. Below, the same data three ways: raw, multiplied by 0.1 (as the tutorial's book "
    "does), and standardized (mean 0, standard deviation 1)."
)
options = (*explore.SCALING_DATASETS, *(("custom",) if custom.current() is not None else ()))
top = st.columns(2)
dataset = top[0].selectbox("Data", options, format_func=lambda k: DATASET_LABELS.get(k, k), key="scaling_data")
probe = top[1].select_slider(
    "Learning rate to try on each", options=LR_GRID, value=0.01, format_func=lambda v: f"{v:g}", key="scaling_lr"
)

with widgets.or_stop("This comparison cannot run on these data", "Training…"):
    cases = explore_cache.scaling(dataset, probe)
    figures = explore_cache.scaling_figures(dataset, probe)

st.caption(
    "Each picture: contours of the loss over the two parameters, drawn at the same scale on both axes (darker is "
    "lower). The red path is gradient descent at that version's best learning rate, from the orange ring (the "
    "start) to the star (the least-squares fit). " + explore_text.start_text(cases)
)
for k, (column, case, fig) in enumerate(zip(st.columns(len(cases)), cases, figures, strict=True)):
    with column:
        st.subheader(case.label)
        st.plotly_chart(fig, width="stretch", key=f"scaling_chart_{k}")
        st.metric("Condition number λmax/λmin", explain.num(case.stability.condition_number, 3))
        st.metric("Largest stable learning rate 2/λmax", explain.num(case.stability.max_stable_lr, 3))
        st.metric("Best learning rate 2/(λmin+λmax)", explain.num(case.stability.best_lr, 3))
        st.metric(
            "Steps to converge at that rate",
            explore_text.steps_text(case),
            delta=explore_text.steps_estimate(case),  # under the value: "> 5,000 (about 38,000)" did not fit a column
            delta_color="off",
            delta_arrow="off",
            help="Steps until the extra loss above the best possible is down to 1 % of its start "
            f"(tried up to {case.steps:,} steps; when it did not get there, the line under it estimates how many "
            "it would take, from the rate).",
        )
        st.markdown(explore_text.probe_text(case))

st.markdown(explore_text.scaling_text(cases))
