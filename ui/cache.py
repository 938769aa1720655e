"""Cached computations shared by every session of the server process.

Runs and figures are cached by their control values (st.cache_data hands each session its own copy, so nothing
a session mutates is shared). The runs and families are computed in a worker process (ui/worker.py); a new run's
learning-rate family comes back with it the first time it is computed and is kept in the family cache, so a move
makes one call to the worker. Where they are computed in the server's own threads (workers off, or a worker that
died), the torch work takes a process-wide lock: torch work from many session threads at once contends for the
same core and makes every student wait longer (see DESIGN.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping

import streamlit as st

import charts

from . import custom, family, runs, worker

TRAIN_LOCK = threading.Lock()


def _key(values: Mapping) -> str:
    """A cache key for control values: one JSON string with sorted keys. Streamlit hashes a string in one go; a
    tuple of ~25 (name, value) pairs took it about 2 ms, on every cached call of every rerun."""
    return json.dumps(dict(values), sort_keys=True)


def _values(key: str) -> dict:
    """The control values back from their cache key."""
    return json.loads(key)


def _long(values: Mapping, data) -> bool:
    return runs.planned_steps(values, data) > worker.LONG_STEPS


def takes_long(values: dict) -> bool:
    """Whether this run goes to the queue of long runs: the one kind worth a spinner (st.spinner shows its words
    after half a second, and starts a timer thread on every rerun to do so; a short run is done before that)."""
    return _long(values, custom.for_values(values))


@st.cache_data(max_entries=512, show_spinner=False)
def _run(key: str, data_id: str, _data) -> runs.RunResult:
    # _data (the session's own dataset, or None) is not hashed: data_id, its fingerprint, stands for it
    values = _values(key)
    long = _long(values, _data)
    result, computed = worker.run(family.run_with_family, values, _data, data_id, lock=TRAIN_LOCK, long=long)
    if computed is not None:  # the learning-rate family came with the run: kept for the run's figure and the chart
        _family(_key(family.anchor(values, "lr")), "lr", data_id, _data, _computed=computed)
    return result


@st.cache_data(max_entries=128, show_spinner=False)
def _figure(key: str, data_id: str, _data) -> dict:
    # Figures are cached as their Plotly JSON dicts: a cache hit unpickles one (0.3 ms for the playground's) where
    # parsing its JSON text took 0.7 ms, and each session still gets a copy of its own.
    r = _run(key, data_id, _data)
    values = _values(key)
    shared = None
    if not family.unavailable(values):  # the learning-rate family's panel: the same for every learning rate
        shared = _family(_key(family.anchor(values, "lr")), "lr", data_id, _data).surface
    surface = family.backdrop(r, shared)
    return charts.playground_figure(r.dataset, r.history, surface, r.optimum, r.fit_bias)


def run(values: dict) -> runs.RunResult:
    """The finished run for these control values (ValueError for settings the engine refuses)."""
    data = custom.for_values(values)
    return _run(_key(values), custom.fingerprint(data), data)


def playground_figure(values: dict) -> charts.Prebuilt:
    """The animated playground figure for these control values, ready for st.plotly_chart."""
    data = custom.for_values(values)
    return charts.Prebuilt(_figure(_key(values), custom.fingerprint(data), data))


@st.cache_data(max_entries=128, show_spinner=False)
def _family(key: str, setting: str, data_id: str, _data, _computed: charts.Family | None = None) -> charts.Family:
    if _computed is not None:  # computed on the way (_run): kept as the family of this key
        return _computed
    values = _values(key)
    long = int(values["epochs"]) > worker.LONG_STEPS
    return worker.run(family.build, values, setting, _data, lock=TRAIN_LOCK, long=long)


@st.cache_data(max_entries=128, show_spinner=False)
def _family_figure(key: str, setting: str, data_id: str, _data) -> dict:
    return charts.family_figure(_family(key, setting, data_id, _data))


def family_figure(values: dict, setting: str) -> charts.Prebuilt:
    """The family of runs along `setting` ("lr" or "momentum"), its slider at the page's own value. Moving that
    value on the page reuses the cached family: only the slider's start changes."""
    data = custom.for_values(values)
    spec = _family_figure(_key(family.anchor(values, setting)), setting, custom.fingerprint(data), data)
    start = family.ladder(setting, float(values[setting])).index(float(values[setting]))
    return charts.Prebuilt(charts.pick(spec, start))
