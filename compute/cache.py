"""Cached computations shared by every session of the server process.

Runs are cached by their control values within a memory budget (server/bounded_cache.py hands each session a copy of
its own, so nothing a session mutates is shared), each with its live figure's payload: the run, its two ladders of
runs and their surface come from one call to a worker process (server/worker.py). Where they are computed in the
server's own threads (workers off, or a worker that died), the torch work takes a process-wide lock: torch work from
many session threads at once contends for the same core and makes every student wait longer (docs/performance.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping

from compute import custom, live, runs
from server import worker
from server.bounded_cache import BoundedCache, budget_from_env

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


RUNS = BoundedCache(
    budget_from_env()
)  # a run and its live figure, kept within a memory budget (server/bounded_cache.py)


def _run(key: str, data_id: str, _data) -> tuple[runs.RunResult, dict]:
    # _data (the session's own dataset, or None) is not part of the key: data_id, its fingerprint, stands for it
    values = _values(key)
    return RUNS.get(
        (key, data_id), lambda: worker.run(live.build, values, _data, lock=TRAIN_LOCK, long=_long(values, _data))
    )


def run(values: dict) -> runs.RunResult:
    """The finished run for these control values (ValueError for settings the engine refuses)."""
    data = custom.for_values(values)
    return _run(_key(values), custom.fingerprint(data), data)[0]


def live_first(values: dict) -> dict | None:
    """For built-in data: the live figure's payload as the cache holds it, else computed from its ladders alone
    (live.first: about 4 of the whole's 11 ms, the page's own run not trained), None where no ladder stands for
    the run. What the route answers a figure that draws the run at once (components/live_route.py); not cached:
    the whole, asked for next, computes the run itself."""
    key = _key(values)
    held = RUNS.peek((key, custom.fingerprint(None)))
    if held is not None:
        return live.with_settings(held[1], values, {})
    part = worker.run(live.first, values, lock=TRAIN_LOCK, long=_long(values, None))
    return None if part is None else live.with_settings(part, values, {})


def live_figure(values: dict, controls: dict[str, str]) -> dict:
    """The live figure's payload for these control values (its run, its ladders of runs, its surface), with the
    figure's controls as the teacher's link leaves them (live.with_settings)."""
    data = custom.for_values(values)
    return live.with_settings(_run(_key(values), custom.fingerprint(data), data)[1], values, controls)
