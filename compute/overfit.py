"""The "Overfitting & regularization" page's results: polynomial features of a wave's or a line's points, a
held-out test set, weight decay and L1; the run, the degree and weight-decay sweeps (one batched engine call each),
conditioning against the degree, the two-weight picture and the eigen-direction view.

Pure functions first (testable without Streamlit), then their caches: each result is keyed by the few control values
it depends on, so a degree move reuses both sweeps; figures are cached apart, as JSON specs (compute/explore_cache.py's
pattern, in one memory-bounded cache). Torch work runs in a worker process (server/worker.py), as the playground's
does: in the server's own threads, beside another student's script running Python, it waited for the GIL at every
torch operation (the fit player's work on new values: ~27 ms alone, 14 s beside a thread running Python all the time,
127 ms from the worker; `python bench/bench_worker.py --overfit`); where workers are off or fail, in the server's
thread under cache.TRAIN_LOCK.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

import charts
import engine
from charts.common import frame_steps
from compute.cache import TRAIN_LOCK, _key, _values
from engine.split import split_rows
from server import worker
from server.bounded_cache import BoundedCache, budget_from_env
from settings import controls

DATA_KEYS = frozenset({"shape", "n", "noise", "seed", "test_fraction"})
FIT_KEYS = DATA_KEYS | {"degree", "powers", "weight_decay", "l1", "lr", "epochs"}
DEGREE_KEYS = FIT_KEYS - {"degree"}
DECAY_KEYS = FIT_KEYS - {"weight_decay"}
PAIR_KEYS = FIT_KEYS - {"degree"}  # the two-weight picture: degree 2, whatever the page's degree
KEYS = FIT_KEYS  # the controls the page draws
DECAYS = tuple(float(f"{v:.2g}") for v in np.logspace(-4, 1, 20))  # the weight-decay sweep's 20 values
CURVE_POINTS = 160
FRAMES = 80
PAIR_GRID = 70
CHATTER_STEPS = 20  # the last steps in which an L1 run's zeroed weights are watched


def setup(values: Mapping) -> tuple[engine.Dataset, engine.Dataset, engine.TrainConfig]:
    """(the points, a wave or a line, their polynomial features, the run's config): full-batch gradient descent with
    torch.optim.SGD from zeros, with the split, weight decay and L1 the controls ask for."""
    values = controls.defaults() | dict(values)
    n = min(int(values["n"]), controls.MAX_UI_POINTS)
    base = engine.make_dataset(values["shape"], n=n, noise=float(values["noise"]), seed=int(values["seed"]))
    data = engine.polynomial(base, int(values["degree"]), standardize=values["powers"] == "standardized")
    cfg = engine.TrainConfig(
        lr=float(values["lr"]),
        momentum=0.0,
        epochs=int(values["epochs"]),
        init="zeros",
        seed=int(values["seed"]),
        test_fraction=float(values["test_fraction"]),
        weight_decay=float(values["weight_decay"]),
        l1=float(values["l1"]),
    )
    return base, data, cfg


@dataclass(frozen=True, eq=False)
class Fit:
    """The page's run and the closed-form facts around it (all on the training rows)."""

    base: engine.Dataset  # the points (a wave or a line), every one
    data: engine.Dataset  # its polynomial features
    train_rows: np.ndarray  # row indices the run trains on
    test_rows: np.ndarray  # held-out rows (empty without a split)
    config: engine.TrainConfig
    history: engine.History
    stability: engine.Stability  # of the regularized loss the run minimizes
    least_squares: np.ndarray  # the unregularized optimum (minimum-norm when not unique)
    optimum: np.ndarray  # the run's own optimum: ridge, or the lasso (elastic net) solution
    optimum_loss: float  # training MSE there
    optimum_test_loss: float | None
    stop: engine.EarlyStop | None  # the step of the lowest test loss

    @property
    def degree(self) -> int:
        return self.data.polynomial.degree


def fit(values: Mapping) -> Fit:
    """Train the page's run and gather the optima (ValueError for settings the engine refuses)."""
    base, data, cfg = setup(values)
    train_rows, test_rows = split_rows(data.n, cfg.test_fraction, cfg.seed)  # the rows engine.split draws
    history = engine.train(data, cfg)
    train, test = engine.split(data, cfg.test_fraction, cfg.seed) if cfg.test_fraction else (data, None)
    optimum = engine.regularized_optimum(train, True, cfg.weight_decay, cfg.l1)
    quad, test_quad = engine.Quadratic.of(train, True), None if test is None else engine.Quadratic.of(test, True)
    return Fit(
        base=base,
        data=data,
        train_rows=train_rows,
        test_rows=test_rows,
        config=cfg,
        history=history,
        stability=engine.stability(train, True, cfg.weight_decay),
        least_squares=engine.ridge(train, 0.0, True),
        optimum=optimum,
        optimum_loss=float(quad.loss(optimum)),
        optimum_test_loss=None if test_quad is None else float(test_quad.loss(optimum)),
        stop=engine.early_stop(history) if history.test_loss is not None else None,
    )


def degree_sweep(values: Mapping) -> engine.FitSweep:
    """Every degree 1..9 at once (one batched call) at the page's learning rate, on the page's split: the run at the
    page's degree is the page's own run (up to float32 rounding)."""
    _, data, cfg = setup(values)
    base = data.polynomial.base
    return engine.degree_sweep(
        base,
        lr=cfg.lr,
        epochs=cfg.epochs,
        test_fraction=cfg.test_fraction,
        seed=cfg.seed,
        weight_decay=cfg.weight_decay,
        l1=cfg.l1,
        standardize=data.polynomial.standardize,
    )


def decay_sweep(values: Mapping) -> engine.FitSweep:
    """Twenty weight decays from 1e-4 to 10 at once (one batched call) at the page's learning rate: the run at the
    page's decay, when it is one of them, is the page's own run (up to float32 rounding)."""
    _, data, cfg = setup(values)
    return engine.decay_sweep(
        data,
        DECAYS,
        lr=cfg.lr,
        epochs=cfg.epochs,
        test_fraction=cfg.test_fraction,
        seed=cfg.seed,
        l1=cfg.l1,
        keep_params=False,
    )


def conditioning(values: Mapping) -> engine.Conditioning:
    """Condition number and GD steps at the best rate against the degree, raw and standardized, on the training
    rows."""
    base, _, cfg = setup(values | {"degree": 1})
    train = engine.split(base, cfg.test_fraction, cfg.seed)[0] if cfg.test_fraction else base
    return engine.conditioning(train)


def decay_family(values: Mapping) -> engine.FitSweep:
    """The fit player's weight-decay slider: a run for every rung of the control's ladder (0 included, and the
    page's own value when a link put it between rungs) at the page's degree, in one batched call."""
    _, data, cfg = setup(values)
    return engine.decay_sweep(
        data,
        controls.grid_options("weight_decay", cfg.weight_decay),
        lr=cfg.lr,
        epochs=cfg.epochs,
        test_fraction=cfg.test_fraction,
        seed=cfg.seed,
        l1=cfg.l1,
    )


def _words(loss: np.ndarray, test: np.ndarray | None, diverged_at: int) -> tuple[str, str, int]:
    """(a sentence, a few words, the step of the lowest test loss or -1) for one run's losses per step."""
    if diverged_at >= 0:
        return f"blows up: the loss passes its limit at step {diverged_at}", "blows up", -1
    steps = len(loss) - 1
    if test is None:
        return f"training loss {loss[-1]:.4g} after {steps} steps", f"training loss {loss[-1]:.3g}", -1
    stop = int(np.nanargmin(test))
    return (
        f"training loss {loss[-1]:.4g}, test loss {test[-1]:.4g} after {steps} steps; the lowest test loss, "
        f"{test[stop]:.4g}, at step {stop}",
        f"test loss {test[-1]:.3g}",
        stop,
    )


def _family_runs(sweep: engine.FitSweep, values, current: int, lead) -> charts.FitRuns:
    """A sweep (kept parameters) as one of the fit player's families; lead(k) starts run k's sentence."""
    k_runs, width = len(sweep.degrees), sweep.params.shape[2]
    optimum = np.zeros((k_runs, width))
    words = []
    for k in range(k_runs):
        optimum[k, : sweep.n_params[k]] = sweep.optimum[k]
        test = None if sweep.test_loss is None else sweep.test_loss[:, k]
        words.append(_words(sweep.loss[:, k], test, int(sweep.diverged_at[k])))
    return charts.FitRuns(
        values=[float(v) for v in values],
        degrees=[int(d) for d in sweep.degrees],
        params=sweep.params,
        loss=sweep.loss,
        test_loss=sweep.test_loss,
        optimum=optimum,
        diverged=[bool(v) for v in sweep.diverged],
        stops=[w[2] for w in words],
        labels=[f"{lead(k)}: {w[0]}" for k, w in enumerate(words)],
        texts=[f"{float(v):g}: {w[1]}" for v, w in zip(values, words, strict=True)],
        current=current,
    )


def _own_runs(result: Fit) -> charts.FitRuns:
    """The page's own run (engine.train), padded with NaN after a blow-up to the full number of steps."""
    h, cfg = result.history, result.config
    steps = cfg.epochs * h.steps_per_epoch

    def padded(a):
        out = np.full((steps + 1, *np.shape(a)[1:]), np.nan)
        out[: len(a)] = a
        return out

    test = None if h.test_loss is None else np.asarray(h.test_loss)
    sentence, short, stop = _words(np.asarray(h.loss), test, int(h.diverged_at) if h.diverged else -1)
    return charts.FitRuns(
        values=[float(cfg.weight_decay)],
        degrees=[result.degree],
        params=padded(h.params)[:, None, :],
        loss=padded(np.asarray(h.loss))[:, None],
        test_loss=None if test is None else padded(test)[:, None],
        optimum=np.asarray(result.optimum, dtype=np.float64)[None, :],
        diverged=[bool(h.diverged)],
        stops=[stop],
        labels=[f"Degree {result.degree}, weight decay {cfg.weight_decay:g}: {sentence}"],
        texts=[short],
        current=0,
    )


def player(values: Mapping) -> dict:
    """The fit player's payload (charts/fit_player.py): the page's run, the degree family (the degree sweep, every
    degree at the page's weight decay) and the weight-decay family (every rung at the page's degree)."""
    result = cached_fit(values)
    return _player(values, result.base, result.test_rows, result.config, _own_runs(result), cached_degrees(values))


def player_first(values: Mapping) -> dict | None:
    """The fit player's payload from its families alone, the page's own run taken from the degree sweep (the same path
    as engine.train's to float32 rounding) rather than trained, ~7 of the player's ~13 ms; None when the sweep's run
    at the page's degree blows up (engine.train ends it at a step of its own). What the route answers a player that
    draws a run at once (components/live_route.py): the whole, asked for next, trains it (cached_fit), and the player
    takes engine.train's run in its place."""
    cached_families(values)
    degrees = cached_degrees(values)
    base, data, cfg = setup(values)
    degree, k = int(values["degree"]), int(values["degree"]) - 1
    if degrees.degrees[k] != degree or degrees.diverged[k]:
        return None
    p = int(degrees.n_params[k])
    test = None if degrees.test_loss is None else degrees.test_loss[:, k : k + 1]
    sentence, short, stop = _words(degrees.loss[:, k], None if test is None else test[:, 0], -1)
    own = charts.FitRuns(
        values=[float(cfg.weight_decay)],
        degrees=[degree],
        params=degrees.params[:, k : k + 1, :p],
        loss=degrees.loss[:, k : k + 1],
        test_loss=test,
        optimum=np.asarray(degrees.optimum[k], dtype=np.float64)[None, :p],
        diverged=[False],
        stops=[stop],
        labels=[f"Degree {degree}, weight decay {cfg.weight_decay:g}: {sentence}"],
        texts=[short],
        current=0,
    )
    return _player(values, base, split_rows(data.n, cfg.test_fraction, cfg.seed)[1], cfg, own, degrees)


def _player(values: Mapping, base: engine.Dataset, test_rows, cfg, own: charts.FitRuns, degrees) -> dict:
    """The payload around the page's run `own` and its degree sweep `degrees` (each caller holds it already)."""
    decays = cached_decay_family(values)
    degree = int(values["degree"])
    x, y = base.x.double().numpy()[:, 0], base.y.double().numpy()
    grid, features = cached_curve(values)
    ladder = list(decays.weight_decays)
    families = {
        "degree": _family_runs(
            degrees,
            degrees.degrees,
            degree - 1,
            lambda k: f"Degree {int(degrees.degrees[k])}, weight decay {cfg.weight_decay:g}",
        ),
        "weight_decay": _family_runs(
            decays,
            ladder,
            ladder.index(cfg.weight_decay),
            lambda k: f"Degree {degree}, weight decay {ladder[k]:g}",
        ),
    }
    return charts.fit_payload(
        x,
        y,
        test_rows,
        grid,
        features,
        frame_steps(cfg.epochs, max_frames=FRAMES),
        own,
        families,
        {"degree": "Degree", "weight_decay": "Weight decay"},
        {"degree": degree, "weight_decay": cfg.weight_decay},
    )


def curve(values: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """The fit player's curve: a grid across the points' x and the features there, degree 9's (every degree's
    columns are the first of degree 9's), as the engine makes them from these points."""
    base = setup(values | {"degree": 1})[0]
    x = base.x.double().numpy()[:, 0]
    grid = np.linspace(x.min(), x.max(), CURVE_POINTS) if x.max() > x.min() else x[0] + np.linspace(-1, 1, 3)
    top = engine.polynomial(base, engine.MAX_DEGREE, standardize=values["powers"] == "standardized")
    return grid, top.polynomial.features(grid)


@dataclass(frozen=True, eq=False)
class Pair:
    """The two-weight case: degree 2 (x and x^2) with the page's other settings, its bias at its best for each
    (w1, w2) on the picture, so the data loss there is exact and two-dimensional."""

    fit: Fit
    w1: np.ndarray  # (g,)
    w2: np.ndarray  # (g,)
    data_loss: np.ndarray  # (g, g) training MSE at (w1[j], w2[i]) with the best bias
    penalty: np.ndarray  # (g, g) (wd/2)||w||^2 + l1 ||w||_1
    path: np.ndarray  # (steps + 1, 2) the run's (w1, w2)


def pair(values: Mapping) -> Pair:
    """The run at degree 2 and the two pictures' grids around its path and both optima."""
    result = fit(values | {"degree": 2})
    cfg = result.config
    train = engine.split(result.data, cfg.test_fraction, cfg.seed)[0] if cfg.test_fraction else result.data
    path = result.history.params[:, :2]
    tame = path[np.isfinite(path).all(axis=1)]
    start_loss = float(result.history.loss[0])
    keep = result.history.loss[: len(tame)] <= 100 * max(start_loss, 1e-12)
    pts = np.vstack([tame[keep], result.least_squares[:2], result.optimum[:2], np.zeros(2)])
    lo, hi = pts.min(0), pts.max(0)
    # a square around them: the figure draws both weights at the same scale (circles round), so the grid must fill
    # the whole square, not only the band the path runs in
    centre, half = (lo + hi) / 2, 0.6 * max(float((hi - lo).max()), 1e-3 * max(float(np.abs(pts).max()), 1.0))
    w1 = np.linspace(centre[0] - half, centre[0] + half, PAIR_GRID)
    w2 = np.linspace(centre[1] - half, centre[1] + half, PAIR_GRID)
    a, b = np.meshgrid(w1, w2)
    w = np.stack([a, b], axis=-1)
    x, y = train.x.double().numpy(), train.y.double().numpy()
    bias = y.mean() - w @ x.mean(0)  # the best bias for each (w1, w2): the loss's minimum along b
    data_loss = engine.regularized_loss(train, np.concatenate([w, bias[..., None]], axis=-1))
    penalty = 0.5 * cfg.weight_decay * np.sum(w**2, axis=-1) + cfg.l1 * np.sum(np.abs(w), axis=-1)
    return Pair(result, w1, w2, data_loss, penalty, path)


@dataclass(frozen=True, eq=False)
class Chatter:
    """What plain (sub)gradient descent does with the weights the lasso sets to exactly 0."""

    zeroed: tuple[int, ...]  # weight indices the lasso optimum sets to 0
    sign_changes: int  # sign changes of those weights over the last CHATTER_STEPS steps
    largest: float  # their largest |w| over those steps
    exact_zeros: int  # how many of them gradient descent left at exactly 0 at the end


def chatter(result: Fit) -> Chatter | None:
    """For an L1 run: how the weights that the lasso puts at 0 behave in gradient descent's last steps."""
    if result.config.l1 == 0 or result.history.diverged:
        return None
    d = result.degree
    zeroed = tuple(int(j) for j in np.flatnonzero(result.optimum[:d] == 0))
    if not zeroed:
        return Chatter((), 0, 0.0, 0)
    tail = result.history.params[-(CHATTER_STEPS + 1) :, list(zeroed)]
    signs = np.sign(tail)
    changes = int(np.sum((signs[1:] * signs[:-1]) < 0))
    return Chatter(zeroed, changes, float(np.abs(tail).max()), int(np.sum(tail[-1] == 0)))


@dataclass(frozen=True, eq=False)
class Eigen:
    """The run seen along the Hessian's eigen-directions (degree 2 and up: three or more parameters)."""

    plane: engine.PlaneSurface
    milestones: engine.Milestones


def eigen(result: Fit) -> Eigen | None:
    """The eigen-plane through the optimum with the run's path, and the loss split by eigen-direction."""
    if result.degree < 2 or result.history.diverged:
        return None
    cfg = result.config
    train = engine.split(result.data, cfg.test_fraction, cfg.seed)[0] if cfg.test_fraction else result.data
    params = result.history.params
    plane = engine.plane_surface(train, params, True, cfg.weight_decay, cfg.l1, resolution=60)
    return Eigen(plane, engine.milestones(train, params, True, cfg.weight_decay))


# ----------------------------------------------------------------------------------------------------------------
# caches: results and figures in one memory-bounded cache (a quarter of the runs' budget, as the Explorer's)
# ----------------------------------------------------------------------------------------------------------------

CACHE = BoundedCache(budget_from_env() // 4)


def _subset(values: Mapping, keys: frozenset) -> str:
    return _key({k: values[k] for k in keys})


def _compute(compute, key: str, lock=None):
    """compute(values) for a cache key: in a worker process (no lock), or in the server's thread under the lock."""
    with lock if lock is not None else contextlib.nullcontext():
        return compute(_values(key))


def _cached(kind: str, key: str, compute):
    """compute (a function of this module: a worker finds it by name) for a cache key, computed once."""

    def computed():
        long = int(_values(key).get("epochs", 0)) > worker.LONG_STEPS  # full batch: a step per epoch
        return worker.run(_compute, compute, key, lock=TRAIN_LOCK, long=long)

    return CACHE.get((kind, key), computed)


def _compute_all(tasks, lock=None) -> list:
    """[compute(values) for each (compute, cache key)], in one call (to a worker)."""
    return [_compute(compute, key, lock) for compute, key in tasks]


def _cached_together(parts) -> None:
    """Of the (kind, key, compute) parts, those not cached yet computed in one call to the worker and cached: one round
    trip rather than one each (about a millisecond each beside the browser, `python bench/bench_overfit_latency.py`)."""
    missing = [(kind, key, compute) for kind, key, compute in parts if (kind, key) not in CACHE]
    if len(missing) < 2:
        return
    long = max(int(_values(key).get("epochs", 0)) for _, key, _ in missing) > worker.LONG_STEPS
    results = worker.run(_compute_all, [(compute, key) for _, key, compute in missing], lock=TRAIN_LOCK, long=long)
    for (kind, key, _), result in zip(missing, results, strict=True):
        CACHE.get((kind, key), lambda result=result: result)


def cached_fit(values: Mapping) -> Fit:
    return _cached("fit", _subset(values, FIT_KEYS), fit)


def cached_degrees(values: Mapping) -> engine.FitSweep:
    return _cached("degrees", _subset(values, DEGREE_KEYS), degree_sweep)


def cached_decays(values: Mapping) -> engine.FitSweep:
    return _cached("decays", _subset(values, DECAY_KEYS), decay_sweep)


def _decay_family_key(values: Mapping) -> str:
    """Without the weight decay, unless a link put it between the ladder's rungs (then the ladder has it)."""
    off_grid = float(values["weight_decay"]) not in controls.DECAY_GRID
    return _subset(values, DECAY_KEYS | ({"weight_decay"} if off_grid else set()))


def cached_decay_family(values: Mapping) -> engine.FitSweep:
    return _cached("decay family", _decay_family_key(values), decay_family)


def cached_curve(values: Mapping) -> tuple[np.ndarray, np.ndarray]:
    return _cached("curve", _subset(values, DATA_KEYS | {"powers"}), curve)


def cached_families(values: Mapping) -> None:
    """The fit player's families and curve in the cache, those not there yet computed in one worker call."""
    _cached_together(
        [
            ("degrees", _subset(values, DEGREE_KEYS), degree_sweep),
            ("decay family", _decay_family_key(values), decay_family),
            ("curve", _subset(values, DATA_KEYS | {"powers"}), curve),
        ]
    )


def cached_player(values: Mapping, states: Mapping[str, str]) -> dict:
    """The fit player's payload (cached by every control the run depends on) with the page's control states."""
    key = _subset(values, FIT_KEYS)
    data = CACHE.get(("player", key), lambda: player(_values(key)))
    return data | {"controls": dict(states)}


def player_now(values: Mapping) -> dict:
    """The fit player's payload for a run it draws now: as the cache holds it, else from its families alone
    (player_first), else the whole."""
    key = _subset(values, FIT_KEYS)
    data = CACHE.peek(("player", key))
    if data is None:
        data = player_first(_values(key))
    return cached_player(values, {}) if data is None else data | {"controls": {}}


def cached_conditioning(values: Mapping) -> engine.Conditioning:
    return _cached("conditioning", _subset(values, DATA_KEYS), conditioning)


def cached_pair(values: Mapping) -> Pair:
    return _cached("pair", _subset(values, PAIR_KEYS), pair)


def _figure(kind: str, key: str, draw) -> charts.Prebuilt:
    return charts.from_spec(CACHE.get((kind + " figure", key), lambda: charts.to_spec(draw(_values(key)))))


def _marked(fig: charts.Prebuilt, marks) -> charts.Prebuilt:
    """A cached figure (a fresh copy) with the page's own value added to it."""
    spec = fig.to_dict()
    spec["data"] += marks(spec)
    return fig


def degree_figure(values: Mapping) -> charts.Prebuilt:
    """The same for every degree (cached without it), with the page's own marked."""
    fig = _figure("degrees", _subset(values, DEGREE_KEYS), lambda v: charts.degree_figure(cached_degrees(v)))
    return _marked(fig, lambda spec: charts.degree_mark(spec, int(values["degree"])))


def decay_figure(values: Mapping) -> charts.Prebuilt:
    """The same for every weight decay (cached without it), with the page's own marked."""
    fig = _figure("decays", _subset(values, DECAY_KEYS), lambda v: charts.decay_figure(cached_decays(v)))
    return _marked(fig, lambda spec: charts.decay_mark(spec, float(values["weight_decay"])))


def conditioning_figure(values: Mapping) -> charts.Prebuilt:
    """The same figure for every degree and powers (cached by the data alone), with the page's own ringed."""
    fig = _figure(
        "conditioning", _subset(values, DATA_KEYS), lambda v: charts.conditioning_figure(cached_conditioning(v))
    )
    cond = cached_conditioning(values)
    return _marked(fig, lambda spec: charts.conditioning_marks(cond, int(values["degree"]), values["powers"]))


def pair_figure(values: Mapping) -> charts.Prebuilt:
    def draw(v):
        p = cached_pair(v)
        cfg = p.fit.config
        return charts.penalty_figure(
            p.w1,
            p.w2,
            p.data_loss,
            p.penalty,
            p.path,
            p.fit.least_squares[:2],
            p.fit.optimum[:2],
            cfg.weight_decay,
            cfg.l1,
        )

    return _figure("pair", _subset(values, PAIR_KEYS), draw)


def eigen_figure(values: Mapping) -> charts.Prebuilt | None:
    """The eigen-direction view, or None below degree 2 (two parameters: the plain surface says it all)."""
    key = _subset(values, FIT_KEYS)

    def draw() -> str | None:
        view = eigen(cached_fit(_values(key)))
        return None if view is None else charts.to_spec(charts.eigen_figure(view.plane, view.milestones))

    spec = CACHE.get(("eigen figure", key), draw)
    return None if spec is None else charts.from_spec(spec)
