"""Optimizer race: six torch.optim optimizers from one start on one loss surface, played together in the browser."""

import streamlit as st

import components
from compute import explore, explore_cache
from engine.race import FIRST_STEP, TUNE_SPREAD
from ui import explore_text, widgets

values = widgets.page("Optimizer race")
widgets.sidebar(values, explore.shown(values, explore.SWEEP_KEYS))

mode = st.radio(
    "Learning rates",
    ("fair defaults", "tuned"),
    horizontal=True,
    key="race_mode",
    help="Tuned: each optimizer tries 9 learning rates around its default in a short run and keeps the one that "
    "ends with the lowest loss.",
)
tuned = mode == "tuned"
with widgets.or_stop("The race cannot start on these settings", "Tuning six optimizers…" if tuned else "Racing…"):
    result = explore_cache.race(values, tuned)
    player = explore_cache.race_player(values, tuned)

st.markdown(explore_text.race_intro(result))
if result.shortened_from:
    st.info(f"The race runs at most {explore.RACE_MAX_STEPS:,} steps (asked for {result.shortened_from:,}).", icon="✂️")
components.race_player(player, key="race_player")
st.dataframe(explore_text.race_table(result), hide_index=True, width="stretch")
if tuned:
    st.caption(
        f"Tuned: each optimizer tried 9 learning rates from its default ÷{TUNE_SPREAD:.0f} to ×{TUNE_SPREAD:.0f} "
        "(a run of at most 100 steps each) and kept the one with the lowest final loss."
    )
else:
    st.caption(
        "Fair defaults: SGD takes half the largest stable rate (1/λmax); the momentum versions take a tenth of that, "
        "because momentum adds up about ten steps' worth (1/(1 − 0.9)). Adam, RMSprop and Adagrad move each "
        f"parameter by about {FIRST_STEP:g} on their first step, whatever the gradient's size."
    )
with st.expander("Why do they differ?", expanded=True):
    st.markdown(explore_text.race_notes(result))
