"""The "finite-difference" method's program: no autograd, each partial derivative by a central difference
(tutorial 003)."""

from __future__ import annotations

import torch

from ..config import TrainConfig
from ..data import Dataset
from . import by_hand
from .text import Section, fill

TITLE = "numerical derivatives (central finite differences)"
INTRO = (
    "No autograd at all: each partial derivative of the loss is estimated by nudging one parameter a little "
    "up and a little down and comparing the two losses, a central difference (tutorial 003)."
)
GRADIENT_STEP = "**Gradient**: estimate each partial derivative with a central difference."
DATA, TARGET = "X", "y"  # what the loop feeds the model

MODEL = {  # with a bias, and without
    True: '''\
$params


def model(X, params):
    """The linear model: y_hat = X @ w + b."""
    return X @ params[:d] + params[d]
''',
    False: '''\
$params


def model(X, params):
    """The model: y_hat = X @ w."""
    return X @ params
''',
}
MODEL_NOTE = (
    "## The model and its parameters\n\n"
    "As in tutorial 003, the model is a plain function of the inputs and a vector of parameters."
)

LOSS = '''\
$loss_fn


delta = $delta  # how far to nudge each parameter


def grad_fn(X, y, params):
    """Each partial derivative by a central difference, as tutorial 003 computes it."""
    grad = torch.zeros_like(params)
    for j in range(len(params)):
        step = torch.zeros_like(params)
        step[j] = delta  # nudge parameter j only
        loss_plus = loss_fn(model(X, params + step), y)
        loss_minus = loss_fn(model(X, params - step), y)
        grad[j] = (loss_plus - loss_minus) / (2.0 * delta)
    return grad
'''
LOSS_NOTE = (
    "## The loss and its gradient\n\n$mse Its gradient is estimated without autograd: for each "
    "parameter, the slope between the loss a little above and a little below, "
    "`(loss(p + delta) - loss(p - delta)) / (2 * delta)`. For this quadratic loss that slope is exact, "
    "up to float32 rounding."
)

GRADIENT = """\
# 3. Gradient by central differences
grad = grad_fn($x, $y, params)
"""


def model(ds: Dataset, cfg: TrainConfig, start: torch.Tensor) -> Section:
    """The parameters' tensor and the model as a plain function of X and params."""
    code = fill(MODEL[cfg.fit_bias], params=by_hand.params(ds, cfg, start))
    return Section("The model and its parameters", MODEL_NOTE, code)


def loss(ds: Dataset, cfg: TrainConfig, batch: int | None) -> Section:
    """The loss function and its gradient by central differences."""
    code = fill(LOSS, loss_fn=by_hand.LOSS_FN, delta=repr(cfg.fd_delta))
    return Section("The loss and its gradient", fill(LOSS_NOTE, mse=by_hand.MSE_NOTE), code)


def step(ds: Dataset, cfg: TrainConfig, batch: int | None, x: str, y: str) -> tuple[str, str]:
    """One step on the data x, y: the forward pass to `loss`, then the gradient and the update by hand."""
    return by_hand.forward(x, y), by_hand.update(ds, cfg, batch, fill(GRADIENT, x=x, y=y))


before_loop = by_hand.before_loop
param_exprs = by_hand.param_exprs
collect = by_hand.collect
