"""Polynomial features: x, x^2, ..., x^degree from a one-feature dataset, so a linear model fits a curve.

The model stays nn.Linear(degree, 1) on those columns: still linear regression, and every closed form still holds.
The powers are made by repeated multiplication in float64 (x^k = x^(k-1) * x, each product correctly rounded), so
the columns of degree k are exactly the first k columns of degree 9, and an exported script makes the same bits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from .data import Dataset, Scaling
from .limits import MAX_DEGREE


@dataclass(frozen=True, eq=False)
class Polynomial:
    """How a polynomial dataset's columns were made: column k is (x^k - offset[k]) * factor[k] (k = 1..degree).

    offset and factor are the raw powers' means and 1 / standard deviations (over all rows) when standardized, else
    0 and 1. base is the one-feature dataset the powers come from.
    """

    degree: int
    standardize: bool
    offset: tuple[float, ...]
    factor: tuple[float, ...]
    base: Dataset

    @property
    def scaling(self) -> Scaling:
        """The standardization as a Scaling of the raw powers x, x^2, ... (what maps parameters back)."""
        return Scaling("standardize" if self.standardize else "none", self.offset, self.factor)

    def features(self, x) -> np.ndarray:
        """The model's inputs (m, degree) in float64 at raw values x (m,): to draw the fitted curve on a grid."""
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        return (raw_powers(x, self.degree) - np.asarray(self.offset)) * np.asarray(self.factor)

    def predict(self, params, x) -> np.ndarray:
        """y_hat at raw values x for parameters (w1..w_degree[, b]) fitted on these features."""
        params = np.asarray(params, dtype=np.float64)
        y = self.features(x) @ params[: self.degree]
        return y + params[self.degree] if len(params) > self.degree else y

    def to_power_coefficients(self, params) -> np.ndarray:
        """Parameters on these features -> (c1, ..., c_degree[, c0]) with y = c0 + c1 x + ... + c_degree x^degree in
        the base data's x (np.polyfit's coefficients, reversed, with c0 last as the engine orders a bias)."""
        return self.scaling.to_original(params)


def raw_powers(x: np.ndarray, degree: int) -> np.ndarray:
    """(m, degree) float64: x, x*x, (x*x)*x, ... (the same products the engine and the exported scripts make)."""
    columns = [np.asarray(x, dtype=np.float64)]
    for _ in range(degree - 1):
        columns.append(columns[-1] * columns[0])
    return np.stack(columns, axis=1)


def _torch_powers(x: torch.Tensor, degree: int) -> list[torch.Tensor]:
    """The raw powers as float64 columns (n,), by repeated multiplication."""
    columns = [x.double()]
    for _ in range(degree - 1):
        columns.append(columns[-1] * columns[0])
    return columns


def polynomial(ds: Dataset, degree: int, standardize: bool = True) -> Dataset:
    """The columns x, x^2, ..., x^degree of a one-feature dataset (degree 1 to 9), each standardized (zero mean, unit
    standard deviation over all rows, inputs only) when asked; feature names "x", "x^2", ...

    Standardizing with every row's x, test rows included, uses no target value; it keeps the features of a run the
    same whatever its split.
    """
    if ds.d != 1:
        raise ValueError(f"polynomial features need data with one input feature, got {ds.d}")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or not 1 <= degree <= MAX_DEGREE:
        raise ValueError(f"the degree must be a whole number from 1 to {MAX_DEGREE}, got {degree}")
    degree = int(degree)
    columns = _torch_powers(ds.x[:, 0], degree)
    if standardize:
        offset = tuple(float(c.mean()) for c in columns)
        sd = [float(c.std(unbiased=False)) for c in columns]
        if any(s == 0.0 or not np.isfinite(s) for s in sd):
            raise ValueError("x takes a single value, so its powers cannot be standardized (their spread is zero)")
        factor = tuple(1.0 / s for s in sd)
    else:
        offset, factor = (0.0,) * degree, (1.0,) * degree
    powers = torch.stack(columns, dim=1)
    if standardize:
        x = ((powers - torch.tensor(offset, dtype=torch.float64)) * torch.tensor(factor, dtype=torch.float64)).float()
    else:
        x = powers.float()
    if not torch.isfinite(x).all():
        raise ValueError(f"x^{degree} overflows float32 on this data: standardize the features or lower the degree")
    spec = Polynomial(degree, bool(standardize), offset, factor, ds)
    names = tuple("x" if k == 1 else f"x^{k}" for k in range(1, degree + 1))
    true_params = None
    if ds.true_params is not None and len(ds.true_params) in (1, 2):
        raw = [ds.true_params[0]] + [0.0] * (degree - 1) + list(ds.true_params[1:])
        try:
            true_params = tuple(float(v) for v in spec.scaling.to_scaled(raw))
        except ValueError:  # no bias to absorb the centring
            true_params = None
    label = f"polynomial features of degree {degree}" + (", standardized" if standardize else "")
    return replace(
        ds,
        x=x,
        feature_names=names,
        true_params=true_params,
        scaling=None,
        description=f"{ds.description or ds.name}; {label}",
        source=(),
        polynomial=spec,
    )
