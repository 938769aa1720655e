"""The "analytic" method's program: no autograd, the gradient of the MSE worked out on paper (closed form)."""

from __future__ import annotations

import torch

from ..config import TrainConfig
from ..data import Dataset
from . import by_hand
from .text import Section, fill

TITLE = "the gradient worked out on paper (closed form)"
INTRO = (
    "No autograd at all: the gradient of the mean squared error is worked out on paper, "
    "`grad = 2/n * Xa.T @ (Xa @ params - y)`, and computed with plain tensor operations."
)
GRADIENT_STEP = "**Gradient**: evaluate the formula worked out on paper."
DATA, TARGET = "Xa", "y"  # Xa: X with a column of ones for the bias

MODEL = {  # with a bias, and without
    True: '''\
$params


def model(Xa, params):
    """y_hat = X @ w + b, written as one product: Xa is X with a column of ones for b."""
    return Xa @ params


Xa = torch.cat([X, torch.ones(n, 1)], dim=1)  # shape (n, d + 1): the last column is for b
''',
    False: '''\
$params


def model(Xa, params):
    """The model: y_hat = X @ w."""
    return Xa @ params


Xa = X  # no bias: the design matrix is X itself
''',
}
MODEL_NOTE = {
    True: (
        "## The model and its parameters\n\n"
        "The model is `y_hat = Xa @ params`: `Xa` is `X` with a column of ones appended, so the last "
        "parameter acts as the bias."
    ),
    False: "## The model and its parameters\n\nThe model is `y_hat = X @ w`, with no bias.",
}

LOSS = """\
$loss_fn


$grad_fn
"""
# Full batch: the gradient from two products with the data, computed once.
GRAD_FN_FULL = '''\
# The gradient of the MSE, worked out on paper: grad = 2/n * Xa.T @ (Xa @ params - y).
# Multiplied out it is 2/n * (Xa.T @ Xa) @ params - 2/n * Xa.T @ y: the two products with the data are
# computed once, before training (in float64, for accuracy), so a step costs the same for 10 points or
# a million.
Xa64 = Xa.double()
XtX = Xa64.T @ Xa64 * (2.0 / n)
Xty = Xa64.T @ y.double() * (2.0 / n)


def grad_fn(params):
    """2/n * Xa.T @ (Xa @ params - y), from the two products above; back to float32 like params."""
    return (XtX @ params.double() - Xty).float()
'''
# Mini-batches: the formula on each batch's points.
GRAD_FN_BATCH = '''\
def grad_fn(Xa, y, params):
    """The gradient of the MSE worked out on paper: 2/n * Xa.T @ (Xa @ params - y), n points in Xa."""
    residual = Xa @ params - y
    return Xa.T @ residual * (2.0 / len(y))
'''
LOSS_NOTE = (
    "## The loss and its gradient\n\n$mse Its gradient follows from calculus: "
    "`d loss / d params = 2/n * Xa.T @ (Xa @ params - y)`."
)

LOSS_ONLY_TO_WATCH = " (here only to watch the progress: the gradient below does not use it)"
GRADIENT_FULL = """\
# 3. Gradient from the formula
grad = grad_fn(params)
"""
GRADIENT_BATCH = """\
# 3. Gradient from the formula, on the batch
grad = grad_fn($x, $y, params)
"""


def model(ds: Dataset, cfg: TrainConfig, start: torch.Tensor) -> Section:
    """The parameters' tensor, the model as one product, and Xa (X with a column of ones for the bias)."""
    code = fill(MODEL[cfg.fit_bias], params=by_hand.params(ds, cfg, start))
    return Section("The model and its parameters", MODEL_NOTE[cfg.fit_bias], code)


def loss(ds: Dataset, cfg: TrainConfig, batch: int | None) -> Section:
    """The loss function and the gradient's formula (on all the data, or on a batch)."""
    code = fill(LOSS, loss_fn=by_hand.LOSS_FN, grad_fn=GRAD_FN_FULL if batch is None else GRAD_FN_BATCH)
    return Section("The loss and its gradient", fill(LOSS_NOTE, mse=by_hand.MSE_NOTE), code)


def step(ds: Dataset, cfg: TrainConfig, batch: int | None, x: str, y: str) -> tuple[str, str]:
    """One step on the data x, y: the forward pass to `loss`, then the gradient and the update by hand."""
    gradient = GRADIENT_FULL if batch is None else fill(GRADIENT_BATCH, x=x, y=y)
    return by_hand.forward(x, y, LOSS_ONLY_TO_WATCH), by_hand.update(ds, cfg, batch, gradient)


before_loop = by_hand.before_loop
param_exprs = by_hand.param_exprs
collect = by_hand.collect
