"""The "optimizer" method's program: torch.nn.Linear, torch.nn.MSELoss and a torch.optim optimizer
(tutorials 000 and 002)."""

from __future__ import annotations

import torch

from ..config import TrainConfig
from ..data import Dataset
from .notes import no_zero_grad_note, start_note
from .text import Section, comment, fill, float_list

TITLE = "torch.nn.Linear, torch.nn.MSELoss and a torch.optim optimizer"
INTRO = (
    "The model is a `torch.nn.Linear` layer, the loss is `torch.nn.MSELoss`, `loss.backward()` computes the "
    "gradient and the optimizer from `torch.optim` makes the update (tutorials 000 and 002)."
)
GRADIENT_STEP = "**Backward pass**: `loss.backward()` computes the gradient of the loss for every parameter."
DATA, TARGET = "X", "y"  # what the loop feeds the model

MODEL = """\
# The model y_hat = X @ w + b is one linear layer: d inputs, 1 output$no_bias
model = torch.nn.Linear(d, 1, bias=$fit_bias)
# $start_note
with torch.no_grad():
    model.weight.copy_(torch.tensor([$weight]))  # shape (1, d)
    $set_bias
"""
SET_BIAS = "model.bias.copy_(torch.tensor($bias))  # shape (1,)"
MODEL_NOTE = (
    "## The model and its parameters\n\n"
    "`torch.nn.Linear(d, 1)` computes `y_hat = X @ weight.T + bias`; its weight and bias are the "
    "parameters we learn. They start where the playground's run started."
)

LOSS = "loss_fn = torch.nn.MSELoss()  # mean((y_hat - y) ** 2)"
LOSS_NOTE = "## The loss\n\nThe loss is the mean squared error, `mean((y_hat - y) ** 2)`."

# The optimizer exactly as engine.train.make_optimizer builds it; the comments say what torch.optim computes.
OPTIMIZERS = {
    "sgd": """\
# The optimizer updates model.parameters() (weight, then bias) with stochastic gradient descent
optimizer = torch.optim.SGD($params, lr=learning_rate$momentum)
""",
    "adam": """\
# Adam keeps decaying averages of the gradients (m = 0.9 * m + 0.1 * grad) and of their squares
# (v = 0.999 * v + 0.001 * grad ** 2), corrects both for starting at zero, and steps by
# lr * m_hat / (sqrt(v_hat) + 1e-8)
optimizer = torch.optim.Adam($params, lr=learning_rate)
""",
    "rmsprop": """\
# RMSprop divides the gradient by the square root of a decaying average of the squared gradients
# (square_avg = 0.99 * square_avg + 0.01 * grad ** 2; step lr * grad / (sqrt(square_avg) + 1e-8))
$with_momentum
optimizer = torch.optim.RMSprop($params, lr=learning_rate$momentum)
""",
    "adagrad": """\
# Adagrad divides the gradient by the square root of the sum of ALL the squared gradients so far
# (an all-time total that never decays, torch's state_sum): lr / sqrt(state_sum) only shrinks
optimizer = torch.optim.Adagrad($params, lr=learning_rate)
""",
}
PARAM_GROUPS = """\
# Weight decay on the weights only: two parameter groups, so that torch.optim's weight_decay (which adds
# weight_decay * p to each parameter's gradient in step()) leaves the bias alone
param_groups = [
    {"params": [model.weight], "weight_decay": weight_decay},
    $bias_group
]
"""
BIAS_GROUP = '{"params": [model.bias], "weight_decay": 0.0},'
L1_TERM = "loss = loss + l1 * model.weight.abs().sum()  # the L1 penalty on the weights: backward() adds l1 * sign(w)"
RMSPROP_MOMENTUM = "# With momentum it steps along buf = momentum * buf + that scaled gradient"

FORWARD = """\
# 1. Forward pass: predict (the layer gives shape (n, 1); squeeze to (n,) like y)
y_hat = model($x).squeeze(1)
# 2. Compute the loss
loss = loss_fn(y_hat, $y)
$l1_term
"""
UPDATE = """\
# 3. Backward pass: fills .grad of every parameter
loss.backward()
# 4. Update the parameters
optimizer.step()
$zero_grad
"""
ZERO_GRAD = "optimizer.zero_grad()  # clear the gradients, or the next backward() adds to them"
NO_ZERO_GRAD = """\
# optimizer.zero_grad() is left out on purpose (the playground's zero_grad switch is off).
$why
"""


def model(ds: Dataset, cfg: TrainConfig, start: torch.Tensor) -> Section:
    """A torch.nn.Linear layer whose weight and bias are set to the run's starting point."""
    code = fill(
        MODEL,
        no_bias="" if cfg.fit_bias else ", no bias",
        fit_bias=cfg.fit_bias,
        start_note=start_note(cfg),
        weight=float_list(start[: ds.d].tolist()),
        set_bias=fill(SET_BIAS, bias=float_list(start[ds.d :].tolist())) if cfg.fit_bias else "",
    )
    return Section("The model and its parameters", MODEL_NOTE, code)


def loss(ds: Dataset, cfg: TrainConfig, batch: int | None) -> Section:
    """torch.nn.MSELoss."""
    return Section("The loss", LOSS_NOTE, LOSS)


def before_loop(ds: Dataset, cfg: TrainConfig) -> str:
    """The torch.optim optimizer, with the momentum arguments the run uses."""
    momentum = ""
    if cfg.uses_momentum:
        momentum = ", momentum=momentum" + (", nesterov=True" if cfg.uses_nesterov else "")
    with_momentum = RMSPROP_MOMENTUM if cfg.uses_momentum else ""
    params = "param_groups" if cfg.weight_decay else "model.parameters()"
    optimizer = fill(OPTIMIZERS[cfg.optimizer], momentum=momentum, with_momentum=with_momentum, params=params)
    if not cfg.weight_decay:
        return optimizer
    return fill(PARAM_GROUPS, bias_group=BIAS_GROUP if cfg.fit_bias else "") + "\n" + optimizer


def step(ds: Dataset, cfg: TrainConfig, batch: int | None, x: str, y: str) -> tuple[str, str]:
    """One step on the data x, y: the forward pass to `loss`, then backward() and optimizer.step()."""
    if cfg.zero_grad:
        zero_grad = ZERO_GRAD
    else:
        why = no_zero_grad_note(ds, cfg, batch, "Every backward() adds its gradient to the ones before")
        zero_grad = fill(NO_ZERO_GRAD, why=comment(why))
    return fill(FORWARD, x=x, y=y, l1_term=L1_TERM if cfg.l1 else ""), fill(UPDATE, zero_grad=zero_grad)


def param_exprs(ds: Dataset, cfg: TrainConfig) -> list[str]:
    """Each parameter as a Python float, in the engine's order (w..., b)."""
    weights = ["model.weight.item()"] if ds.d == 1 else [f"model.weight[0, {j}].item()" for j in range(ds.d)]
    return weights + (["model.bias.item()"] if cfg.fit_bias else [])


def collect(cfg: TrainConfig) -> str:
    """The parameters as a list of Python floats in the engine's order (w..., b)."""
    return "model.weight.detach().flatten().tolist()" + (" + model.bias.detach().tolist()" if cfg.fit_bias else "")
