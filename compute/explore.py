"""From control values to the Explorer pages' results and sentences; pure Python (no streamlit), so testable.

The pages read the shared controls (data, start, epochs, learning rate) through the same schema as the playground,
and link back to it with a query string that opens one exact run there.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

import charts
import engine
from charts.common import COLORS, RACE_COLORS
from compute import runs
from settings import controls

DATA_KEYS = frozenset({"dataset", "n", "noise", "seed", "scaling", "w0", "w2_0", "b0"})
SWEEP_KEYS = DATA_KEYS | {"epochs"}  # what the learning-rate sweep, the momentum map and the race depend on
NOISE_KEYS = SWEEP_KEYS | {"lr", "batch_size"}
RACE_MAX_STEPS = 500  # six torch.optim runs of this many steps take about 1.5 s on one core
NOISE_SEEDS = 5
NOISE_STEP_BUDGET = 2_000  # single-sample steps per seed: longer runs are cut to fewer epochs
SCALING_CASES = {"raw": "none", "× 0.1": "x0.1", "standardized": "standardize"}
SCALING_START = (1.0, 0.0)  # tutorial 003 starts at w = 1, b = 0 (w2 = 0 too for two features)
NOISE_COLORS = (COLORS["path"], COLORS["data"], COLORS["optimum"])  # batch size 1, a few, all
SCALING_DATASETS = ("thermometer", "lab", "line", "plane")  # those with a (w, b) or (w1, w2) surface


def shown(values: Mapping, keys: frozenset) -> set[str]:
    """The schema's relevant controls for these values, limited to what a page uses."""
    return controls.relevant(values) & keys | (keys - DATA_KEYS)


def subset(values: Mapping, keys: frozenset) -> dict:
    """Only the values a result depends on (a cache key that other controls do not split)."""
    return {k: values[k] for k in keys}


def setup(values: Mapping, data: engine.Dataset | None = None) -> tuple[engine.Dataset, engine.TrainConfig]:
    """The data as trained on (scaled as chosen) and the playground's config for these values; `data` is the
    session's own dataset, used when the controls say "custom". Controls left out of `values` take their defaults
    (the cache keys hold only the values a result depends on)."""
    values = controls.defaults() | dict(values)
    _, ds = runs.build_dataset(values, data)
    return ds, runs.build_config(values, ds)


def lr_sweep(values: Mapping, data: engine.Dataset | None = None) -> tuple[engine.Sweep, engine.Stability]:
    """The learning-rate sweep for the current data, start and epochs, with the curvature facts."""
    ds, cfg = setup(values, data)
    return engine.lr_sweep(ds, cfg.fit_bias, cfg.init, cfg.epochs), engine.stability(ds, cfg.fit_bias)


def momentum_map(values: Mapping, data: engine.Dataset | None = None) -> engine.MomentumMap:
    """Measured and theoretical momentum rates over a (learning rate, momentum) grid for the current data."""
    ds, cfg = setup(values, data)
    return engine.momentum_map(ds, cfg.fit_bias, cfg.init)


def link_choices(sweep: engine.Sweep) -> list[float]:
    """The swept learning rates the playground accepts, rounded to three significant digits."""
    lr = controls.BY_KEY["lr"]
    return sorted({float(f"{v:.3g}") for v in sweep.lrs if lr.lo <= float(f"{v:.3g}") <= lr.hi})


def nearest(choices: list[float], target: float) -> float:
    """The choice closest to target on a log scale."""
    return min(choices, key=lambda v: abs(math.log(v / target)))


def default_choice(choices: list[float], stab: engine.Stability) -> float:
    """The choice nearest the best rate 2 / (lambda_min + lambda_max) among those safely below the limit 2 / lambda_max
    (on ill-conditioned data the two are within rounding of each other)."""
    safe = [v for v in choices if v <= 0.99 * stab.max_stable_lr] or choices
    return nearest(safe, stab.best_lr)


def playground_url(values: Mapping, lr: float, momentum: float = 0.0) -> str:
    """A relative link to the playground running these data and start with plain SGD (or heavy-ball momentum).

    The playground is the default page, which Streamlit serves at the app's root ("./"), not at its url_path:
    "/playground" would open it behind a "Page not found" dialog."""
    run = dict(values) | {"lr": float(f"{lr:.3g}"), "momentum": round(float(momentum), 2), "nesterov": False}
    run |= {"method": "optimizer", "optimizer": "sgd", "batch": "full"}
    return "./?" + urlencode(controls.to_query(run))


def best_pair_link(values: Mapping, stab: engine.Stability) -> tuple[str, float, float]:
    """(link, lr, momentum): the best momentum pair, rounded so that the playground's controls hold it safely."""
    lr, momentum = engine.rounded_best_pair(stab)
    return playground_url(values, lr, momentum), float(f"{lr:.3g}"), momentum


# ----------------------------------------------------------------------------------------------------------------
# the optimizer race
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RaceResult:
    dataset: engine.Dataset
    fit_bias: bool
    lrs: list[float]
    histories: list[engine.History]
    tunings: list[engine.Tuning] | None
    surface: engine.Surface
    min_loss: float
    shortened_from: int | None  # the epochs asked for, when the race was cut to RACE_MAX_STEPS


def race(values: Mapping, tuned: bool, data: engine.Dataset | None = None) -> RaceResult:
    """All racers from the playground's start on the current data, at fair default or tuned learning rates."""
    ds, cfg = setup(values, data)
    steps = min(cfg.epochs, RACE_MAX_STEPS)
    stab = engine.stability(ds, cfg.fit_bias)
    tunings = [engine.tune_lr(ds, r, cfg.init, steps, cfg.fit_bias) for r in engine.RACERS] if tuned else None
    lrs = [t.lr for t in tunings] if tunings else [r.default_lr(stab) for r in engine.RACERS]
    histories = engine.run_race(ds, lrs, cfg.init, steps, cfg.fit_bias)
    path = np.concatenate([h.params for h in histories])
    surface = engine.loss_surface(ds, cfg.fit_bias, path=path)
    shortened = cfg.epochs if steps < cfg.epochs else None
    return RaceResult(ds, cfg.fit_bias, lrs, histories, tunings, surface, surface.min_loss, shortened)


# ----------------------------------------------------------------------------------------------------------------
# feature scaling
# ----------------------------------------------------------------------------------------------------------------


def scaling(dataset: str, probe_lr: float, data: engine.Dataset | None = None) -> list[engine.ScalingCase]:
    """The dataset raw, times 0.1 and standardized, each from tutorial 003's start (w = 1, b = 0)."""
    if dataset not in (*SCALING_DATASETS, "custom"):
        raise ValueError(f"choose one of {', '.join(SCALING_DATASETS)}")
    values = controls.defaults() | {"dataset": dataset, "scaling": "none"}
    raw, _ = runs.build_dataset(values, data)
    cases = {label: runs.scaled(raw, how, True) for label, how in SCALING_CASES.items()}
    start = SCALING_START + (0.0,) * (raw.d - 1)
    return engine.compare_scalings(cases, True, start, probe_lr=probe_lr)


# ----------------------------------------------------------------------------------------------------------------
# mini-batch noise
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NoiseResult:
    dataset: engine.Dataset
    config: engine.TrainConfig
    groups: list[engine.NoiseRuns]
    surface: engine.Surface
    shortened_from: int | None  # the epochs asked for, when they were cut to keep single-sample runs short


def batch_noise(values: Mapping, data: engine.Dataset | None = None) -> NoiseResult:
    """Plain SGD at the chosen learning rate with batch sizes 1, the chosen mini-batch size and all points."""
    ds, cfg = setup(values, data)
    epochs = max(1, min(cfg.epochs, NOISE_STEP_BUDGET // ds.n))
    base = dataclasses.replace(
        cfg, method="analytic", optimizer="sgd", momentum=0.0, nesterov=False, batch_size=None, epochs=epochs
    )
    sizes = (1, int(values["batch_size"]), None)
    groups = engine.batch_noise(ds, base, sizes, seeds=NOISE_SEEDS)
    path = np.concatenate([h.params for g in groups for h in g.runs])
    surface = engine.loss_surface(ds, cfg.fit_bias, path=path)
    return NoiseResult(ds, base, groups, surface, cfg.epochs if epochs < cfg.epochs else None)


def batch_label(batch_size: int | None) -> str:
    return "full batch" if batch_size is None else ("batch size 1" if batch_size == 1 else f"batch size {batch_size}")


# ----------------------------------------------------------------------------------------------------------------
# what the animated figures draw
# ----------------------------------------------------------------------------------------------------------------


def race_tracks(result: RaceResult) -> list[charts.Track]:
    """One animated path per racer, named with its learning rate."""
    return [
        charts.Track.of(f"{r.name} (lr {lr:.3g})", h, color)
        for r, lr, h, color in zip(engine.RACERS, result.lrs, result.histories, RACE_COLORS, strict=False)
    ]


def race_player(result: RaceResult) -> dict:
    """The race player's payload: every racer's path and loss, and a sentence of how the race ends."""
    steps = max(len(h.loss) for h in result.histories) - 1
    finals = [
        (float(h.loss[-1]), r.name)
        for r, h in zip(engine.RACERS, result.histories, strict=False)
        if not h.diverged and np.isfinite(h.loss[-1])
    ]
    words = f"{len(result.histories)} optimizers from one start, {steps} steps"
    if finals:
        loss, name = min(finals)
        words += f": the lowest final loss is {name}'s, {loss:.4g}"
    return charts.race_payload(result.surface, race_tracks(result), "Optimizer race", words + ".")


def noise_player(result: NoiseResult) -> dict:
    """The race player's payload for the mini-batch runs: one seed of each batch size moving, the others faint,
    the seeds' spread shaded, time in epochs."""
    tracks, ghosts, bands = noise_tracks(result)
    words = (
        f"{len(tracks)} batch sizes ({', '.join(t.name for t in tracks)}), {result.config.epochs} epoch(s) each; "
        f"one seed of each moves, the other {NOISE_SEEDS - 1} are drawn faintly"
    )
    return charts.race_payload(
        result.surface, tracks, "Mini-batch noise", words + ".", time_title="epoch", bands=bands, ghosts=ghosts
    )


def noise_tracks(result: NoiseResult) -> tuple[list[charts.Track], tuple[charts.Track, ...], tuple[charts.Band, ...]]:
    """Per batch size: the first seed's run animated, the other seeds as faint paths, the seeds' spread as a band;
    the loss panel counts epochs, so runs with different batch sizes line up by passes over the data."""
    tracks, ghosts, bands = [], [], []
    for g, color in zip(result.groups, NOISE_COLORS, strict=False):
        name = batch_label(g.batch_size)
        tracks.append(charts.Track.of(name, g.runs[0], color, per_epoch=True))
        ghosts += [charts.Track.of(name, h, color, per_epoch=True) for h in g.runs[1:]]
        if len(g.runs) > 1:
            time = np.arange(len(g.low)) / g.steps_per_epoch
            bands.append(charts.Band(f"{name}: range over {len(g.runs)} seeds", time, g.low, g.high, color))
    return tracks, tuple(ghosts), tuple(bands)
