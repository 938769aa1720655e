"""Warm-up: run every code path once so the first real request pays no lazy-initialisation cost."""

from __future__ import annotations

from .analysis import loss_surface, stability
from .config import METHODS, TrainConfig
from .data import make_dataset
from .train import train


def warm_up() -> None:
    """Train a few steps with every method, full batch and mini-batch, and touch the analysis code."""
    ds = make_dataset("line", n=20, noise=0.5, seed=0)
    for method in METHODS:
        for batch_size in (None, 4):
            train(ds, TrainConfig(method=method, epochs=2, momentum=0.5, batch_size=batch_size))
    for optimizer in ("adam", "rmsprop", "adagrad"):
        train(ds, TrainConfig(optimizer=optimizer, epochs=2))
    stability(ds)
    loss_surface(ds)
