"""An optimizer race: SGD, momentum, Nesterov, Adam, RMSprop and Adagrad from one start on one loss surface.

Each racer has a fair default learning rate and can be tuned: a short run at each of a few rates around the
default, the lowest final loss wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .analysis import Quadratic, Stability, stability
from .config import TrainConfig
from .data import Dataset
from .train import History, train

FIRST_STEP = 0.1  # the adaptive optimizers' default rates move every parameter by about this much in step one
TUNE_STEPS = 100  # the longest tuning run
TUNE_SPREAD = 10**1.5  # candidates from default / spread to default * spread


@dataclass(frozen=True)
class Racer:
    """One contestant: a torch.optim optimizer and its settings; the learning rate is chosen separately."""

    name: str
    optimizer: str
    momentum: float = 0.0
    nesterov: bool = False

    @property
    def adaptive(self) -> bool:
        return self.optimizer != "sgd"

    def default_lr(self, stab: Stability) -> float:
        """A fair starting rate. SGD and its momentum variants: an effective step lr / (1 - momentum) of half the
        stability limit, 1 / lambda_max. Adam and Adagrad move each parameter by about lr in their first step,
        RMSprop (smoothing 0.99) by about 10 lr: all three get a first step of FIRST_STEP."""
        if self.adaptive:
            return FIRST_STEP / 10.0 if self.optimizer == "rmsprop" else FIRST_STEP
        lmax = float(stab.eigenvalues[-1])
        return (1.0 - self.momentum) / lmax if lmax > 0 else FIRST_STEP

    def config(self, lr: float, steps: int, init, fit_bias: bool = True) -> TrainConfig:
        """Full-batch training with this optimizer through torch.optim, as tutorials 000 and 002 do."""
        return TrainConfig(
            method="optimizer",
            optimizer=self.optimizer,
            lr=float(lr),
            momentum=self.momentum,
            nesterov=self.nesterov,
            epochs=int(steps),
            init=tuple(float(v) for v in init),
            fit_bias=fit_bias,
        )


RACERS: tuple[Racer, ...] = (
    Racer("SGD", "sgd"),
    Racer("Momentum 0.9", "sgd", momentum=0.9),
    Racer("Nesterov 0.9", "sgd", momentum=0.9, nesterov=True),
    Racer("Adam", "adam"),
    Racer("RMSprop", "rmsprop"),
    Racer("Adagrad", "adagrad"),
)


@dataclass(frozen=True, eq=False)
class Tuning:
    """The candidates tried for one racer, the final loss of each (inf when it diverged) and the winner."""

    candidates: np.ndarray
    final_loss: np.ndarray
    lr: float


def tune_lr(
    ds: Dataset, racer: Racer, init, steps: int, fit_bias: bool = True, count: int = 9, spread: float = TUNE_SPREAD
) -> Tuning:
    """Try `count` rates on a log grid from default / spread to default * spread, a short run each (at most
    TUNE_STEPS steps); the lowest final loss wins. Runs that all reach the optimum to rounding are told apart by
    how fast they got there (the smaller sum of the excess loss)."""
    if count < 1 or not spread >= 1:
        raise ValueError("give at least one candidate and a spread of at least 1")
    default = racer.default_lr(stability(ds, fit_bias))
    candidates = default * np.geomspace(1.0 / spread, spread, count)
    short = max(1, min(int(steps), TUNE_STEPS))
    min_loss = Quadratic.of(ds, fit_bias).min_loss
    finals, keys = [], []
    for lr in candidates:
        h = train(ds, racer.config(lr, short, init, fit_bias))
        excess = h.loss - min_loss
        floor = 1e-7 * max(float(excess[0]), 1e-30)  # float32 rounding: below this every run ties
        if h.diverged or h.steps < short:
            finals.append(math.inf)
            keys.append((math.inf, math.inf))
            continue
        finals.append(float(h.final_loss))
        keys.append((max(float(excess[-1]), floor), float(np.sum(np.maximum(excess, floor)))))
    best = min(range(count), key=lambda i: keys[i])
    return Tuning(candidates, np.array(finals), float(candidates[best]))


def run_race(ds: Dataset, lrs, init, steps: int, fit_bias: bool = True, racers=RACERS) -> list[History]:
    """Every racer from the same start for the same number of full-batch steps, each at its own rate."""
    if len(lrs) != len(racers):
        raise ValueError(f"give one learning rate per racer ({len(racers)}), got {len(lrs)}")
    return [train(ds, r.config(lr, steps, init, fit_bias)) for r, lr in zip(racers, lrs, strict=True)]
