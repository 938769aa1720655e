"""Cached computations shared by every session of the server process.

Runs and figures are cached by their control values (st.cache_data hands each session its own copy, so nothing
a session mutates is shared). Training takes a process-wide lock: torch work from many session threads at once
contends for the same core and makes every student wait longer (see DESIGN.md).
"""

from __future__ import annotations

import threading

import plotly.graph_objects as go
import streamlit as st

import charts

from . import runs

TRAIN_LOCK = threading.Lock()


def _key(values: dict) -> tuple:
    return tuple(sorted(values.items()))


@st.cache_data(max_entries=512, show_spinner=False)
def _run(key: tuple) -> runs.RunResult:
    with TRAIN_LOCK:
        return runs.compute(dict(key))


@st.cache_data(max_entries=128, show_spinner=False)
def _figure(key: tuple) -> go.Figure:
    r = _run(key)
    return charts.playground_figure(r.dataset, r.history, r.surface, r.optimum, r.fit_bias)


def run(values: dict) -> runs.RunResult:
    """The finished run for these control values (ValueError for settings the engine refuses)."""
    return _run(_key(values))


def playground_figure(values: dict) -> go.Figure:
    """The animated playground figure for these control values."""
    return _figure(_key(values))
