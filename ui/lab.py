"""The step-by-step lab's numbers: the forward pass, the loss and gradient written out, the update with values.

Pure functions of a Trainer's state (no streamlit), so the page stays a thin layout and this is testable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import engine
from engine.gradients import analytic_gradient

from .explain import num

TABLE_ROWS = 8


@dataclass(frozen=True)
class StepView:
    """What the next update will do, at the current parameters."""

    step: int
    epoch: float
    params: np.ndarray
    batch: np.ndarray | None  # row indices of the next mini-batch (None: all points)
    table: pd.DataFrame  # first rows of the forward pass
    loss: float  # loss on the batch at params
    grad: np.ndarray  # the gradient of that loss (exact, float64)
    used: np.ndarray  # what the update will subtract, divided by lr (grad, a momentum buffer, a running sum)
    names: tuple[str, ...]
    n: int  # points in the batch
    accumulated: np.ndarray | None  # what .grad holds when the gradient is not zeroed (the running sum)


def step_view(trainer: engine.Trainer) -> StepView:
    """The forward pass, loss and gradient at the trainer's current parameters, on the batch the next step uses."""
    ds, cfg = trainer.ds, trainer.cfg
    params = trainer.params
    idx = trainer.next_batch_indices()
    x = ds.x if idx is None else ds.x[idx]
    y = ds.y if idx is None else ds.y[idx]
    xa = x.double().numpy()
    pred = xa @ params[: ds.d] + (params[ds.d] if cfg.fit_bias else 0.0)
    err = pred - y.double().numpy()
    table = pd.DataFrame({name: xa[:TABLE_ROWS, j] for j, name in enumerate(ds.feature_names)})
    if idx is not None:
        table.insert(0, "row", idx[:TABLE_ROWS])
    table["y"] = y.double().numpy()[:TABLE_ROWS]
    table["prediction ŷ"] = pred[:TABLE_ROWS]
    table["error ŷ − y"] = err[:TABLE_ROWS]
    table["squared error"] = err[:TABLE_ROWS] ** 2
    grad = analytic_gradient(x, y, params, cfg.fit_bias)
    return StepView(
        step=trainer.step_index,
        epoch=trainer.step_index / trainer.steps_per_epoch,
        params=params,
        batch=idx,
        table=table,
        loss=float(np.mean(err**2)),
        grad=grad,
        used=_direction(trainer, grad),
        names=trainer.param_names,
        n=len(err),
        accumulated=_accumulated(trainer, grad),
    )


def _accumulated(trainer: engine.Trainer, grad: np.ndarray) -> np.ndarray | None:
    """Without zero_(), .grad keeps the sum of every gradient so far: the last one used plus this one."""
    if trainer.cfg.zero_grad:
        return None
    h = trainer.history()
    return grad + h.grads[-1] if h.steps else grad


def _direction(trainer: engine.Trainer, grad: np.ndarray) -> np.ndarray:
    """What the manual SGD update will multiply by lr: the gradient, the running sum, or the momentum form."""
    cfg = trainer.cfg
    acc = _accumulated(trainer, grad)
    g = grad if acc is None else acc
    if cfg.momentum == 0 or (cfg.method == "optimizer" and cfg.optimizer != "sgd"):
        return g
    buf = trainer.momentum_buffer()
    v = g if buf is None else cfg.momentum * buf + g
    return g + cfg.momentum * v if cfg.nesterov else v


def loss_formula(view: StepView) -> str:
    """L = (1/n) Σ (ŷ − y)² written out with the first terms and the result."""
    errs = view.table["error ŷ − y"].to_numpy()
    terms = " + ".join(f"({num(float(e), 3)})^2" for e in errs[:2])
    more = " + \\dots" if view.n > 2 else ""
    mean = rf"\frac{{1}}{{{view.n}}}"
    return rf"L = {mean}\sum_i (\hat y_i - y_i)^2 = {mean}\left[{terms}{more}\right] = {num(view.loss)}"


def gradient_formulas(view: StepView, fit_bias: bool) -> list[str]:
    """The derivative of the loss for each parameter, in symbols and with its value."""
    out = []
    mean = rf"\frac{{2}}{{{view.n}}}\sum_i (\hat y_i - y_i)"
    for j, name in enumerate(view.names):
        if fit_bias and j == len(view.names) - 1:
            out.append(rf"\frac{{\partial L}}{{\partial b}} = {mean} = {num(view.grad[j])}")
        else:
            xj = "x_i" if len(view.names) - int(fit_bias) == 1 else f"x_{{i{j + 1}}}"
            out.append(rf"\frac{{\partial L}}{{\partial {name}}} = {mean}\,{xj} = {num(view.grad[j])}")
    return out


def update_lines(view: StepView, cfg: engine.TrainConfig) -> list[str]:
    """params <- params - lr * (...) with this step's numbers, one line per parameter."""
    if cfg.method == "optimizer" and cfg.optimizer != "sgd":
        return [
            f"{cfg.optimizer} rescales each parameter's step by its own running statistics; the plot shows where "
            "it goes."
        ]
    what = "gradient" if cfg.momentum == 0 else ("g + βv" if cfg.nesterov else "v")
    if not cfg.zero_grad:
        what += " (built from the accumulated .grad)"
    lines = []
    for name, p, d in zip(view.names, view.params, view.used, strict=True):
        lines.append(f"{name} ← {num(p)} − {cfg.lr:g} × {num(d)} = {num(p - cfg.lr * d)}")
    return [f"Update with lr × {what}:"] + lines


def gradient_table(ds: engine.Dataset, view: StepView, fit_bias: bool, delta: float) -> pd.DataFrame:
    """The four gradients at the current parameters, and each one's difference from the exact formula."""
    grads = engine.four_gradients(ds, view.params, fit_bias, delta=delta, idx=view.batch)
    exact = grads["analytic"]
    rows = []
    for method, g in grads.items():
        row = {"method": method}
        row.update({f"∂L/∂{n}": float(v) for n, v in zip(view.names, g, strict=True)})
        row["largest difference from analytic"] = float(np.max(np.abs(g - exact)))
        rows.append(row)
    return pd.DataFrame(rows)
