"""A least-recently-used cache bounded by the bytes it holds, for the runs a class server keeps.

st.cache_data bounds a cache by its number of entries only: 512 runs of up to ~2.3 MB each (a 5,000-epoch run with
its live figure's ladders) could hold more than a gigabyte, past a Kubernetes pod's 2 Gi limit. This keeps each
value pickled (what st.cache_data does too: every session gets a copy of its own, so nothing one session mutates is
shared) and drops the least recently used ones once their total passes the budget.
"""

from __future__ import annotations

import collections
import os
import pickle
import threading
from collections.abc import Callable, Hashable
from typing import Any

ENV = "PLAYGROUND_CACHE_MB"  # the runs' cache budget per server process, in MB
DEFAULT_MB = 256


def budget_from_env(env=os.environ) -> int:
    """The budget in bytes: PLAYGROUND_CACHE_MB, or DEFAULT_MB; ValueError in plain words for a bad value."""
    raw = env.get(ENV, str(DEFAULT_MB)).strip()
    try:
        mb = float(raw)
    except ValueError:
        raise ValueError(f"{ENV} must be a number of megabytes, got {raw!r}") from None
    if not mb >= 1:
        raise ValueError(f"{ENV} must be at least 1 (MB), got {raw!r}")
    return int(mb * 1_000_000)


class BoundedCache:
    """key -> pickled value, least recently used first out, at most `budget` bytes of pickles in all (a value
    bigger than the budget is returned but not kept)."""

    def __init__(self, budget: int):
        self.budget = budget
        self.size = 0
        self._items: collections.OrderedDict[Hashable, bytes] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Event] = {}  # keys a thread is computing now

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """A copy of the cached value for `key`, or compute() (kept for next time, within the budget). A key that
        another thread is computing now is waited for, not computed twice: a sidebar's move asks for the same new
        run twice at once, the page's rerun and the live figure's route (components/live_route.py)."""
        while True:
            with self._lock:
                blob = self._items.get(key)
                if blob is not None:
                    self._items.move_to_end(key)
                else:
                    busy = self._computing.get(key)
                    if busy is None:  # this thread computes it
                        mine = self._computing[key] = threading.Event()
            if blob is not None:
                return pickle.loads(blob)
            if busy is None:
                break
            busy.wait()  # then it is in, or that computation failed or was too big to keep: look again
        try:
            value = compute()  # outside the lock: other keys are served meanwhile
            blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            if len(blob) <= self.budget:
                with self._lock:
                    old = self._items.pop(key, None)
                    self.size -= len(old) if old is not None else 0
                    self._items[key] = blob
                    self.size += len(blob)
                    while self.size > self.budget:
                        _, dropped = self._items.popitem(last=False)
                        self.size -= len(dropped)
        finally:
            with self._lock:
                self._computing.pop(key, None)
            mine.set()
        return pickle.loads(blob)  # a copy, as a cache hit would give: the caller owns it

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def peek(self, key: Hashable) -> Any | None:
        """A copy of the cached value for `key`, or None when it is not in (nothing is computed, nor waited for)."""
        with self._lock:
            blob = self._items.get(key)
            if blob is not None:
                self._items.move_to_end(key)
        return None if blob is None else pickle.loads(blob)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0
