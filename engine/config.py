"""TrainConfig: every knob of a run in one frozen, hashable, validated dataclass."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .limits import MAX_EPOCHS
from .split import MAX_TEST_FRACTION

METHODS = ("optimizer", "autograd", "finite-difference", "analytic")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad")
DEVICES = ("auto", "cpu", "cuda", "mps")
INITS = ("zeros", "random")


def takes_momentum(method: str, optimizer: str) -> bool:
    """Momentum applies to plain SGD, in every method, and to torch's RMSprop; Adam and Adagrad have none."""
    return method != "optimizer" or optimizer in ("sgd", "rmsprop")


def takes_nesterov(method: str, optimizer: str) -> bool:
    """Nesterov's form exists for plain SGD only (torch.optim.SGD, and the methods that update by hand)."""
    return method != "optimizer" or optimizer == "sgd"


@dataclass(frozen=True)
class TrainConfig:
    """How to train: gradient method, optimizer, hyperparameters, start, device. Invalid values raise ValueError."""

    method: str = "optimizer"
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    epochs: int = 100
    batch_size: int | None = None
    init: str | tuple[float, ...] = "zeros"
    fit_bias: bool = True
    fd_delta: float = 0.1
    seed: int = 0
    device: str = "cpu"
    zero_grad: bool = True
    # Generalization (all 0 by default, which leaves every run exactly as before):
    test_fraction: float = 0.0  # rows held out as a test set, drawn with `seed` (engine.split): 0 to 0.5
    weight_decay: float = 0.0  # L2 on the weights, not the bias: minimizes MSE + (weight_decay / 2) ||w||^2
    l1: float = 0.0  # L1 on the weights: adds l1 * ||w||_1 to the loss (its subgradient l1 * sign(w) in the update)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.optimizer != "sgd" and self.method != "optimizer":
            raise ValueError(
                f"the {self.optimizer} optimizer needs method='optimizer'; the {self.method} method "
                "updates the parameters by hand with plain SGD (and momentum)"
            )
        if not _finite_number(self.lr) or self.lr <= 0:
            raise ValueError(f"the learning rate must be a positive number, got {self.lr}")
        if not _finite_number(self.momentum) or not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be at least 0 and below 1, got {self.momentum}")
        if self.nesterov and self.momentum == 0:
            raise ValueError("Nesterov momentum needs a momentum above 0")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs must be a whole number from 1 to the cap of {MAX_EPOCHS:,}, got {self.epochs}")
        if self.batch_size is not None and (
            isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1
        ):
            raise ValueError(
                f"batch_size must be a whole number of at least 1 (or None for all points), got {self.batch_size}"
            )
        if isinstance(self.init, str):
            if self.init not in INITS:
                raise ValueError(f"unknown init {self.init!r}; use 'zeros', 'random' or a tuple of numbers")
        else:
            values = tuple(self.init)
            if not values or not all(_finite_number(v) for v in values):
                raise ValueError(f"the starting point must be finite numbers, got {self.init}")
            object.__setattr__(self, "init", tuple(float(v) for v in values))
        if not _finite_number(self.fd_delta) or self.fd_delta <= 0:
            raise ValueError(f"the finite-difference delta must be positive, got {self.fd_delta}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose one of {', '.join(DEVICES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"the seed must be a whole number, got {self.seed}")
        if not _finite_number(self.test_fraction) or not 0.0 <= self.test_fraction <= MAX_TEST_FRACTION:
            raise ValueError(f"the test fraction must be from 0 to {MAX_TEST_FRACTION}, got {self.test_fraction}")
        if not _finite_number(self.weight_decay) or self.weight_decay < 0:
            raise ValueError(f"weight decay must be a number of at least 0, got {self.weight_decay}")
        if not _finite_number(self.l1) or self.l1 < 0:
            raise ValueError(f"the L1 strength must be a number of at least 0, got {self.l1}")

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None

    @property
    def uses_momentum(self) -> bool:
        """Whether the run's updates carry a momentum buffer (a momentum above 0, on an optimizer that has one)."""
        return self.momentum > 0 and takes_momentum(self.method, self.optimizer)

    @property
    def regularized(self) -> bool:
        """Whether a penalty (weight decay or L1) joins the loss."""
        return self.weight_decay > 0 or self.l1 > 0

    @property
    def uses_nesterov(self) -> bool:
        return self.nesterov and self.uses_momentum and takes_nesterov(self.method, self.optimizer)


def _finite_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
