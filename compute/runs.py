"""From control values to a finished run: dataset, config, history and the closed-form facts around it.

Pure Python (no streamlit): pages call it through a cached wrapper; tests call it directly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

import engine
from settings.controls import MAX_UI_POINTS

SCALING_ARGS = {"standardize": ("standardize", 1.0), "x0.1": ("multiply", 0.1)}


@dataclass(frozen=True, eq=False)
class RunResult:
    """Everything the pages draw and explain for one configuration."""

    dataset: engine.Dataset  # the data as trained on (scaled if scaling was chosen)
    raw: engine.Dataset  # the data before scaling
    config: engine.TrainConfig
    history: engine.History
    surface: engine.Surface
    stability: engine.Stability
    lr_limit: float | None  # largest stable lr for this optimizer and momentum; None when there is no fixed one
    batch_lr_limit: float | None  # with mini-batches: a rate safe for every batch (None for full batch / adaptive)
    optimum: np.ndarray  # least-squares parameters (the minimum-norm one when not unique)
    optimum_note: str | None  # why the optimum is not unique, if it is not

    @property
    def fit_bias(self) -> bool:
        return self.config.fit_bias

    @property
    def param_names(self) -> tuple[str, ...]:
        return self.history.param_names


NO_UPLOAD = (
    "This link uses uploaded data, which stays in the browser session that uploaded it. Open “Your data” to "
    "upload a table (or pick a sample), or choose a built-in dataset."
)


def build_dataset(values: Mapping, custom: engine.Dataset | None = None) -> tuple[engine.Dataset, engine.Dataset]:
    """The raw dataset the controls name (dataset "custom": the session's upload), and the same data after the
    chosen input scaling."""
    if values["dataset"] == "custom":
        if custom is None:
            raise ValueError(NO_UPLOAD)
        raw = custom
    else:
        n = min(int(values["n"]), MAX_UI_POINTS)
        raw = engine.make_dataset(values["dataset"], n=n, noise=float(values["noise"]), seed=int(values["seed"]))
    return raw, scaled(raw, values["scaling"], raw.default_fit_bias)


def scaled(raw: engine.Dataset, scaling: str, fit_bias: bool) -> engine.Dataset:
    """Apply a scaling control value; without a bias, standardizing only divides (centring needs a bias)."""
    if scaling not in SCALING_ARGS:
        return raw
    how, factor = SCALING_ARGS[scaling]
    return engine.scale_inputs(raw, how, factor=factor, center=fit_bias)


def build_config(values: Mapping, ds: engine.Dataset, fit_bias: bool | None = None) -> engine.TrainConfig:
    """The TrainConfig the controls describe, for this dataset."""
    fit_bias = ds.default_fit_bias if fit_bias is None else fit_bias
    method, optimizer = values["method"], values["optimizer"] if values["method"] == "optimizer" else "sgd"
    momentum = float(values["momentum"]) if engine.takes_momentum(method, optimizer) else 0.0
    nesterov = bool(values["nesterov"]) and momentum > 0 and engine.takes_nesterov(method, optimizer)
    batch_size = batch_size_of(values)
    start = [float(values["w0"])] + ([float(values["w2_0"])] if ds.d == 2 else [])
    if fit_bias:
        start.append(float(values["b0"]))
    if ds.scaling is not None and not (ds.scaling.how == "standardize" and not fit_bias and any(ds.scaling.offset)):
        start = list(ds.scaling.to_scaled(start))  # the start is given in the original units
    return engine.TrainConfig(
        method=method,
        optimizer=optimizer,
        lr=float(values["lr"]),
        momentum=momentum,
        nesterov=nesterov,
        epochs=int(values["epochs"]),
        batch_size=batch_size,
        init=tuple(start),
        fit_bias=fit_bias,
        fd_delta=float(values["fd_delta"]),
        seed=int(values["seed"]),
        device=values["device"],
        zero_grad=bool(values["zero_grad"]),
        test_fraction=float(values["test_fraction"]),
        weight_decay=float(values["weight_decay"]),
    )


def batch_size_of(values: Mapping) -> int | None:
    """The mini-batch size the controls ask for; None for the full batch."""
    return {"full": None, "single sample": 1}.get(values["batch"], int(values["batch_size"]))


def planned_steps(values: Mapping, custom: engine.Dataset | None = None) -> int:
    """How many updates the run the controls describe makes if it does not diverge (without building it)."""
    n = custom.n if values["dataset"] == "custom" and custom is not None else min(int(values["n"]), MAX_UI_POINTS)
    batch = batch_size_of(values)
    return int(values["epochs"]) * (1 if batch is None or batch >= n else math.ceil(n / batch))


def lr_limit(stab: engine.Stability, cfg: engine.TrainConfig) -> float | None:
    """The largest stable learning rate for plain SGD (with this momentum); None for adaptive optimizers, and for
    runs that never zero the gradient (their step is the running sum of the gradients: no limit of this kind)."""
    if (cfg.method == "optimizer" and cfg.optimizer != "sgd") or not cfg.zero_grad:
        return None
    return stab.max_stable_lr_with_momentum(cfg.momentum, cfg.nesterov)


def batch_lr_limit(ds: engine.Dataset, cfg: engine.TrainConfig) -> float | None:
    """For mini-batch runs of plain SGD, a rate below every batch's own limit: (1 - beta) / max |x_i|^2. Without
    momentum it is a true bound (no batch's step can grow the error); with momentum a conservative rule of thumb."""
    if cfg.batch_size is None or (cfg.method == "optimizer" and cfg.optimizer != "sgd") or not cfg.zero_grad:
        return None
    return engine.batch_max_stable_lr(ds, cfg.fit_bias, cfg.momentum, cfg.nesterov)


def safe_limit(result: RunResult) -> float | None:
    """The learning-rate limit a fix should respect: the every-batch one for mini-batches, else the full-data one."""
    limits = [v for v in (result.lr_limit, result.batch_lr_limit) if v is not None and math.isfinite(v)]
    return min(limits) if limits else None


def compute(values: Mapping, custom: engine.Dataset | None = None, lock=None) -> RunResult:
    """Train the run the controls describe and gather what the page shows; ValueError for impossible settings."""
    raw, ds = build_dataset(values, custom)
    cfg = build_config(values, ds)
    return compute_for(raw, ds, cfg, lock)


CHUNK_STEPS = 500  # a long run lets go of the shared lock this often, so short runs of other students get in


def train_fairly(ds: engine.Dataset, cfg: engine.TrainConfig, lock=None) -> engine.History:
    """engine.train, but holding `lock` (a process-wide training lock) only CHUNK_STEPS updates at a time."""
    trainer = engine.Trainer(ds, cfg)
    while not trainer.done:
        if lock is None:
            trainer.run()
        else:
            with lock:
                trainer.run(CHUNK_STEPS)
    return trainer.history()


def compute_for(raw: engine.Dataset, ds: engine.Dataset, cfg: engine.TrainConfig, lock=None) -> RunResult:
    """The same as compute() for a dataset and config built elsewhere (uploaded data, other pages).

    With a test set the surface, the stability limits and the optimum are the training rows' (what the run
    minimizes); with weight decay the limits are those of the regularized loss, and the surface and optimum stay the
    data loss's (the run then settles beside the star, at the ridge optimum)."""
    history = train_fairly(ds, cfg, lock)
    fit_rows = training_rows(ds, cfg)
    quad = engine.Quadratic.of(fit_rows, cfg.fit_bias)
    stab = engine.stability(fit_rows, cfg.fit_bias, cfg.weight_decay)
    return RunResult(
        dataset=ds,
        raw=raw,
        config=cfg,
        history=history,
        surface=engine.loss_surface(fit_rows, cfg.fit_bias, path=history.params),
        stability=stab,
        lr_limit=lr_limit(stab, cfg),
        batch_lr_limit=batch_lr_limit(ds, cfg),
        optimum=quad.optimum,
        optimum_note=engine.optimum_problem(fit_rows, cfg.fit_bias),
    )


def training_rows(ds: engine.Dataset, cfg: engine.TrainConfig) -> engine.Dataset:
    """The rows the run trains on: all of them, or engine.split's training part when the config holds some out."""
    return engine.split(ds, cfg.test_fraction, cfg.seed)[0] if cfg.test_fraction else ds


def one_click_fixes(result: RunResult, values: Mapping, grid: tuple[float, ...]) -> list[tuple[str, dict]]:
    """The buttons a diverging run offers, as (label, control changes), the fix of its named cause first: δ for a
    finite-difference estimate drowned in rounding, zeroing for a run that never zeroes, else a stable rate; then
    standardizing badly scaled inputs. The page drops those a teacher's link hides or locks."""
    fixes = []
    if fd_noise(result) is not None:
        fixes.append(("Use δ = 0.1 for the finite differences", {"fd_delta": 0.1}))
    elif not result.config.zero_grad:
        fixes.append(("Zero the gradient after each step", {"zero_grad": True}))
    else:
        limit = safe_limit(result)
        if limit:
            safe = safe_lr(min(limit, float(values["lr"])), grid)
            fixes.append((f"Use a stable learning rate ({safe:g})", {"lr": safe}))
    if result.stability.condition_number > 100 and values["scaling"] == "none":
        fixes.append(("Standardize the inputs", {"scaling": "standardize"}))
    return fixes


def safe_lr(limit: float, grid: tuple[float, ...]) -> float:
    """The largest learning rate on the slider's ladder that is safely (10 %) below a stability limit."""
    below = [v for v in grid if v <= 0.9 * limit]
    return below[-1] if below else grid[0]


def divergence_message(result: RunResult) -> str:
    """Plain words for why a run blew up, with its numbers: the cause named is the one the numbers show."""
    h, cfg = result.history, result.config
    at = f"at step {h.diverged_at}" if h.diverged_at is not None else ""
    limit = result.lr_limit
    if not cfg.zero_grad:
        return f"The run diverged {at}: {no_zero_grad_text(cfg, result.stability)}"
    if engine.lr_regime(cfg.lr, limit) == engine.DIVERGES:
        exact = engine.limit_text(cfg.lr, limit)
        momentum = f" with momentum {cfg.momentum:g}" if cfg.momentum else ""
        return (
            f"The run diverged {at}: the learning rate {cfg.lr:g} is {engine.ratio_text(cfg.lr, limit)}× this data's "
            f"limit {exact}{momentum}, so each step overshoots the bottom of the valley by more than it started "
            "from and the parameters swing further out every time."
        )
    noise = fd_noise(result)
    if noise is not None:
        return (
            f"The run diverged {at}, below the learning-rate limit ({limit:.3g}): the cause is the finite-difference "
            f"step δ = {cfg.fd_delta:g}. The two nudged losses are float32 numbers, rounded to about "
            f"{noise['rounding']:.2g} at this loss, so their difference divided by 2δ can be off by up to "
            f"{noise['error']:.2g}, against a gradient of size {noise['grad']:.2g}: the estimate is mostly rounding "
            "noise. A larger δ fixes it: central differences are exact for this quadratic loss at any δ, so 0.1 loses "
            "nothing."
        )
    if cfg.batch_size is not None:
        below = f" is below the full-data limit {limit:.3g}, but" if limit is not None else ""
        batch = result.batch_lr_limit
        safe = ""
        if batch is not None:
            safe = (
                f" Below {batch:.3g} no batch's own step can grow the error."
                if not cfg.uses_momentum
                else f" A conservative rule of thumb with momentum: stay below {batch:.3g}, (1 − β)/max|x|²."
            )
        return (
            f"The run diverged {at}: the learning rate {cfg.lr:g}{below} single mini-batches can be much steeper "
            "than the whole data, and a step that is safe on average overshoots on them. Use a smaller learning "
            f"rate or larger batches.{safe}"
        )
    return (
        f"The run diverged {at}: the steps of {OPTIMIZER_NAMES.get(cfg.optimizer, cfg.optimizer)} with learning "
        f"rate {cfg.lr:g} grew instead of shrinking. Try a learning rate ten times smaller."
    )


def no_zero_grad_text(cfg: engine.TrainConfig, stab: engine.Stability) -> str:
    """What a run that never zeroes the gradient does, for its momentum and learning rate.

    PyTorch adds each new gradient to .grad, so the step uses the sum of every gradient so far: the momentum
    recursion with beta = 1. With no momentum of its own that swings for ever at constant size while lr·λmax < 4
    (heavy ball's limit (2 + 2·1)/λmax) and grows beyond; with any momentum on top it grows at every learning rate."""
    head = "the gradient is never zeroed, so each step uses the sum of all the gradients so far (momentum 1, in effect)"
    if cfg.uses_momentum:
        return f"{head}, and with momentum {cfg.momentum:g} on top that sum grows at every learning rate."
    lr_lam = cfg.lr * float(stab.eigenvalues[-1])
    if lr_lam < 4:
        return (
            f"{head}: with no momentum and lr·λmax = {lr_lam:.3g} below 4 the parameters swing for ever around the "
            "best fit at about constant size, never settling."
        )
    return f"{head}: with lr·λmax = {lr_lam:.3g}, at or above 4, the swings grow."


FD_NOISE_SHARE = 0.1  # finite differences are blamed when their rounding error can reach a tenth of the gradient


def fd_noise(result: RunResult) -> dict | None:
    """For a finite-difference run whose estimate is swamped by float32 rounding, the sizes that show it (the
    loss's rounding unit, the estimate's worst error, the true gradient's size at the start); None otherwise.

    Each nudged loss is rounded to within half a float32 unit of its size, L * 2**-24; their difference over 2δ
    can then be off by L * 2**-24 / δ in each coordinate."""
    cfg, h = result.config, result.history
    if cfg.method != "finite-difference":
        return None
    loss = float(h.loss[0])
    rounding = loss * 2.0**-24
    error = rounding / cfg.fd_delta
    quad = engine.Quadratic.of(result.dataset, cfg.fit_bias)
    grad = float(np.linalg.norm(quad.grad(h.params[0])))
    if error < FD_NOISE_SHARE * max(grad, 1e-30) and error < FD_NOISE_SHARE * float(np.abs(h.grads).mean()):
        return None
    return {"rounding": rounding, "error": error, "grad": grad}


def growing_message(result: RunResult) -> str | None:
    """Plain words for a run above its stability limit that has not blown up yet (just above the limit, the loss
    can grow for many steps before the divergence check calls it diverged), or for one exactly at the limit;
    None for every other run."""
    h, cfg, limit = result.history, result.config, result.lr_limit
    regime = engine.lr_regime(cfg.lr, limit)
    if h.diverged or h.steps == 0 or regime not in (engine.AT_LIMIT, engine.DIVERGES):
        return None
    momentum = f" with momentum {cfg.momentum:g}" if cfg.momentum else ""
    ratio, exact = engine.ratio_text(cfg.lr, limit), engine.limit_text(cfg.lr, limit)
    if regime == engine.AT_LIMIT:
        return (
            f"This run is at the stability limit: the learning rate {cfg.lr:g} is {ratio}× this data's limit "
            f"{exact}{momentum} (equal up to float32 rounding). Along the steepest direction each step lands "
            "exactly as far out on the other side, so the parameters flip between two points for ever: the loss went "
            f"from {h.loss[0]:.4g} to {h.loss[-1]:.4g} and stays above the best possible {result.surface.min_loss:.4g}."
        )
    low = int(np.argmin(h.loss))
    if h.loss[-1] <= h.loss[low]:
        return None
    course = (
        f"the loss grew from {h.loss[0]:.4g} to {h.loss[-1]:.4g}"
        if low == 0
        else f"the loss came down to {h.loss[low]:.4g} at step {low}, then grew to {h.loss[-1]:.4g}"
    )
    return (
        f"This run is diverging: the learning rate {cfg.lr:g} is {ratio}× this data's limit {exact}{momentum}, "
        f"so each step overshoots the bottom of the valley and lands further out on the other side; {course} in "
        f"{h.steps} step{'s' if h.steps != 1 else ''}. With more epochs it would blow up."
    )


OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
