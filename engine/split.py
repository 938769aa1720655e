"""A held-out test set: a seeded random split of a dataset's rows into training and test rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from .data import Dataset

MAX_TEST_FRACTION = 0.5


def held_out_count(n: int, test_fraction: float) -> int:
    """How many of n rows are held out: round(n * fraction), at least 1 and at most n - 1 when fraction > 0."""
    check_test_fraction(test_fraction)
    if test_fraction == 0:
        return 0
    if n < 2:
        raise ValueError(f"a test set needs at least 2 points (one to train on, one to test), got {n}")
    return min(max(round(n * test_fraction), 1), n - 1)


def check_test_fraction(test_fraction: float) -> None:
    ok = isinstance(test_fraction, (int, float)) and not isinstance(test_fraction, bool)
    if not ok or not 0.0 <= test_fraction <= MAX_TEST_FRACTION:
        raise ValueError(f"the test fraction must be from 0 to {MAX_TEST_FRACTION}, got {test_fraction}")


def split_rows(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, test rows), each ascending: torch.randperm(n) from a generator seeded with `seed`, the first
    round(n * fraction) of it held out. An exported script draws the same permutation."""
    n_test = held_out_count(n, test_fraction)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed)))
    return perm[n_test:].sort().values.numpy(), perm[:n_test].sort().values.numpy()


def split(ds: Dataset, test_fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
    """(train, test): a seeded random split of the rows (test_fraction 0 to 0.5; at least one row on each side
    when it is not 0). The rows keep their order; with fraction 0 the test part is empty and train is ds."""
    train_rows, test_rows = split_rows(ds.n, test_fraction, seed)
    if len(test_rows) == 0:
        return ds, subset(ds, test_rows, "test")
    return subset(ds, train_rows, "training"), subset(ds, test_rows, "test")


def subset(ds: Dataset, rows, what: str) -> Dataset:
    """The dataset restricted to `rows` (a fresh copy), described as its training or test part."""
    idx = torch.as_tensor(np.asarray(rows, dtype=np.int64))
    return replace(
        ds,
        x=ds.x[idx].clone(),
        y=ds.y[idx].clone(),
        description=f"{ds.description or ds.name} ({what} rows: {len(idx)} of {ds.n})",
        source=(),
    )
