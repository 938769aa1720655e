"""The "autograd" method's program: raw tensors W and b, loss.backward(), the update by hand (tutorial 001)."""

from __future__ import annotations

import torch

from ..config import TrainConfig
from ..data import Dataset
from .notes import no_zero_grad_note, start_note
from .text import Section, comment, fill, float_list

TITLE = "autograd on raw tensors and gradient descent by hand"
INTRO = (
    "The parameters are plain tensors `W` and `b` with `requires_grad=True`; `loss.backward()` fills `W.grad` "
    "and `b.grad`, and the update is written by hand under `torch.no_grad()` (tutorial 001)."
)
GRADIENT_STEP = "**Backward pass**: `loss.backward()` fills `W.grad` (and `b.grad`)."
DATA, TARGET = "X", "y_true"  # y_true: the targets as a column, like y_hat

MODEL = """\
# The parameters: W (d rows, 1 column)$and_b. requires_grad=True tells autograd to track them.
# $start_note
W = torch.tensor($weight, requires_grad=True)  # shape (d, 1)
$make_b

# The model compares y_hat (one column) with the targets as a column too
y_true = y[:, None]  # shape (n, 1)
"""
MAKE_B = "b = torch.tensor($bias, requires_grad=True)  # shape (1,)"
MODEL_NOTE = (
    "## The parameters\n\n"
    "The model is `y_hat = X @ W$plus_b`, written directly as a matrix product. $are created with "
    "`requires_grad=True` so that autograd records every operation on them."
)

LOSS = """\
# The mean squared error, written out: loss = torch.mean((y_hat - y_true) ** 2)
# (it is computed inside the loop, where autograd records it)
"""
LOSS_NOTE = "## The loss\n\nThe loss is the mean squared error, `mean((y_hat - y) ** 2)`."

VELOCITIES = """\
# Momentum, as torch.optim.SGD computes it: a velocity per parameter, v = momentum * v + grad
# (zero at first, so the first velocity is the gradient itself)
$velocities
"""
VELOCITY = "velocity_$t = torch.zeros_like($t, requires_grad=False)"

FORWARD = """\
# 1. Forward pass: predict
y_hat = $x @ W$plus_b
# 2. Compute the loss
loss = torch.mean((y_hat - $y) ** 2)
$l1_term
"""
UPDATE = """\
# 3. Backward pass: fills W.grad$and_b_grad
loss.backward()
# 4. Update the parameters (no_grad: the update itself is not part of the model)
with torch.no_grad():
    $steps
$zero_grad
"""
# One update of each tensor t (W, then b), as torch.optim.SGD makes it; velocity_t holds its momentum.
STEPS = {
    "plain": "$t -= learning_rate * $g",
    "momentum": "$t -= learning_rate * velocity_$t",
    "nesterov": "$t -= learning_rate * $g.add(velocity_$t, alpha=momentum)",
}
NEW_VELOCITY = "velocity_$t = momentum * velocity_$t + $g"
L1_TERM = "loss = loss + l1 * W.abs().sum()  # the L1 penalty on the weights: backward() adds l1 * sign(W)"
DECAY_NOTE = "# Weight decay on W (not b), as torch.optim's weight_decay: the step uses W.grad + weight_decay * W"
NESTEROV = "# Nesterov: step along grad + momentum * velocity (add with alpha= rounds once, as SGD does)"
ZERO_GRAD = """\
# 5. Zero the gradients, or the next backward() adds to them
$zeros
"""
NO_ZERO_GRAD = """\
# W.grad.zero_() is left out on purpose (the playground's zero_grad switch is off).
$why
"""


def model(ds: Dataset, cfg: TrainConfig, start: torch.Tensor) -> Section:
    """The tensors W (d, 1) and b (1,) with requires_grad=True, set to the run's starting point."""
    code = fill(
        MODEL,
        and_b=" and b" if cfg.fit_bias else "",
        start_note=start_note(cfg),
        weight=float_list([[v] for v in start[: ds.d].tolist()]),
        make_b=fill(MAKE_B, bias=float_list(start[ds.d :].tolist())) if cfg.fit_bias else "",
    )
    note = fill(
        MODEL_NOTE,
        plus_b=" + b" if cfg.fit_bias else "",
        are="`W` and `b` are" if cfg.fit_bias else "`W` is",
    )
    return Section("The model and its parameters", note, code)


def loss(ds: Dataset, cfg: TrainConfig, batch: int | None) -> Section:
    """The mean squared error, written in the loop where autograd records it."""
    return Section("The loss", LOSS_NOTE, fill(LOSS))


def before_loop(ds: Dataset, cfg: TrainConfig) -> str:
    """A velocity per tensor when the run uses momentum ("" otherwise)."""
    if not cfg.uses_momentum:
        return ""
    return fill(VELOCITIES, velocities="\n".join(fill(VELOCITY, t=t) for t in _tensors(cfg)))


def step(ds: Dataset, cfg: TrainConfig, batch: int | None, x: str, y: str) -> tuple[str, str]:
    """One step on the data x, y: the forward pass to `loss`, then backward() and the update under no_grad."""
    tensors = _tensors(cfg)
    kind = "nesterov" if cfg.uses_nesterov else "momentum" if cfg.uses_momentum else "plain"
    g = {t: "(W.grad + weight_decay * W)" if cfg.weight_decay and t == "W" else f"{t}.grad" for t in tensors}
    steps = [DECAY_NOTE] if cfg.weight_decay else []
    steps += [fill(NEW_VELOCITY, t=t, g=g[t]) for t in tensors] if cfg.uses_momentum else []
    steps += [NESTEROV] if kind == "nesterov" else []
    steps += [fill(STEPS[kind], t=t, g=g[t]) for t in tensors]
    if cfg.zero_grad:
        zero_grad = fill(ZERO_GRAD, zeros="\n".join(f"{t}.grad.zero_()" for t in tensors))
    else:
        why = no_zero_grad_note(ds, cfg, batch, "Every backward() adds its gradient to the ones before")
        zero_grad = fill(NO_ZERO_GRAD, why=comment(why))
    forward = fill(FORWARD, x=x, y=y, plus_b=" + b" if cfg.fit_bias else "", l1_term=L1_TERM if cfg.l1 else "")
    update = fill(UPDATE, and_b_grad=" and b.grad" if cfg.fit_bias else "", steps="\n".join(steps), zero_grad=zero_grad)
    return forward, update


def param_exprs(ds: Dataset, cfg: TrainConfig) -> list[str]:
    """Each parameter as a Python float, in the engine's order (w..., b)."""
    weights = ["W.item()"] if ds.d == 1 else [f"W[{j}, 0].item()" for j in range(ds.d)]
    return weights + (["b.item()"] if cfg.fit_bias else [])


def collect(cfg: TrainConfig) -> str:
    """The parameters as a list of Python floats in the engine's order (w..., b)."""
    return "W.detach().flatten().tolist()" + (" + b.detach().tolist()" if cfg.fit_bias else "")


def _tensors(cfg: TrainConfig) -> list[str]:
    return ["W", "b"] if cfg.fit_bias else ["W"]
