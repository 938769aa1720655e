"""The live figure's data: every number the browser plays, computed here from engine results.

The browser (components/live_figure.js) draws three panels (the data with the model, the loss surface with the
path, the loss per step) and plays them by itself. Its learning-rate and momentum sliders pick runs out of two
ladders shipped with it (every learning rate of the slider at this momentum, every momentum at this learning rate,
each computed in one batched call), so a move redraws with no round trip. The page's own run sits on both ladders
at its settings, exactly as engine.train computed it.

Runs are sampled at the same steps (at most MAX_FRAMES, the first and last always), and every array travels as
float32 base64 (charts.common.packed): the default page's payload is tens of kB, the largest settings' under 1 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import engine

from .common import packed

MAX_FRAMES = 241  # frames per run: a smooth animation, a bounded payload for 5,000 epochs
SURFACE_POINTS = 48  # grid points a side of the loss surface shipped to the browser


@dataclass(frozen=True)
class Family:
    """Runs along one setting (compute/family.build): gd_sweep's runs and per-run words."""

    sweep: engine.Sweep  # with params
    setting: str  # "learning rate" or "momentum"
    values: np.ndarray
    labels: list[str]  # per run, what the slider says when it is picked
    active: int  # the run of the value the family was built through


@dataclass(frozen=True)
class Ladder:
    """Runs along one setting ("lr" or "momentum"), the others fixed: values, params (steps + 1, K, p) as gd_sweep
    keeps them, per-run words, and the index of the page's own run."""

    setting: str
    values: np.ndarray
    params: np.ndarray
    lrs: np.ndarray
    momenta: np.ndarray
    labels: list[str]
    current: int


FIRST_STEPS = (
    40  # every one of a long run's first steps is a frame, so a shorter run picked in the browser plays smoothly
)


def frames(steps: int, max_frames: int = MAX_FRAMES, ends=()) -> np.ndarray:
    """The steps every run is shown at, at most max_frames: all of them for a short run; else the first FIRST_STEPS,
    every step in `ends` (where a shorter run picked by the figure's epochs slider stops, so it ends on its own last
    step) and the rest evenly spread (0 and the last step always)."""
    if steps + 1 <= max_frames:
        return np.arange(steps + 1)
    fixed = np.unique(np.concatenate([np.arange(FIRST_STEPS + 1), [e for e in ends if 0 <= e <= steps]]).astype(int))
    even = np.round(np.linspace(0, steps, max(max_frames - len(fixed), 2))).astype(int)
    return np.unique(np.concatenate([fixed, even]))


def arrows(quad: engine.Quadratic, params: np.ndarray, lrs, momenta, nesterov: bool, cols) -> tuple:
    """At each step k of each run j (params: steps + 1, runs, p), the two parts of the next update p[k+1] - p[k]:
    the gradient's, -lr·g ((1 + β)·lr·g with Nesterov, whose step is lr·(g + β·v_new)), and the momentum's, the rest
    of the step (none without momentum). Both in the surface's columns; zero after the last step. All runs at once:
    one run at a time took half of the payload's time."""
    grad = quad.grad(params)  # (steps + 1, runs, p), float64, exact for this quadratic
    lrs, momenta = np.asarray(lrs, dtype=np.float64), np.asarray(momenta, dtype=np.float64)
    scale = lrs * np.where(nesterov & (momenta > 0), 1.0 + momenta, 1.0)
    g_part = -scale[None, :, None] * grad
    step = np.zeros_like(params)
    step[:-1] = params[1:] - params[:-1]
    m_part = step - g_part
    m_part[-1] = 0.0
    g_part[-1] = 0.0
    m_part[:, momenta == 0] = 0.0
    return g_part[..., cols], m_part[..., cols]


def _run_block(quad, hist_params: np.ndarray, lrs, momenta, nesterov: bool, cols, at: np.ndarray) -> dict:
    """One ladder's runs, sampled at the frames `at`: params, loss and the arrows, packed."""
    loss = quad.loss(hist_params)  # (steps + 1, K)
    g_parts, m_parts = arrows(quad, hist_params, lrs, momenta, nesterov, cols)
    with np.errstate(invalid="ignore", over="ignore"):
        return {
            "params": packed(np.transpose(hist_params[at], (1, 0, 2))),  # (K, F, p)
            "loss": packed(loss[at].T),  # (K, F)
            "grad": packed(np.transpose(g_parts[at], (1, 0, 2))),  # (K, F, a): the gradient's part of the next step
            "mom": packed(np.transpose(m_parts[at], (1, 0, 2))),  # the momentum's part
        }


def payload(
    result,
    ladders: dict[str, Ladder],
    surface: engine.Surface,
    controls: dict[str, str],
    summary: str,
    labels: dict,
    epoch_choices=(),
) -> dict:
    """The live figure's data for a run (a compute.runs.RunResult), its ladders (empty when no ladder describes the run:
    adaptive optimizers, mini-batches, a gradient never zeroed) and the surface to draw them on.

    controls: "lr", "momentum", "epochs" and "start" -> "free" | "locked" | "hidden" (a teacher's link, or a setting
    the run lacks); the page may pass {} and add them to the payload itself (they are not the run's, compute/cache.py).
    epoch_choices: the epochs slider's values. A full-batch run of fewer epochs is the first steps of this one, so
    with ladders the browser shows any of them up to this run's own at once (the frames include each one's end);
    a longer one is the page's to compute.
    """
    ds, cfg, h = result.dataset, result.config, result.history
    quad = engine.Quadratic.of(ds, cfg.fit_bias)
    steps = max((len(ladder.params) - 1 for ladder in ladders.values()), default=h.steps)
    own_params = np.full((steps + 1, h.params.shape[1]), np.nan)
    own_params[: len(h.params)] = h.params  # a run that blew up stops early; the ladders' runs go on as NaN
    choices = sorted({int(e) for e in epoch_choices} | {int(cfg.epochs)}) if ladders else []
    at = frames(steps, ends=[e * h.steps_per_epoch for e in choices])
    cols = list(surface.columns)
    nesterov = cfg.uses_nesterov
    out_ladders = {}
    for setting, ladder in ladders.items():
        params = np.array(ladder.params, dtype=np.float64)
        params[:, ladder.current] = own_params  # the page's own run, exactly as engine.train computed it
        block = _run_block(quad, params, ladder.lrs, ladder.momenta, nesterov, cols, at)
        out_ladders[setting] = {
            "values": [float(v) for v in ladder.values],
            "labels": ladder.labels,
            "current": int(ladder.current),
            **block,
        }
    beta = cfg.momentum if cfg.uses_momentum else 0.0
    own = _run_block(quad, own_params[:, None, :], [cfg.lr], [beta], nesterov, cols, at)
    x = ds.x.double().numpy()
    data = {"x": packed(x[:, 0]), "y": packed(ds.y.double().numpy())}
    if ds.d == 2:
        data["x2"] = packed(x[:, 1])
    return {
        "kind": "plane" if ds.d == 2 else "line",
        "fit_bias": bool(cfg.fit_bias),
        "names": list(h.param_names),
        "features": list(ds.feature_names),
        "target": ds.target_name,
        "data": data,
        "optimum": [float(v) for v in result.optimum],
        "min_loss": float(quad.min_loss),
        "frames": [int(s) for s in at],
        "steps_per_epoch": int(h.steps_per_epoch),
        "surface": surface_payload(surface),
        "own": {
            "lr": float(cfg.lr),
            "momentum": float(cfg.momentum),
            "epochs": int(cfg.epochs),
            "label": summary,
            **own,
        },
        "epochs": choices,  # the figure's epochs slider (empty: no slider); up to own["epochs"] shown in the browser
        "ladders": out_ladders,
        "controls": controls,
        "labels": labels,
        # the arrows split a full-batch SGD step into its gradient and momentum parts: nothing else steps that way
        "arrows": bool(ladders),
    }


def surface_payload(s: engine.Surface) -> dict:
    """The loss surface (log10 of the loss over a grid) or the loss curve, thinned to SURFACE_POINTS a side."""
    out = {
        "kind": s.kind,
        "axes": list(s.axes),
        "columns": list(s.columns),
        "fixed": {k: float(v) for k, v in s.fixed.items()},
        "optimum": [float(v) for v in s.optimum],
        "min_loss": float(s.min_loss),
    }
    if s.kind == "curve":
        return out | {"a": packed(s.a), "z": packed(s.z)}
    ia = np.unique(np.round(np.linspace(0, len(s.a) - 1, min(len(s.a), SURFACE_POINTS))).astype(int))
    ib = np.unique(np.round(np.linspace(0, len(s.b) - 1, min(len(s.b), SURFACE_POINTS))).astype(int))
    z = np.log10(np.maximum(s.z[np.ix_(ib, ia)], 1e-30))  # rows follow b, columns a (Plotly's contour z)
    return out | {"a": packed(s.a[ia]), "b": packed(s.b[ib]), "z": packed(z)}
