"""The Overfitting page's fit player: what the browser (components/fit_player.js) plays.

Two panels: the fitted curve over the training and held-out points, and the training and test loss per step with
the step of the lowest test loss. Its Degree and Weight decay sliders pick runs out of two families the engine
trained in one batched call each (compute/overfit.py), so a move redraws in the browser. Every number is computed
here or in the engine; the browser only multiplies the features shipped for the curve's grid by a run's parameters
(y = F w + b), as the live figure draws its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .common import log_ticks, packed

LOSS_DECADES = 8  # the loss axis spans at most this many powers of ten


@dataclass(frozen=True, eq=False)
class FitRuns:
    """K runs of one family (or the page's own run, K = 1), with the player's words for each."""

    values: Sequence[float]  # the family's setting, one value per run
    degrees: Sequence[int]
    params: np.ndarray  # (steps + 1, K, P): w1..w_degree, then b; zeros pad the short runs; NaN once diverged
    loss: np.ndarray  # (steps + 1, K) training MSE
    test_loss: np.ndarray | None  # (steps + 1, K) held-out MSE, None without a test set
    optimum: np.ndarray  # (K, P) each run's closed-form optimum, zero-padded like params
    diverged: Sequence[bool]
    stops: Sequence[int]  # the step of each run's lowest test loss, -1 without a test set
    labels: Sequence[str]  # a sentence per run: the summary when it is on screen
    texts: Sequence[str]  # a few words per run: the slider's aria-valuetext
    current: int  # the page's own run among them


def _block(runs: FitRuns, at: np.ndarray) -> dict:
    """The runs at the shown steps, as packed float32 arrays: params (K, F, P), losses (K, F), optimum (K, P)."""
    out = {
        "params": packed(np.transpose(runs.params[at], (1, 0, 2))),
        "loss": packed(runs.loss[at].T),
        "test": None if runs.test_loss is None else packed(runs.test_loss[at].T),
        "optimum": packed(runs.optimum),
    }
    return out


def _loss_range(runs: Sequence[FitRuns], own: FitRuns, at: np.ndarray) -> list[float]:
    """log10 range of the loss axis: every run that did not blow up, and the page's own in any case (one that blows
    up shows its climb; others that do leave through the top)."""
    values = []
    for group in (*runs, own):
        for k in range(len(group.values)):
            if group.diverged[k] and group is not own:
                continue
            for losses in (group.loss, group.test_loss):
                if losses is not None:
                    v = losses[at, k]
                    values.append(v[np.isfinite(v) & (v > 0)])
    finite = np.concatenate(values) if values else np.array([])
    if not len(finite):
        return [-1.0, 1.0]
    hi = np.log10(float(finite.max()))
    # at most LOSS_DECADES below the top: a run that fits its few training points exactly (1e-30) would flatten
    # every other curve against the top
    lo = max(np.log10(max(float(finite.min()), 1e-30)), hi - LOSS_DECADES)
    span = max(hi - lo, 0.5)
    return [float(lo - 0.08 * span), float(hi + 0.08 * span)]


def payload(
    x: np.ndarray,
    y: np.ndarray,
    held_out: Sequence[int],
    grid: np.ndarray,
    features: np.ndarray,
    at: np.ndarray,
    own: FitRuns,
    ladders: dict[str, FitRuns],
    names: dict[str, str],
    settings: dict[str, float],
) -> dict:
    """The player's data. x, y: every point; held_out: the test rows; grid (G,) and features (G, D): the curve's x
    values and the model's inputs there (column j the feature x^(j+1) as the runs saw it), D the largest degree of
    any run; at: the steps shown (frames); own: the page's run; ladders: "degree" and "weight_decay" families, each
    crossing the page's run at its `current`; settings: the page's own "degree" and "weight_decay"."""
    y = np.asarray(y, dtype=np.float64)
    lo, hi = float(y.min()), float(y.max())
    span = hi - lo or max(abs(hi), 1.0)
    loss_range = _loss_range(list(ladders.values()), own, at)
    out_ladders = {
        key: {
            "values": [float(v) for v in runs.values],
            "degrees": [int(d) for d in runs.degrees],
            "labels": list(runs.labels),
            "texts": list(runs.texts),
            "stops": [int(s) for s in runs.stops],
            "current": int(runs.current),
            **_block(runs, at),
        }
        for key, runs in ladders.items()
    }
    return {
        "x": packed(x),
        "y": packed(y),
        "held_out": [int(i) for i in held_out],
        "grid": packed(grid),
        "features": packed(features),
        "frames": [int(s) for s in at],
        "y_range": [lo - 0.3 * span, hi + 0.3 * span],  # a wild high-degree curve leaves through the edge
        "loss_range": loss_range,
        "loss_ticks": log_ticks(*loss_range),  # the log axis labelled with plain numbers (panel.js draws them)
        "own": {
            "degree": int(settings["degree"]),
            "weight_decay": float(settings["weight_decay"]),
            "label": own.labels[0],
            "stop": int(own.stops[0]),
            **_block(own, at),
        },
        "ladders": out_ladders,
        "names": names,
        "controls": {},
    }
