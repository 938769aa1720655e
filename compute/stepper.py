"""The lab's Trainer, kept in the session: one per configuration, advanced by button callbacks.

A reload with the same link starts the same run; the link also carries the step (?step=12), so a shared link
opens at that step.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

import engine
from compute import cache, custom, runs
from settings.controls import BY_KEY

KEY = "lab_trainer"
# The lab writes out one step of plain MSE on every point; a link's test set and weight decay are the playground's
# (its formulas and tables would otherwise sum rows the run does not train on, and miss the decay's term).
PLAIN = {"test_fraction": 0.0, "weight_decay": 0.0}


def set_aside(values: dict) -> list[str]:
    """The link's settings the lab leaves out (PLAIN), by their labels."""
    return [BY_KEY[k].label for k, v in PLAIN.items() if values.get(k, v) != v]


def _config(values: dict, data: engine.Dataset | None) -> tuple[engine.Dataset, engine.Dataset, engine.TrainConfig]:
    """The data and config of the lab's run; `data` is the session's own dataset (None unless "custom")."""
    raw, ds = runs.build_dataset(values, data)
    # one step at a time on small data: the CPU is the right device, and nothing stays on a GPU between clicks
    cfg = dataclasses.replace(runs.build_config(values, ds), device="cpu")
    return raw, ds, cfg


def whole_run(values: dict) -> runs.RunResult:
    """The whole run the lab steps through, the zero_grad switch included (the playground's cached run: its config
    honours the switch): it fixes the figure's axes, so that the picture does not jump between clicks and the
    surface covers the path the page shows."""
    return cache.run(values | PLAIN)


def trainer(values: dict) -> engine.Trainer:
    """The session's trainer for these values; a new one (at step 0, or at ?step= on a fresh link) otherwise."""
    values = values | PLAIN
    raw, ds, cfg = _config(values, custom.for_values(values))
    key = (tuple(sorted(values.items())), custom.fingerprint(custom.for_values(values)))
    held = st.session_state.get(KEY)
    if held is None or held[0] != key:
        t = engine.Trainer(ds, cfg)
        if held is None:  # first visit in this session: honour the step in the link
            try:
                t.run(max(0, min(int(st.query_params.get("step", 0)), t.total_steps)))
            except ValueError:
                pass
        st.session_state[KEY] = (key, t)
    return st.session_state[KEY][1]


def advance(count: int | None) -> None:
    """Button callback: take `count` steps (None: to the end of the run)."""
    held = st.session_state.get(KEY)
    if held is not None:
        held[1].run(count)


def reset() -> None:
    """Button callback: back to step 0 with the same settings."""
    held = st.session_state.get(KEY)
    if held is not None:
        st.session_state[KEY] = (held[0], engine.Trainer(held[1].ds, held[1].cfg))
