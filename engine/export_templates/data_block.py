"""The data block: how an exported program gets the run's inputs X and targets y, to the last bit.

Tutorial 001's line and tutorial 000's plane are drawn again from their seed: those few lines are the tutorials'
lesson, and n can reach a million points, which written out would make a script of many megabytes. The recipe is
written once, below, and not trusted: the exporter runs the very text it writes (recipe and scaling) and compares
the tensors it makes with the run's, bit for bit. If engine/data.py ever draws its data another way, the check fails
and the script holds the exact float32 values instead, as it always does for every other data set.
"""

from __future__ import annotations

import torch

from ..data import DATASET_NAMES, SYNTHETIC, Dataset, make_dataset
from ..split import held_out_count
from .text import Section, f64_list, fill, safe, tensor_literal

RECIPE = """\
# $about:
# the playground's own random numbers, drawn again from the same seed
n = $n
noise = $noise
g = torch.Generator().manual_seed($seed)
$draw
"""

DRAW = {  # engine.data.make_dataset's draws, in its order
    "line": """\
X = torch.randn(n, 1, generator=g)  # inputs, one row per point: shape (n, 1)
y = 2.0 * X[:, 0] + 1.0 + noise * torch.randn(n, generator=g)  # targets, shape (n,)
""",
    "plane": """\
X = torch.randn(n, 2, generator=g)  # inputs, one row per point: shape (n, 2)
y = 2.0 * X[:, 0] - 3.0 * X[:, 1] + 1.0 + noise * torch.randn(n, generator=g)  # targets, shape (n,)
""",
    "wave": """\
X = 2.0 * torch.rand(n, 1, generator=g) - 1.0  # inputs in [-1, 1), one row per point: shape (n, 1)
y = 2.0 * torch.sin(torch.pi * X[:, 0]) + noise * torch.randn(n, generator=g)  # targets, shape (n,)
""",
}

VALUES = """\
# $about
$unscaled_note
$x
$y
"""

UNSCALED_NOTE = "# (the raw inputs could not be recovered exactly, so these are the inputs already rescaled)"

MULTIPLY = """\
# Rescale the inputs, x' = x * factor (in float64, then back to float32, as the playground does)
factor = $factor
X = (X.double() * factor).float()
"""

STANDARDIZE = """\
# Standardize the inputs, x' = (x - mean) / sd per feature (in float64, then back to float32, as the
# playground does). mean and 1 / sd are X.double().mean(0) and 1 / X.double().std(0, unbiased=False),
# written out here to the last digit.
offset = torch.tensor($offset, dtype=torch.float64)
factor = torch.tensor($factor, dtype=torch.float64)
X = ((X.double() - offset) * factor).float()
"""

SHAPE = "n, d = X.shape  # number of points, number of input features"

POWERS = """\
# Polynomial features: the columns x, x^2, ..., x^$degree, each power the one before times x (in float64)
degree = $degree
powers = [X.double()]
for _ in range(degree - 1):
    powers.append(powers[-1] * powers[0])
powers = torch.cat(powers, dim=1)  # shape (n, degree)
$to_features
"""
STANDARDIZE_POWERS = """\
# Standardize each column, (x^k - mean) / sd over all the rows (their means and 1 / sd written out to the last
# digit); the model is still linear regression, torch.nn.Linear(degree, 1) on these columns
offset = torch.tensor($offset, dtype=torch.float64)
factor = torch.tensor($factor, dtype=torch.float64)
X = ((powers - offset) * factor).float()
"""
RAW_POWERS = "X = powers.float()  # the raw powers, not standardized"

SPLIT = """\
# A held-out test set: $n_test of the $n rows, drawn at random with seed $seed, never trained on
perm = torch.randperm(n, generator=torch.Generator().manual_seed($seed))
test_rows, train_rows = perm[:$n_test].sort().values, perm[$n_test:].sort().values
X_test, y_test = X[test_rows], y[test_rows]
X, y = X[train_rows], y[train_rows]  # training uses these rows only
n = len(X)
"""
POLYNOMIAL_NOTE = (
    " The inputs are then expanded into the powers x, x², ... of the one input: a curve, still fitted by linear "
    "regression."
)
SPLIT_NOTE = (
    " A random part of the rows is held out as a test set: training never sees them, and their loss shows how "
    "well the fit generalizes."
)

NOTE = (
    "## The data\n\n"
    "The inputs `X` hold one row per point and one column per feature; the targets `y` hold one number per point."
)
SCALING_NOTES = {
    "multiply": (
        " The inputs are multiplied by a constant first: that changes the shape of the loss surface, "
        "and so which learning rates work."
    ),
    "standardize": " The inputs are standardized first (zero mean, unit spread), which makes the loss surface round.",
}


def data_section(ds: Dataset, test_fraction: float = 0.0, seed: int = 0) -> tuple[Section, str]:
    """The data part and how it gets the data: "source" (drawn again), "raw" (raw values, then the scaling) or
    "scaled" (the scaled values themselves, when no raw float32 values scale to them); then, for a run with a test
    set, the split (engine.split's permutation)."""
    section, how = _polynomial_section(ds) if ds.polynomial is not None else _plain_section(ds)
    if not test_fraction:
        return section, how
    n_test = held_out_count(ds.n, test_fraction)
    split = fill(SPLIT, n_test=n_test, n=ds.n, seed=seed)
    return Section(section.title, section.markdown + SPLIT_NOTE, f"{section.code}\n\n{split}"), how


def _polynomial_section(ds: Dataset) -> tuple[Section, str]:
    """The base data, then its powers: checked to make ds.x to the last bit, else ds.x written out."""
    spec = ds.polynomial
    base, _ = _plain_section(spec.base)
    base_code = base.code.removesuffix(f"\n{SHAPE}")
    if spec.standardize:
        to_features = fill(STANDARDIZE_POWERS, offset=f64_list(spec.offset), factor=f64_list(spec.factor))
    else:
        to_features = RAW_POWERS
    code = f"{base_code}\n\n{fill(POWERS, degree=spec.degree, to_features=to_features)}"
    if not _makes(ds, code, range=range):  # the loop's range is the one builtin these lines use
        code = _values(ds, None)  # the features themselves
    return Section("The data", base.markdown + POLYNOMIAL_NOTE, f"{code}\n{SHAPE}"), "scaled"


def _plain_section(ds: Dataset) -> tuple[Section, str]:
    scaling = scaling_code(ds)
    recipe = _recipe(ds)
    if scaling is None:
        how, code = "scaled", _values(ds, None)
    elif recipe and _makes(ds, recipe + "\n" + scaling):
        how, code = "source", recipe
    else:
        raw = _raw_inputs(ds, scaling)
        how, code = "scaled" if raw is None else "raw", _values(ds, raw)
    markdown = NOTE
    if ds.scaling is not None and how != "scaled":
        code = f"{code}\n\n{scaling}"
        markdown += SCALING_NOTES[ds.scaling.how]
    return Section("The data", markdown, f"{code}\n{SHAPE}"), how


def scaling_code(ds: Dataset) -> str | None:
    """The lines that rescale X as engine.data.scale_inputs did ("" for unscaled data, None if they cannot)."""
    s = ds.scaling
    if s is None:
        return ""
    if s.how == "multiply":
        if len(set(s.factor)) != 1:
            return None  # the script multiplies every feature by one number
        return fill(MULTIPLY, factor=repr(s.factor[0]))
    return fill(STANDARDIZE, offset=f64_list(s.offset), factor=f64_list(s.factor))


def _recipe(ds: Dataset) -> str:
    """The seeded recipe of a synthetic data set ("" for the others)."""
    if len(ds.source) != 4 or ds.source[0] not in DRAW:
        return ""
    kind, n, noise, seed = ds.source
    return fill(RECIPE, about=safe(ds.description), n=n, noise=repr(noise), seed=seed, draw=DRAW[kind])


def _values(ds: Dataset, raw: torch.Tensor | None) -> str:
    """The data written out: the raw inputs `raw`, or the scaled inputs themselves when raw is None."""
    return fill(
        VALUES,
        about=safe(ds.description) or f"the data set {safe(ds.name)!r}",
        unscaled_note="" if raw is not None else UNSCALED_NOTE,
        x=tensor_literal("X", ds.x if raw is None else raw, f"# inputs, one row per point: shape (n, {ds.d})"),
        y=tensor_literal("y", ds.y, "# targets, shape (n,)"),
    )


def _raw_inputs(ds: Dataset, scaling: str) -> torch.Tensor | None:
    """Raw inputs that the script's scaling lines turn into exactly ds.x, or None when there are none."""
    if ds.scaling is None:
        return ds.x
    candidates = []
    if ds.name in DATASET_NAMES and ds.name not in SYNTHETIC:
        candidates.append(make_dataset(ds.name).x)  # the tutorial's own numbers, e.g. the readings 35.7, 55.9, ...
    # undo the scaling; exact whenever the rounding to float32 lands back on the raw values
    offset = torch.tensor(ds.scaling.offset, dtype=torch.float64)
    factor = torch.tensor(ds.scaling.factor, dtype=torch.float64)
    candidates.append((ds.x.double() / factor + offset).float())
    for x in candidates:
        if x.shape == ds.x.shape and _makes(ds, scaling, X=x, y=ds.y):
            return x
    return None


def _makes(ds: Dataset, code: str, **given) -> bool:
    """Whether running `code` (lines of the exported script, nothing but torch calls on literal numbers) leaves
    X and y equal to the run's data to the last bit."""
    names = {"__builtins__": {}, "torch": torch, **given}
    try:
        exec(code, names)  # the script's own data lines, checked before anyone runs them
    except Exception:  # lines that cannot run cannot make the data
        return False
    x, y = names.get("X"), names.get("y")
    return isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and _same_bits(x, ds.x) and _same_bits(y, ds.y)


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal to the last bit (torch.equal would let -0.0 stand for 0.0)."""
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and a.contiguous().numpy().tobytes() == b.contiguous().numpy().tobytes()
    )
