"""The step-by-step lab's numbers: the forward pass, the loss and gradient written out, the update with values.

Pure functions of a Trainer's state (no streamlit), so the page stays a thin layout and this is testable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import engine
from compute.runs import OPTIMIZER_NAMES
from engine.gradients import analytic_gradient
from ui.explain import num

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


def _adaptive(cfg: engine.TrainConfig) -> bool:
    """Adam, RMSprop, Adagrad: the step is not lr times a gradient (or a momentum buffer)."""
    return cfg.method == "optimizer" and cfg.optimizer != "sgd"


def _direction(trainer: engine.Trainer, grad: np.ndarray) -> np.ndarray:
    """What the manual SGD update will multiply by lr: the gradient, the running sum, or the momentum form."""
    cfg = trainer.cfg
    acc = _accumulated(trainer, grad)
    g = grad if acc is None else acc
    if not cfg.uses_momentum or _adaptive(cfg):
        return g
    v_new = cfg.momentum * _old_buffer(trainer, g) + g
    return g + cfg.momentum * v_new if cfg.uses_nesterov else v_new


def _old_buffer(trainer: engine.Trainer, g: np.ndarray) -> np.ndarray:
    """The momentum buffer before the next step; before the first step torch has none, which acts as v = 0
    (its first buffer is the gradient itself: beta * 0 + g)."""
    buf = trainer.momentum_buffer()
    return np.zeros_like(g) if buf is None else buf


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


def momentum_lines(trainer: engine.Trainer, view: StepView) -> str | None:
    """The momentum buffer of the next step with its numbers, as torch.optim.SGD computes it: v_new = beta * v_old
    + g (g: what .grad holds), and for Nesterov the direction g + beta * v_new; None without momentum."""
    cfg = trainer.cfg
    if not cfg.uses_momentum or _adaptive(cfg):
        return None
    beta = cfg.momentum
    g = view.grad if view.accumulated is None else view.accumulated
    v_old = _old_buffer(trainer, g)
    v_new = beta * v_old + g
    what = "the gradient" if view.accumulated is None else "the accumulated .grad"
    first = "; no step yet, so v_old = 0" if trainer.momentum_buffer() is None else ""
    lines = [f"v_new = β·v_old + g (g = {what}{first}):"]
    for name, vo, gj, vn in zip(view.names, v_old, g, v_new, strict=True):
        lines.append(f"{name}: v_new = {beta:g} × {_term(vo)} + {_term(gj)} = {num(vn)}")
    if cfg.uses_nesterov:
        lines.append("Nesterov's direction g + β·v_new:")
        for name, gj, vn in zip(view.names, g, v_new, strict=True):
            lines.append(f"{name}: {_term(gj)} + {beta:g} × {_term(vn)} = {num(gj + beta * vn)}")
    return "\n".join(lines)


def _term(v: float) -> str:
    """A number inside a sum: negative ones in parentheses."""
    return num(float(v)) if v >= 0 else f"({num(float(v))})"


def update_lines(view: StepView, cfg: engine.TrainConfig) -> list[str]:
    """params <- params - lr * (...) with this step's numbers, one line per parameter."""
    if _adaptive(cfg):
        return [
            f"{cfg.optimizer} rescales each parameter's step by its own running statistics; the plot shows where "
            "it goes."
        ]
    if cfg.uses_momentum:
        what = "(g + β·v_new)" if cfg.uses_nesterov else "v_new"
        if not cfg.zero_grad:
            what += " (built from the accumulated .grad)"
    else:
        what = "gradient" if cfg.zero_grad else ".grad (the running sum)"
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


# ----------------------------------------------------------------------------------------------------------------
# a forgotten zero_grad: what the run does, in words that depend on its momentum and lr * lambda_max
# ----------------------------------------------------------------------------------------------------------------

NOT_ZEROED = (
    "The gradient is not zeroed: every backward() adds to .grad, so each update uses the sum of all gradients so "
    "far — momentum 1 in effect, a buffer that forgets nothing."
)


def swing_growth(eigenvalues, lr: float, momentum: float = 0.0, nesterov: bool = False) -> float:
    """How much the swings of full-batch gradient descent on a running sum of gradients grow per step: the largest
    root modulus over the curvatures lambda of z^3 - (2 + beta - a) z^2 + (1 + 2 beta) z - beta (a = lr * lambda;
    Nesterov: (z - 1)^2 (z - beta) + a z ((1 + beta) z - beta)). With beta = 0 it is exactly 1 for every
    lr * lambda <= 4: the swings keep their size; above 4, and for every beta > 0, it is above 1."""
    beta, out = float(momentum), 1.0
    for lam in np.asarray(eigenvalues, dtype=np.float64):
        a = lr * max(float(lam), 0.0)
        base = np.polymul([1.0, -2.0, 1.0], [1.0, -beta])
        extra = a * np.array([1.0 + beta, -beta, 0.0]) if nesterov else np.array([a, 0.0, 0.0])
        out = max(out, float(np.abs(np.roots(np.polyadd(base, extra))).max()))
    return out


def zero_grad_warning(whole) -> str:
    """What skipping grad.zero_() does to this run, from its momentum and lr * lambda_max, with the whole run's
    outcome (`whole`: the run the lab steps through, a runs.RunResult)."""
    cfg, h, stab = whole.config, whole.history, whole.stability
    blown = f" This run blows up at step {h.diverged_at}." if h.diverged else ""
    if _adaptive(cfg):
        return f"{NOT_ZEROED} {OPTIMIZER_NAMES[cfg.optimizer]} builds its running statistics from those sums.{blown}"
    beta = cfg.momentum if cfg.uses_momentum else 0.0
    a_max = cfg.lr * float(stab.eigenvalues[-1])
    if not cfg.full_batch:
        grows = (
            f"with momentum (β = {beta:g}) on top, the swings grow at any learning rate, however small"
            if beta
            else "the swings do not die down, and they tend to grow"
        )
        return (
            f"{NOT_ZEROED} With mini-batches each batch's own error stays in that sum for ever, so the path never "
            f"settles: {grows}.{blown}"
        )
    if beta:
        rho = swing_growth(stab.eigenvalues, cfg.lr, beta, cfg.uses_nesterov)
        pace = f"about {100 * (rho - 1):.2g}% a step"
        return (
            f"{NOT_ZEROED} The momentum buffer (β = {beta:g}) then adds those sums up again, and together they make "
            f"every swing across the bottom larger than the last, at any learning rate however small: here by "
            f"{pace}.{blown}"
        )
    if a_max <= 4.0:
        return (
            f"{NOT_ZEROED} The path overshoots the bottom and swings back and forth across it for ever: the swings "
            f"keep their size, neither growing nor dying down (lr·λmax = {a_max:.3g}, below 4), so the loss rises "
            "and falls and never settles."
        )
    return (
        f"{NOT_ZEROED} The path swings across the bottom, and with lr·λmax = {a_max:.3g}, above 4, each swing is "
        f"larger than the last.{blown}"
    )
