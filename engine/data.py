"""Datasets: the tutorials' built-in data, data from arrays, and input scaling."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from .limits import MAX_POINTS

if TYPE_CHECKING:
    from .features import Polynomial

# Tutorial 003: eleven thermometer readings in unknown units and the matching temperatures in °C.
THERMOMETER_X = [35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]
THERMOMETER_Y = [0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]

DATASET_NAMES = ("line", "plane", "thermometer", "single-point", "lab", "four-points", "wave")
SYNTHETIC = ("line", "plane", "wave")  # the ones that take n, noise and seed


@dataclass(frozen=True)
class Scaling:
    """How inputs were rescaled: x' = (x - offset) * factor, per feature."""

    how: str
    offset: tuple[float, ...]
    factor: tuple[float, ...]

    def to_original(self, params) -> np.ndarray:
        """Map parameters fitted on scaled inputs (w..., b) back to the original units."""
        params = np.asarray(params, dtype=np.float64)
        d = len(self.factor)
        w = params[:d] * np.asarray(self.factor)
        shift = float(np.sum(w * np.asarray(self.offset)))
        if len(params) == d:
            if shift != 0.0:
                raise ValueError("centred inputs need a bias to be mapped back; fit with a bias")
            return w
        return np.concatenate([w, [params[d] - shift]])

    def to_scaled(self, params) -> np.ndarray:
        """Inverse of to_original: parameters in original units -> parameters on the scaled inputs."""
        params = np.asarray(params, dtype=np.float64)
        d = len(self.factor)
        w = params[:d] / np.asarray(self.factor)
        shift = float(np.sum(params[:d] * np.asarray(self.offset)))
        if len(params) == d:
            if shift != 0.0:
                raise ValueError("a model without bias cannot be expressed on centred inputs")
            return w
        shift = float(np.sum(params[:d] * np.asarray(self.offset)))
        return np.concatenate([w, [params[d] + shift]])


@dataclass(frozen=True, eq=False)
class Dataset:
    """Inputs x (n, d) and targets y (n,) as float32 tensors, with names for axes and legends."""

    x: torch.Tensor
    y: torch.Tensor
    name: str
    feature_names: tuple[str, ...]
    target_name: str = "y"
    true_params: tuple[float, ...] | None = None
    default_fit_bias: bool = True
    scaling: Scaling | None = None
    description: str = ""
    source: tuple = ()  # how to make it again: ("line", n, noise, seed) for synthetic data, () otherwise
    polynomial: Polynomial | None = None  # set by engine.polynomial: how the columns x, x^2, ... were made

    def __getstate__(self) -> dict:
        # x and y pickled as numpy arrays: a run's result travels from the worker and in and out of st.cache_data
        # on every move, and torch's own pickling of two small tensors was most of a result's (un)pickling time
        return self.__dict__ | {"x": self.x.detach().cpu().numpy(), "y": self.y.detach().cpu().numpy()}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, x=torch.from_numpy(state["x"]), y=torch.from_numpy(state["y"]))

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def d(self) -> int:
        return int(self.x.shape[1])

    def param_names(self, fit_bias: bool = True) -> list[str]:
        """Names of the parameters in History order: w (or w1, w2), then b."""
        ws = ["w"] if self.d == 1 else [f"w{i + 1}" for i in range(self.d)]
        return ws + (["b"] if fit_bias else [])


def _as_float_array(values, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be numbers") from exc
    return arr


def dataset_from_arrays(x, y, name: str = "custom", feature_names=None, target_name: str = "y") -> Dataset:
    """Build a Dataset from array-likes; x is (n,) or (n, d) with d in {1, 2}, y is (n,)."""
    # fresh C-ordered copies: a pandas column selection can be a view with negative strides (even along a length-1
    # axis, which numpy calls contiguous anyway), and torch refuses negative strides
    x = np.array(_as_float_array(x, "x"), order="C", copy=True)
    y = np.array(_as_float_array(y, "y").reshape(-1), order="C", copy=True)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"x must be a column or a table of columns, got an array with {x.ndim} dimensions")
    if x.shape[0] == 0 or y.shape[0] == 0:
        raise ValueError("the data has no points: give at least one row")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]}: they must match")
    if x.shape[1] not in (1, 2):
        raise ValueError(f"the model takes one or two input features, got {x.shape[1]}")
    if x.shape[0] > MAX_POINTS:
        raise ValueError(f"{x.shape[0]:,} points is over the cap of {MAX_POINTS:,} points")
    bad = ~np.isfinite(x).all(axis=1) | ~np.isfinite(y)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} row(s) hold missing or infinite values (first at row {int(np.argmax(bad))}); "
            "remove them first"
        )
    if np.abs(x).max() > 1e15 or np.abs(y).max() > 1e15:
        raise ValueError("values above 1e15 cannot be trained on in float32; rescale the data")
    d = x.shape[1]
    if feature_names is None:
        feature_names = ("x",) if d == 1 else tuple(f"x{i + 1}" for i in range(d))
    return Dataset(
        x=torch.tensor(x, dtype=torch.float32),
        y=torch.tensor(y, dtype=torch.float32),
        name=name,
        feature_names=tuple(str(f) for f in feature_names),
        target_name=str(target_name),
    )


def make_dataset(name: str, n: int = 50, noise: float = 0.5, seed: int = 0) -> Dataset:
    """One of the tutorials' datasets, or "wave" (a curve for the overfitting page); n, noise and seed apply to the
    synthetic "line", "plane" and "wave"."""
    if name in SYNTHETIC:
        if not 1 <= int(n) <= MAX_POINTS:
            raise ValueError(f"n must be between 1 and {MAX_POINTS:,}, got {n}")
        if not (np.isfinite(noise) and noise >= 0):
            raise ValueError(f"noise must be a standard deviation >= 0, got {noise}")
        g = torch.Generator().manual_seed(int(seed))
        if name == "line":  # tutorial 001: X = randn(N, 1); y = X @ [[2]] + 1 + noise * randn
            x = torch.randn(int(n), 1, generator=g)
            y = 2.0 * x[:, 0] + 1.0 + float(noise) * torch.randn(int(n), generator=g)
            return Dataset(
                x,
                y,
                "line",
                ("x",),
                "y",
                (2.0, 1.0),
                True,
                description=f"y = 2x + 1 + noise (sd {noise:g}), {n} points, seed {seed}",
                source=("line", int(n), float(noise), int(seed)),
            )
        if name == "wave":  # a curve no straight line fits: y = 2 sin(pi x) + noise, x uniform in [-1, 1)
            x = 2.0 * torch.rand(int(n), 1, generator=g) - 1.0
            y = 2.0 * torch.sin(torch.pi * x[:, 0]) + float(noise) * torch.randn(int(n), generator=g)
            return Dataset(
                x,
                y,
                "wave",
                ("x",),
                "y",
                None,
                True,
                description=f"y = 2·sin(πx) + noise (sd {noise:g}), x in [-1, 1), {n} points, seed {seed}",
                source=("wave", int(n), float(noise), int(seed)),
            )
        x = torch.randn(int(n), 2, generator=g)  # tutorial 000: M = 2 features, a plane
        y = 2.0 * x[:, 0] - 3.0 * x[:, 1] + 1.0 + float(noise) * torch.randn(int(n), generator=g)
        return Dataset(
            x,
            y,
            "plane",
            ("x1", "x2"),
            "y",
            (2.0, -3.0, 1.0),
            True,
            description=f"y = 2·x1 - 3·x2 + 1 + noise (sd {noise:g}), {n} points, seed {seed}",
            source=("plane", int(n), float(noise), int(seed)),
        )
    if name == "thermometer":
        return _fixed(
            "thermometer",
            THERMOMETER_X,
            THERMOMETER_Y,
            ("reading (unknown units)",),
            "temperature (°C)",
            None,
            True,
            "tutorial 003: eleven readings of an unknown thermometer against °C",
        )
    if name == "single-point":
        return _fixed(
            "single-point",
            [2.0],
            [4.0],
            ("x",),
            "y",
            (2.0,),
            False,
            "tutorial 002: one point x = 2, y = 4, model y = w·x (no bias)",
        )
    if name == "four-points":
        return _fixed(
            "four-points",
            [1.0, 2.0, 3.0, 4.0],
            [2.0, 4.0, 6.0, 8.0],
            ("x",),
            "y",
            (2.0,),
            False,
            "tutorial 002: a batch x = 1..4, y = 2x, model y = w·x (no bias)",
        )
    if name == "lab":
        xs = [float(i) for i in range(10)]
        return _fixed(
            "lab",
            xs,
            [3.0 * v + 2.0 for v in xs],
            ("x",),
            "y",
            (3.0, 2.0),
            True,
            "tutorial 002's lab: y = 3x + 2 for x = 0..9",
        )
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")


def _fixed(name, xs, ys, features, target, true_params, fit_bias, description) -> Dataset:
    return Dataset(
        torch.tensor(xs, dtype=torch.float32)[:, None],
        torch.tensor(ys, dtype=torch.float32),
        name,
        features,
        target,
        true_params,
        fit_bias,
        description=description,
    )


def scale_inputs(ds: Dataset, how: str, factor: float = 0.1, center: bool = True) -> Dataset:
    """Rescale the inputs: "standardize" (zero mean, unit sd) or "multiply" by a constant (x 0.1 in the book)."""
    x = ds.x.double()
    d = ds.d
    if how == "standardize":
        mean = x.mean(0) if center else torch.zeros(d, dtype=torch.float64)
        sd = x.std(0, unbiased=False)
        if (sd == 0).any():
            raise ValueError("a feature is constant: it cannot be standardized (its spread is zero)")
        offset, scale = mean, 1.0 / sd
    elif how == "multiply":
        if not (np.isfinite(factor) and factor != 0):
            raise ValueError(f"the scale factor must be a non-zero number, got {factor}")
        offset, scale = (
            torch.zeros(d, dtype=torch.float64),
            torch.full((d,), float(factor), dtype=torch.float64),
        )
    elif how in ("none", None):
        return ds
    else:
        raise ValueError(f"unknown scaling {how!r}; choose standardize, multiply or none")
    scaling = Scaling(how, tuple(offset.tolist()), tuple(scale.tolist()))
    label = "standardized" if how == "standardize" else f"× {factor:g}"
    return replace(
        ds,
        x=((x - offset) * scale).float(),
        feature_names=tuple(f"{f} ({label})" for f in ds.feature_names),
        true_params=_scaled_true_params(ds.true_params, scaling),
        scaling=scaling,
    )


def _scaled_true_params(true_params, scaling: Scaling):
    """The true parameters expressed on the scaled inputs (None when they cannot be)."""
    if true_params is None:
        return None
    try:
        return tuple(float(v) for v in scaling.to_scaled(true_params))
    except ValueError:
        return None
