"""Long runs hold the process-wide training lock a chunk at a time, and still give train()'s exact numbers."""

import math
import threading

import numpy as np

import engine
from compute import runs


class CountingLock:
    def __init__(self):
        self.lock, self.acquired = threading.Lock(), 0

    def __enter__(self):
        self.lock.acquire()
        self.acquired += 1

    def __exit__(self, *exc):
        self.lock.release()


def test_chunked_training_equals_train_and_lets_go_of_the_lock():
    ds = engine.make_dataset("line", n=40, noise=0.5, seed=2)
    cfg = engine.TrainConfig(lr=0.02, momentum=0.5, epochs=400, batch_size=8, seed=3)
    lock = CountingLock()
    history = runs.train_fairly(ds, cfg, lock)
    np.testing.assert_array_equal(history.params, engine.train(ds, cfg).params)
    assert lock.acquired == math.ceil(400 * 5 / runs.CHUNK_STEPS)
    assert not lock.lock.locked()


def test_a_diverging_run_stops_early_under_the_lock():
    ds = engine.make_dataset("line", n=40)
    lock = CountingLock()
    history = runs.train_fairly(ds, engine.TrainConfig(lr=5.0, epochs=3000), lock)
    assert history.diverged and lock.acquired == 1
