"""One schema of every control: it drives the widgets, the URL query string and validation.

Like TensorFlow Playground's state.ts: a control is declared once (key, label, kind, range, default, help) and
everything else is derived from that declaration. Nothing here imports streamlit, so it is unit-testable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import engine

# UI caps on top of the engine's (a URL can carry any value; these keep one class's server responsive).
MAX_UI_POINTS = 2_000


def _log_grid(lo_exp: int, hi_exp: int, mantissas=(1, 1.5, 2, 3, 5, 7)) -> tuple[float, ...]:
    """Nice numbers spaced roughly evenly on a log scale, from 10**lo_exp to 10**hi_exp."""
    values = [float(f"{m * 10.0**e:.6g}") for e in range(lo_exp, hi_exp) for m in mantissas]
    return tuple(values + [float(10**hi_exp)])


LR_GRID = _log_grid(-5, 1)  # 1e-5 ... 10
DELTA_GRID = _log_grid(-7, 0, mantissas=(1, 3))  # 1e-7 ... 1
EPOCH_GRID = (1, 2, 3, 5, 10, 20, 30, 40, 50, 60, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000)
BATCH_MODES = ("full", "mini-batch", "single sample")
# weight decay and L1 strength: 0 (off), then a log ladder
DECAY_GRID = (0.0, *_log_grid(-4, 1, mantissas=(1, 2, 5)))  # 0, 1e-4 ... 10
L1_GRID = (0.0, *_log_grid(-4, 0, mantissas=(1, 2, 5)), 2.0, 5.0)  # 0, 1e-4 ... 5
POWERS = ("standardized", "raw")
SCALINGS = ("none", "standardize", "x0.1")
DATASET_LABELS = {
    "line": "Line: y = 2x + 1 + noise (tutorial 001)",
    "plane": "Plane: two features (tutorial 000)",
    "thermometer": "Thermometer readings (tutorial 003)",
    "single-point": "One point: x = 2, y = 4 (tutorial 002)",
    "four-points": "A batch: x = 1..4, y = 2x (tutorial 002)",
    "lab": "Lab: y = 3x + 2, x = 0..9 (tutorial 002)",
    "wave": "Wave: y = 2·sin(πx) + noise (a curve; see Overfitting)",
    "custom": "Your data (from the “Your data” page)",
}
METHOD_LABELS = {
    "optimizer": "nn.Linear + torch.optim",
    "autograd": "raw tensors + loss.backward()",
    "finite-difference": "finite differences (no autograd)",
    "analytic": "closed-form gradient formula",
}
OPTIMIZER_LABELS = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


@dataclass(frozen=True)
class Control:
    """One setting: how it is shown, what values it accepts and what it starts at."""

    key: str
    label: str
    kind: str  # "choice" | "grid" (a log/number ladder) | "int" | "float" | "bool"
    default: object
    help: str = ""
    options: tuple = ()
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    labels: Mapping = field(default_factory=dict)

    def coerce(self, raw: object) -> object:
        """A valid value from anything (a URL string, a widget value); ValueError says what was wrong."""
        if self.kind == "choice":
            value = str(raw).strip().lower()
            if value not in self.options:
                raise ValueError(f"{raw!r} is not one of {', '.join(map(str, self.options))}")
            return value
        if self.kind == "bool":
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{raw!r} is not true or false")
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{raw!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{raw!r} is not a finite number")
        lo = self.lo if self.lo is not None else -math.inf
        hi = self.hi if self.hi is not None else math.inf
        clamped = min(max(number, lo), hi)
        if clamped != number:
            nearest = int(round(clamped)) if self.whole else clamped
            raise OutOfRange(nearest, f"{raw} is outside {lo:g} to {hi:g}")
        if self.whole:
            if number != round(number):
                raise OutOfRange(int(round(number)), f"{raw} is not a whole number")
            return int(number)
        return number

    @property
    def whole(self) -> bool:
        """Whether the control takes whole numbers only."""
        return self.kind == "int" or (self.kind == "grid" and all(isinstance(o, int) for o in self.options))


class OutOfRange(ValueError):
    """A value outside the range; carries the nearest valid value."""

    def __init__(self, nearest, message: str):
        super().__init__(message)
        self.nearest = nearest


CONTROLS: tuple[Control, ...] = (
    Control(
        "dataset",
        "Dataset",
        "choice",
        "line",
        "Which data to fit; each comes from one of the four tutorials.",
        options=tuple(DATASET_LABELS),
        labels=DATASET_LABELS,
    ),
    Control(
        "n",
        "Number of points",
        "int",
        30,
        "How many points the synthetic datasets draw.",
        lo=2,
        hi=MAX_UI_POINTS,
        step=1,
    ),
    Control(
        "noise",
        "Noise level",
        "float",
        0.5,
        "Standard deviation of the Gaussian noise added to y.",
        lo=0.0,
        hi=5.0,
        step=0.1,
    ),
    Control(
        "seed",
        "Seed",
        "int",
        0,
        "Seed of the random numbers: same seed, same data and same run.",
        lo=0,
        hi=99_999,
        step=1,
    ),
    Control(
        "method",
        "How the gradient is obtained",
        "choice",
        "optimizer",
        "The four ways the tutorials compute the gradient; on the same settings they give the same path, up to "
        "float32 rounding, unless the finite-difference δ is tiny (then rounding swamps its estimate).",
        options=tuple(METHOD_LABELS),
        labels=METHOD_LABELS,
    ),
    Control(
        "optimizer",
        "Optimizer",
        "choice",
        "sgd",
        "Which torch.optim optimizer updates the parameters.",
        options=tuple(OPTIMIZER_LABELS),
        labels=OPTIMIZER_LABELS,
    ),
    Control(
        "lr",
        "Learning rate",
        "grid",
        0.1,
        "The step size. Plain SGD moves the parameters by lr × gradient; with momentum, by lr × v (v: the momentum "
        "buffer); Adam, RMSprop and Adagrad first divide the gradient by their own measure of its size.",
        options=LR_GRID,
        lo=1e-5,
        hi=10.0,
    ),
    Control(
        "momentum",
        "Momentum",
        "float",
        0.8,
        "How much of the previous step is kept: v = momentum·v + gradient; step = lr·v.",
        lo=0.0,
        hi=0.99,
        step=0.01,
    ),
    Control(
        "nesterov",
        "Nesterov",
        "bool",
        False,
        "torch's Nesterov momentum: step = lr × (gradient + momentum·v). The same as “look ahead along the momentum, "
        "then take the gradient there” after a change of variables.",
    ),
    Control("epochs", "Epochs", "grid", 60, "Passes over the data.", options=EPOCH_GRID, lo=1, hi=engine.MAX_EPOCHS),
    Control(
        "batch",
        "Batch",
        "choice",
        "full",
        "Full batch: every point in every step. Mini-batch or single sample: a shuffled subset per step.",
        options=BATCH_MODES,
    ),
    Control(
        "batch_size", "Mini-batch size", "int", 8, "Points per step in mini-batch mode.", lo=2, hi=MAX_UI_POINTS, step=1
    ),
    Control(
        "scaling",
        "Input scaling",
        "choice",
        "none",
        "Rescale x before training: standardize (subtract the mean, divide by the sd; without a bias it only "
        "divides, since centring needs the bias to absorb the shift) or multiply by 0.1 as tutorial 003's book does.",
        options=SCALINGS,
        labels={"none": "none", "standardize": "standardize", "x0.1": "multiply by 0.1"},
    ),
    Control("w0", "Start w (w1)", "float", -1.0, "Where the weight starts.", lo=-100.0, hi=100.0, step=0.5),
    Control(
        "w2_0",
        "Start w2",
        "float",
        0.0,
        "Where the second weight starts (two features only).",
        lo=-100.0,
        hi=100.0,
        step=0.5,
    ),
    Control("b0", "Start b", "float", -2.0, "Where the bias starts.", lo=-100.0, hi=100.0, step=0.5),
    Control(
        "fd_delta",
        "Finite-difference delta",
        "grid",
        0.1,
        "The step of the central difference. Any δ is exact for this quadratic loss, up to rounding; a tiny one "
        "drowns the estimate in float32 rounding.",
        options=DELTA_GRID,
        lo=1e-7,
        hi=1.0,
    ),
    Control(
        "zero_grad",
        "Zero the gradient after each step",
        "bool",
        True,
        "grad.zero_() (or optimizer.zero_grad()) after every update. Switch it off to see why the tutorials insist "
        "on it: PyTorch adds each new gradient to the old one.",
    ),
    Control(
        "test_fraction",
        "Test fraction",
        "float",
        0.0,
        "Share of the points held out as a test set (drawn with the seed): the run trains on the others, and the "
        "held-out points' loss shows how well the fit generalizes. 0: train on every point.",
        lo=0.0,
        hi=0.5,
        step=0.05,
    ),
    Control(
        "weight_decay",
        "Weight decay (L2)",
        "grid",
        0.0,
        "torch.optim's weight_decay on the weights (not the bias): each step also subtracts lr × weight_decay × w, "
        "so the run minimizes MSE + (weight_decay/2)·||w||².",
        options=DECAY_GRID,
        lo=0.0,
        hi=10.0,
    ),
    Control(
        "degree",
        "Polynomial degree",
        "int",
        3,
        "The model's inputs are x, x², …, x^degree: a curve, still linear regression in its weights.",
        lo=1,
        hi=engine.MAX_DEGREE,
        step=1,
    ),
    Control(
        "powers",
        "Powers of x",
        "choice",
        "standardized",
        "Standardized: each power shifted to mean 0 and divided by its standard deviation, so all columns have the "
        "same size. Raw: x, x², … as they are, whose sizes differ by orders of magnitude.",
        options=POWERS,
    ),
    Control(
        "shape",
        "The points' curve",
        "choice",
        "wave",
        "Where the points come from: a wave, which a degree-1 line is too stiff for and a high degree follows too "
        "closely (the classic U-shaped test loss), or a straight line, which degree 1 already fits.",
        options=("wave", "line"),
        labels={"wave": "a wave: y = 2·sin(πx) + noise", "line": "a line: y = 2x + 1 + noise"},
    ),
    Control(
        "l1",
        "L1 strength",
        "grid",
        0.0,
        "Adds l1·||w||₁ to the loss (the bias is not penalized); its gradient l1·sign(w) joins every step.",
        options=L1_GRID,
        lo=0.0,
        hi=5.0,
    ),
    Control(
        "device",
        "Device",
        "choice",
        "cpu",
        "Where PyTorch computes. CPU is fastest for these small problems.",
        options=("cpu", "cuda", "mps"),
    ),
)
BY_KEY = {c.key: c for c in CONTROLS}
# Controls that only change what the page shows, not the run or its data (none today): every other control must
# reach the TrainConfig or the dataset (tests/unit/test_claims_playground.py checks each), or belong to another page.
UI_ONLY: frozenset[str] = frozenset()
# Controls of the "Overfitting & regularization" page's run only (compute/overfit.py): the playground's run keeps a
# straight line and no L1, so relevant() never shows them there.
OVERFIT_ONLY: frozenset[str] = frozenset({"degree", "powers", "l1", "shape"})


def defaults() -> dict:
    """Every control at its default."""
    return {c.key: c.default for c in CONTROLS}


def parse_query(query: Mapping[str, object], devices: tuple[str, ...] = ("cpu",)) -> tuple[dict, list[str]]:
    """Control values from a URL query; anything malformed or out of range is corrected, with a note."""
    values, notes = defaults(), []
    for key, raw in query.items():
        control = BY_KEY.get(key)
        if control is None:
            continue  # other pages' parameters and unknown keys are ignored
        if isinstance(raw, list):
            raw = raw[-1] if raw else ""
        try:
            values[key] = control.coerce(raw)
        except OutOfRange as exc:
            values[key] = exc.nearest
            notes.append(f"{control.label}: {exc}; using {exc.nearest:g}.")
        except ValueError as exc:
            notes.append(f"{control.label}: {exc}; using the default {control.default}.")
    if values["device"] not in devices:
        notes.append(f"Device: this machine has no {values['device'].upper()}; using the CPU.")
        values["device"] = "cpu"
    return values, notes


def to_query(values: Mapping[str, object]) -> dict[str, str]:
    """The URL query string that reproduces these values exactly (every control, so a link never drifts)."""
    out = {}
    for c in CONTROLS:
        v = values[c.key]
        out[c.key] = ("true" if v else "false") if c.kind == "bool" else (_exact(v) if isinstance(v, float) else str(v))
    return out


def _exact(v: float) -> str:
    """The shortest text that reads back as exactly v: "10", "0.1", "0.0123456789"."""
    short = f"{v:g}"
    return short if float(short) == v else repr(v)


def grid_options(key: str, value) -> tuple:
    """A grid control's ladder, with the current value added when a URL put it between two rungs."""
    options = BY_KEY[key].options
    return options if value in options else tuple(sorted((*options, value)))


def slider_values(key: str, value: float) -> tuple[float, ...]:
    """A float slider's values, lo to hi by its step (rounded as a person would type them), with the current value
    added when a URL put it between two."""
    c = BY_KEY[key]
    count = int(round((c.hi - c.lo) / c.step))
    values = tuple(round(c.lo + i * c.step, 10) for i in range(count + 1))
    return values if value in values else tuple(sorted((*values, value)))


def relevant(values: Mapping[str, object]) -> set[str]:
    """The controls that matter for these values (others are hidden, e.g. momentum for Adam)."""
    keys = {"dataset", "method", "lr", "epochs", "batch", "scaling", "w0", "device", "test_fraction", "weight_decay"}
    ds_name = values["dataset"]
    if ds_name in engine.SYNTHETIC:
        keys |= {"n", "noise", "seed"}
    if values["method"] == "optimizer":
        keys.add("optimizer")
    if engine.takes_momentum(values["method"], values["optimizer"]):
        keys.add("momentum")
        if engine.takes_nesterov(values["method"], values["optimizer"]):
            keys.add("nesterov")
    if values["batch"] == "mini-batch":
        keys.add("batch_size")
    if values["batch"] != "full":
        keys.add("seed")
    if values["method"] == "finite-difference":
        keys.add("fd_delta")
    if ds_name == "plane":
        keys.add("w2_0")
    if ds_name == "custom" or engine.make_dataset(ds_name, n=2).default_fit_bias:
        keys.add("b0")
    return keys
