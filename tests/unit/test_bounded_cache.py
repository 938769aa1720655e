"""server.bounded_cache: a least-recently-used cache that never holds more than its budget of pickled bytes, and hands
out copies; the runs' cache is one, with its budget from the environment."""

import pickle
import threading
import time

import numpy as np
import pytest

from compute import cache, explore_cache
from server import bounded_cache
from server.bounded_cache import BoundedCache
from settings import controls


def _blob(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.uint8)


def test_the_total_stays_within_the_budget_and_the_least_recently_used_go_first():
    size = len(pickle.dumps(_blob(1000), protocol=pickle.HIGHEST_PROTOCOL))
    c = BoundedCache(budget=3 * size)
    calls = []

    def make(key):
        calls.append(key)
        return _blob(1000)

    for key in "abc":
        c.get(key, lambda k=key: make(k))
    c.get("a", lambda: make("a"))  # a hit: "a" is now the most recent
    c.get("d", lambda: make("d"))  # over budget: "b", the least recently used, goes
    assert calls == ["a", "b", "c", "d"] and len(c) == 3 and c.size <= c.budget
    c.get("b", lambda: make("b"))
    assert calls[-1] == "b" and c.size <= c.budget
    c.get("d", lambda: make("d"))
    assert calls[-1] == "b"  # "d" was still there


def test_hits_are_copies_and_a_value_over_the_budget_is_not_kept():
    c = BoundedCache(budget=10_000)
    first = c.get("k", lambda: [1, 2, 3])
    first.append(4)  # what one session does to its copy
    assert c.get("k", lambda: None) == [1, 2, 3]
    big = c.get("big", lambda: _blob(50_000))
    assert len(big) == 50_000 and len(c) == 1 and c.size <= c.budget


def test_a_peek_computes_nothing_and_hands_out_a_copy():
    c = BoundedCache(budget=10_000)
    assert c.peek("k") is None and len(c) == 0
    c.get("k", lambda: [1, 2])
    c.peek("k").append(3)
    assert c.peek("k") == [1, 2]


def test_a_key_being_computed_is_waited_for_not_computed_twice():
    c = BoundedCache(budget=10_000)
    started, release, calls, got = threading.Event(), threading.Event(), [], []

    def slow():
        calls.append("slow")
        started.set()
        release.wait(5)
        return [1, 2]

    first = threading.Thread(target=lambda: got.append(c.get("k", slow)))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: got.append(c.get("k", lambda: calls.append("again") or [9])))
    second.start()
    time.sleep(0.05)  # the second caller is waiting, not computing
    assert calls == ["slow"] and second.is_alive()
    assert c.get("other", lambda: [3]) == [3]  # another key is served meanwhile
    release.set()
    first.join(5)
    second.join(5)
    assert calls == ["slow"] and got == [[1, 2], [1, 2]] and got[0] is not got[1]


def test_a_failed_computation_leaves_the_key_to_the_next_caller():
    c = BoundedCache(budget=10_000)
    started, release = threading.Event(), threading.Event()
    errors = []

    def fails():
        started.set()
        release.wait(5)
        raise ValueError("refused")

    def first():
        try:
            c.get("k", fails)
        except ValueError as exc:
            errors.append(str(exc))

    t = threading.Thread(target=first)
    t.start()
    started.wait(5)
    waiter = []
    w = threading.Thread(target=lambda: waiter.append(c.get("k", lambda: "computed by the waiter")))
    w.start()
    release.set()
    t.join(5)
    w.join(5)
    assert errors == ["refused"] and waiter == ["computed by the waiter"]
    assert c.get("k", lambda: "not again") == "computed by the waiter"


@pytest.mark.parametrize("raw, ok", [("64", 64_000_000), ("0.5", None), ("lots", None), (" 300 ", 300_000_000)])
def test_the_budget_comes_from_the_environment_with_a_plain_message(raw, ok):
    if ok is None:
        with pytest.raises(ValueError, match=bounded_cache.ENV):
            bounded_cache.budget_from_env({bounded_cache.ENV: raw})
    else:
        assert bounded_cache.budget_from_env({bounded_cache.ENV: raw}) == ok
    assert bounded_cache.budget_from_env({}) == bounded_cache.DEFAULT_MB * 1_000_000


def test_the_runs_cache_keeps_runs_and_hands_out_equal_copies():
    values = controls.defaults() | {"epochs": 7}
    a, b = cache.run(values), cache.run(values)
    assert a is not b
    np.testing.assert_array_equal(a.history.params, b.history.params)
    assert cache.RUNS.size <= cache.RUNS.budget


def test_the_explorer_caches_are_bounded_by_memory_and_hand_out_copies(monkeypatch):
    monkeypatch.setattr(explore_cache, "RESULTS", bounded_cache.BoundedCache(60_000))
    values = controls.defaults() | {"epochs": 20}
    a, b = explore_cache.lr_sweep(values), explore_cache.lr_sweep(values)
    assert a[0] is not b[0]
    np.testing.assert_array_equal(a[0].loss, b[0].loss)
    for epochs in (21, 22, 23, 24, 25, 26):  # more than 60 kB of sweeps and figures: the oldest go
        explore_cache.lr_sweep(values | {"epochs": epochs})
        explore_cache.sweep_figure(values | {"epochs": epochs})
    assert 0 < explore_cache.RESULTS.size <= 60_000
    assert len(explore_cache.RESULTS) < 13  # 13 were asked for
