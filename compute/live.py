"""The playground's live figure: its run, its two ladders of runs and its surface, gathered for charts.live.

Pure Python (no streamlit): compute/cache.py computes it in the worker and caches it; tests call it directly. The
ladders are the learning-rate family at this momentum and the momentum family at this learning rate (compute/family.py,
each one batched engine.gd_sweep call), so the figure's own sliders need no server. They describe full-batch SGD
that zeroes the gradient; for any other run the figure plays the page's run alone and says why.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

import charts
import engine
from compute import family, runs
from settings import controls

SLIDERS = ("lr", "momentum")  # the ladders; the epochs slider shows the first steps of their runs
LABELS = {"lr": "Learning rate", "momentum": "Momentum", "epochs": "Epochs", "noise": "Noise level"}
FETCHED = ("noise",)  # the figure's sliders whose new runs it fetches (components/live_route.py): new data


def ladder(fam: charts.Family, setting: str, current: float) -> charts.Ladder:
    """A family (ui/family.build) as the live figure's ladder, at the page's own value `current`."""
    sw = fam.sweep
    at = int(np.flatnonzero(fam.values == current)[0])
    return charts.Ladder(setting, fam.values, sw.params, sw.lrs, sw.momenta, fam.labels, at)


def surface_for(result: runs.RunResult, families: list[charts.Family]) -> engine.Surface:
    """One loss panel for the runs of the learning-rate ladder (the first family): around the paths that come down.
    A run on its way up when it ends (just above the stability limit, not yet counted as diverged) leaves through the
    edge, as a diverged one does, rather than stretching the panel until every other path is a speck in the middle
    (plain SGD at lr 1 on the default data). That ladder is the same for every learning rate, so a learning-rate move
    keeps the panel, which the browser then need not draw again; a momentum of the other ladder whose path swings
    wider leaves through the edge too."""
    if not families:  # no ladder: the run's own panel, as its divergence message describes it
        return result.surface
    return _ladder_surface(result.dataset, result.fit_bias, families[0], fallback=result.history.params[:1])


def _ladder_surface(ds: engine.Dataset, fit_bias: bool, lr_family: charts.Family, fallback) -> engine.Surface:
    sweep = lr_family.sweep
    calm = sweep.params[:, sweep.came_down].reshape(-1, sweep.params.shape[-1])  # the page's run is one of them
    calm = calm[np.isfinite(calm).all(axis=1)]
    return engine.loss_surface(ds, fit_bias, path=calm if len(calm) else fallback)


def control_states(values: Mapping, shown: set[str], hidden: frozenset, locked: frozenset) -> dict[str, str]:
    """For the figure's controls: "hidden" (a teacher hid it, or this run has no such setting), "locked" (a teacher
    locked it) or "free"; "start" (a tap on the surface) is locked when any start field is hidden or locked."""
    out = {}
    for key in (*SLIDERS, "epochs", *FETCHED):
        out[key] = "hidden" if key not in shown or key in hidden else "locked" if key in locked else "free"
    out["start"] = "locked" if {"w0", "w2_0", "b0"} & (hidden | locked) else "free"
    return out


def with_settings(payload: dict, values: Mapping, states: dict[str, str]) -> dict:
    """A run's cached payload with what belongs to the page's settings, not to the run: the controls as a teacher's
    link leaves them, the noise slider's values, and the query that asks the route for another noise level."""
    noise = float(values["noise"])
    return payload | {
        "controls": states,
        "own": payload["own"] | {"noise": noise},
        "noise": controls.slider_values("noise", noise),
        "query": controls.to_query(values),
    }


def summary(result: runs.RunResult) -> str:
    """One sentence of what the run does, for the figure's text alternative and its readout."""
    h, cfg = result.history, result.config
    words = family.outcome(h.loss, h.diverged_at, cfg.lr, result.lr_limit, result.surface.min_loss)
    return f"Learning rate {cfg.lr:g}: {words}"


def build(values: Mapping, custom: engine.Dataset | None = None, lock=None) -> tuple[runs.RunResult, dict]:
    """The page's run and the live figure's payload for these control values, in one call (to the worker). The
    payload's "controls" (what a teacher's link hides or locks) are the page's to add: they are not the run's."""
    result = runs.compute(values, custom, lock)
    reason = family.unavailable(values)
    families = [] if reason else _families(values, custom, lock)
    return result, _payload(result, families, surface_for(result, families), values, reason)


def _families(values: Mapping, custom: engine.Dataset | None, lock) -> list[charts.Family]:
    return [family.build(family.anchor(values, s), s, custom, lock) for s in SLIDERS]


def _payload(result: runs.RunResult, families: list[charts.Family], surface, values: Mapping, reason=None) -> dict:
    ladders = {s: ladder(f, s, float(values[s])) for s, f in zip(SLIDERS, families, strict=False)}
    labels = LABELS | {"no_ladder": reason or ""}
    return charts.live_payload(result, ladders, surface, {}, summary(result), labels, controls.EPOCH_GRID)


def first(values: Mapping, custom: engine.Dataset | None = None, lock=None) -> dict | None:
    """The live figure's payload computed from its ladders alone, the page's own run taken from the learning-rate
    ladder (engine.gd_sweep's run at the page's settings: engine.train's path to float32 rounding) rather than trained
    again; None where a ladder does not stand for the page's run: no ladder, finite differences (whose estimate has
    rounding of its own), a run that diverges (engine.train ends it at a step of its own). What the route answers a
    figure that draws the run at once: engine.train, ~6 of the payload's ~11 ms, waits for the whole, which replaces
    this run with the page's own (components/live_route.py)."""
    if family.unavailable(values) or values["method"] == "finite-difference":
        return None
    raw, ds = runs.build_dataset(values, custom)
    cfg = runs.build_config(values, ds)
    families = _families(values, custom, lock)
    lr_family = families[0]
    k = int(np.flatnonzero(lr_family.values == float(values["lr"]))[0])  # (active: the anchor's rung, not the page's)
    if lr_family.sweep.diverged[k]:
        return None
    params = lr_family.sweep.params[:, k]
    quad = engine.Quadratic.of(ds, cfg.fit_bias)
    stab = engine.stability(ds, cfg.fit_bias)
    history = engine.History(
        params=params,
        loss=lr_family.sweep.loss[:, k],
        grads=quad.grad(params[:-1]),
        batch_loss=None,
        diverged=False,
        diverged_at=None,
        steps_per_epoch=1,
        param_names=tuple(ds.param_names(cfg.fit_bias)),
        device="cpu",
    )
    surface = _ladder_surface(ds, cfg.fit_bias, lr_family, fallback=params[:1])
    result = runs.RunResult(
        dataset=ds,
        raw=raw,
        config=cfg,
        history=history,
        surface=surface,  # the ladders' panel: the payload's and the summary's (its minimum), not the run's own
        stability=stab,
        lr_limit=runs.lr_limit(stab, cfg),
        batch_lr_limit=None,
        optimum=quad.optimum,
        optimum_note=None,
    )
    return _payload(result, families, surface, values)


def start_values(result: runs.RunResult, point) -> dict[str, float]:
    """The start controls (in the data's original units) for a point tapped on the surface (in the trained
    parameters' units, the surface's axes); the parameters off the surface keep the run's own start."""
    start = np.array(result.config.init, dtype=np.float64)
    start[list(result.surface.columns)] = np.asarray(point, dtype=np.float64)[: len(result.surface.columns)]
    scaling = result.dataset.scaling
    if scaling is not None:
        start = np.asarray(scaling.to_original(start), dtype=np.float64)
    keys = ["w0"] + (["w2_0"] if result.dataset.d == 2 else []) + (["b0"] if result.fit_bias else [])
    return {k: float(np.clip(float(f"{v:.4g}"), -100.0, 100.0)) for k, v in zip(keys, start, strict=True)}
