"""Mini-batch noise: the same data and learning rate with single samples, small batches and the full batch."""

import streamlit as st

import components
from compute import explore, explore_cache
from ui import explore_text, widgets

values = widgets.page("Mini-batch noise")
widgets.sidebar(values, explore.shown(values, explore.NOISE_KEYS))

with widgets.or_stop("These runs cannot start", "Training every batch size over several seeds…"):
    result = explore_cache.batch_noise(values)
    player = explore_cache.noise_player(values)

cfg = result.config
st.markdown(
    f"Plain SGD with learning rate {cfg.lr:g}, {cfg.epochs} epochs (passes over all {result.dataset.n} points), "
    "three ways: one point per step, a few points per step, or all of them. A mini-batch's gradient points roughly, "
    "not exactly, downhill, so those paths wander; each batch size ran with "
    f"{explore.NOISE_SEEDS} shuffling seeds, drawn faintly, and the shaded band on the right spans their losses."
)
if result.shortened_from:
    st.info(
        f"Cut to {cfg.epochs} epoch(s) from {result.shortened_from}: with batch size 1 each epoch is "
        f"{result.dataset.n} steps, and {explore.NOISE_SEEDS} seeds of that would keep the server busy.",
        icon="✂️",
    )
components.race_player(player, key="noise_player")

for column, group in zip(st.columns(len(result.groups)), result.groups, strict=True):
    column.metric(
        explore.batch_label(group.batch_size),
        explore_text.noise_final(group),
        help="Final loss on all the data (the median over the seeds that did not diverge)",
    )
    column.caption(explore_text.noise_caption(group))
st.markdown(explore_text.noise_text(result))
