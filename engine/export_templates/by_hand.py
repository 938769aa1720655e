"""What the two methods without autograd share: every parameter in one plain tensor `params`, updated by hand.

finite_difference.py and analytic.py differ only in how they get the gradient; the rest is here.
"""

from __future__ import annotations

import torch

from ..config import TrainConfig
from ..data import Dataset
from .notes import no_zero_grad_note, start_note
from .text import comment, fill, float_list

PARAMS = """\
# All the parameters in one plain tensor ($names); no requires_grad: nothing here uses autograd
# $start_note
params = torch.tensor($start)
"""

LOSS_FN = """\
def loss_fn(y_hat, y):
    sq_diff = (y_hat - y) ** 2
    return sq_diff.mean()
"""
MSE_NOTE = "The loss is the mean squared error, `mean((y_hat - y) ** 2)`."

GRAD_SUM = """\
# The zero_grad switch is off: like a forgotten W.grad.zero_(), the gradients pile up in grad_sum
grad_sum = torch.zeros_like(params)
"""
VELOCITY = """\
# Momentum, as torch.optim.SGD computes it: v = momentum * v + grad
# (zero at first, so the first velocity is the gradient itself)
velocity = torch.zeros_like(params)
"""

FORWARD = """\
# 1. Forward pass: predict
y_hat = model($x, params)
# 2. Compute the loss$loss_note
loss = loss_fn(y_hat, $y)
"""
UPDATE = """\
$gradient
$l1_grad
$pile_up
$decay
# 4. Update the parameters
$step
"""
IS_WEIGHT = """\
# The penalties act on the weights, not the bias: is_weight is 1 for each weight and 0 for b
is_weight = torch.tensor($mask)
"""
L1_GRAD = """\
# The L1 penalty's (sub)gradient on the weights, l1 * sign(w), as autograd gives it for l1 * w.abs().sum()
grad = grad + l1 * is_weight * torch.sign(params)
"""
DECAY = """\
# Weight decay, as torch.optim's weight_decay: weight_decay * w added to the weights' gradient
step_grad = $g + weight_decay * is_weight * params
"""
PILE_UP = """\
$why
grad_sum = grad_sum + grad  # no zeroing: the gradients pile up
"""
# The step along g (the gradient, or grad_sum when the gradients pile up), as torch.optim.SGD makes it.
STEPS = {
    "plain": "params = params - learning_rate * $g",
    "momentum": """\
velocity = momentum * velocity + $g
params = params - learning_rate * velocity
""",
    "nesterov": """\
velocity = momentum * velocity + $g
# Nesterov: step along grad + momentum * velocity (.add(..., alpha=) rounds once, as torch.optim.SGD)
params = params - learning_rate * $g.add(velocity, alpha=momentum)
""",
}


def params(ds: Dataset, cfg: TrainConfig, start: torch.Tensor) -> str:
    """The tensor of all the parameters, set to the run's starting point."""
    names = ", ".join(ds.param_names(cfg.fit_bias))
    return fill(PARAMS, names=names, start_note=start_note(cfg), start=float_list(start.tolist()))


def before_loop(ds: Dataset, cfg: TrainConfig) -> str:
    """The running sum of the gradients (zero_grad off) and the velocity (momentum), when the run has them."""
    templates = ([] if cfg.zero_grad else [GRAD_SUM]) + ([VELOCITY] if cfg.uses_momentum else [])
    parts = [fill(template) for template in templates]
    if cfg.regularized:
        mask = [1.0] * ds.d + [0.0] * int(cfg.fit_bias)
        parts.insert(0, fill(IS_WEIGHT, mask=float_list(mask)))
    return "\n".join(parts)


def forward(x: str, y: str, loss_note: str = "") -> str:
    """The forward pass on the data x, y, ending with `loss`."""
    return fill(FORWARD, x=x, y=y, loss_note=loss_note)


def update(ds: Dataset, cfg: TrainConfig, batch: int | None, gradient: str) -> str:
    """`gradient` (lines that compute `grad`), then the update of params by hand."""
    pile_up = ""
    if not cfg.zero_grad:
        why = no_zero_grad_note(ds, cfg, batch, "Each new gradient is added to grad_sum")
        pile_up = fill(PILE_UP, why=comment(why))
    kind = "nesterov" if cfg.uses_nesterov else "momentum" if cfg.uses_momentum else "plain"
    g = "grad" if cfg.zero_grad else "grad_sum"
    decay = fill(DECAY, g=g) if cfg.weight_decay else ""
    step = fill(STEPS[kind], g="step_grad" if cfg.weight_decay else g)
    l1_grad = L1_GRAD if cfg.l1 else ""
    return fill(UPDATE, gradient=gradient, l1_grad=l1_grad, pile_up=pile_up, decay=decay, step=step)


def param_exprs(ds: Dataset, cfg: TrainConfig) -> list[str]:
    """Each parameter as a Python float, in the engine's order (w..., b)."""
    return [f"params[{j}].item()" for j in range(ds.d + int(cfg.fit_bias))]


def collect(cfg: TrainConfig) -> str:
    """The parameters as a list of Python floats in the engine's order (w..., b)."""
    return "params.tolist()"
