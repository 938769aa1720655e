"""The playground's families of runs: every learning rate of the slider's ladder (or a ladder of momenta) for the
current data and start, computed in one batched call, so the live figure's sliders need no server round trip.

The family is plain full-batch gradient descent with torch.optim.SGD's momentum (engine.gd_sweep, the analytic
gradient), so it describes the page's own run when that run is SGD on the full batch with the gradient zeroed; the
other methods give the same path to float32 rounding. For adaptive optimizers and mini-batches it does not apply.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import numpy as np

import charts
import engine
from compute import runs
from settings import controls
from settings.controls import LR_GRID

SETTINGS = {"lr": "learning rate", "momentum": "momentum"}
MOMENTUM_GRID = tuple(round(m, 2) for m in (*np.arange(0.0, 0.951, 0.05), 0.97, 0.99))
# what a family depends on: every control but the one it varies (and those that cannot change a full-batch run)
IGNORED = frozenset({"method", "optimizer", "fd_delta", "device", "batch_size"})


def unavailable(values: Mapping) -> str | None:
    """Why the page's run has no family (a sentence for the page), or None when it has one."""
    cover = "The figure's own sliders cover"
    if values["method"] == "optimizer" and values["optimizer"] != "sgd":
        why = f"{cover} SGD (with or without momentum); this run uses an adaptive optimizer"
    elif values["batch"] != "full":
        why = f"{cover} full-batch runs; mini-batches make every run depend on the shuffle"
    elif not values["zero_grad"]:
        why = f"{cover} runs that zero the gradient after each step"
    elif values.get("test_fraction") or values.get("weight_decay"):
        why = f"{cover} runs on every point without weight decay"
    else:
        return None
    return why + ": the sidebar's controls change this run."


LADDERS = {"lr": LR_GRID, "momentum": MOMENTUM_GRID}


def ladder(setting: str, current: float) -> tuple[float, ...]:
    """The values the live figure's slider steps through: the control's ladder, with the page's own value on it."""
    grid = LADDERS[setting]
    return grid if current in grid else tuple(sorted((*grid, current)))


def anchor(values: Mapping, setting: str) -> dict:
    """The values a family depends on: every control but the varied one (which only picks the slider's start),
    unless the page's value is off the ladder and so adds a run; controls that cannot change it are left out."""
    current = float(values[setting])
    out = {k: v for k, v in values.items() if k not in IGNORED and k != setting}
    return out | {setting: current if current not in LADDERS[setting] else LADDERS[setting][0]}


def build(values: Mapping, setting: str, custom: engine.Dataset | None = None, lock=None) -> charts.Family:
    """The family of runs along `setting` ("lr" or "momentum") through the page's own values (controls left out
    of `values` take their defaults); `lock` is held around the torch work."""
    values = controls.defaults() | dict(values)
    _, ds = runs.build_dataset(values, custom)
    cfg = runs.build_config(values, ds)
    # from the controls, not cfg: a config at momentum 0 (the ladder's first rung, which anchor() puts in the varied
    # slot) has no Nesterov, and the whole momentum ladder would have lost it; Nesterov at momentum 0 is plain descent
    nesterov = bool(values["nesterov"]) and engine.takes_nesterov(cfg.method, cfg.optimizer)
    current = float(values[setting])
    grid = ladder(setting, current)
    if setting == "lr":
        lrs, momenta = np.array(grid), cfg.momentum
    else:
        lrs, momenta = np.full(len(grid), cfg.lr), np.array(grid)
    with lock or contextlib.nullcontext():
        sweep = engine.gd_sweep(ds, lrs, momenta, cfg.epochs, cfg.fit_bias, cfg.init, nesterov, keep_params=True)
    stab = engine.stability(ds, cfg.fit_bias)
    labels = [_label(sweep, k, setting, stab, nesterov) for k in range(len(grid))]
    return charts.Family(sweep, SETTINGS[setting], np.array(grid), labels, grid.index(current))


def _label(sweep: engine.Sweep, k: int, setting: str, stab: engine.Stability, nesterov: bool) -> str:
    """What the slider says about run k: its value, and how the run ends in plain words."""
    value = sweep.lrs[k] if setting == "lr" else sweep.momenta[k]
    limit = stab.max_stable_lr_with_momentum(float(sweep.momenta[k]), nesterov and sweep.momenta[k] > 0)
    at = int(sweep.diverged_at[k]) if sweep.diverged[k] else None
    return f"{value:g}: {outcome(sweep.loss[:, k], at, float(sweep.lrs[k]), limit, sweep.min_loss)}"


def outcome(loss: np.ndarray, diverged_at: int | None, lr: float, limit: float | None, min_loss: float) -> str:
    """How a run ends, in plain words with its numbers (limit: its stability limit, None for adaptive optimizers)."""
    regime = engine.lr_regime(lr, limit)
    stable = f" (stable below lr {limit:.3g})" if limit is not None else ""
    if diverged_at is not None:
        return f"diverges at step {diverged_at}{stable}"
    steps = len(loss) - 1
    after = f"{steps} step" + ("s" if steps != 1 else "")
    excess = loss - min_loss
    final = loss[-1]
    if regime == engine.DIVERGES:  # growing, but not yet past the divergence check within this many steps
        return f"diverging, the loss grew to {final:.4g} in {after}{stable}"
    if regime == engine.AT_LIMIT:
        exact = engine.limit_text(lr, limit)
        return f"at the stability limit {exact}, the steepest direction flips for ever; loss {final:.4g}"
    if excess[-1] <= 0.01 * excess[0]:
        above = np.flatnonzero(excess > 0.01 * excess[0])
        settled = int(above[-1]) + 1 if len(above) else 0
        return f"converges, 99 % of the way down from step {settled} on, loss {final:.4g}"
    if excess[-1] < excess[0]:
        return f"still on its way after {after}, loss {final:.4g}"
    return f"the loss has not come down after {after} ({final:.4g})"
