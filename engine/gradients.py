"""The four ways of getting the gradient, side by side at one point, and the finite-difference error curve.

Used by the step-by-step lab: the same parameters, the same batch, four answers, and how far each is from the
exact one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .data import Dataset

GRADIENT_METHODS = ("autograd", "torch.optim (nn.Linear)", "analytic", "finite differences")


def _design(x: torch.Tensor, fit_bias: bool) -> torch.Tensor:
    return torch.cat([x, torch.ones_like(x[:, :1])], 1) if fit_bias else x


def _batch(ds: Dataset, idx) -> tuple[torch.Tensor, torch.Tensor]:
    if idx is None:
        return ds.x, ds.y
    idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
    return ds.x[idx], ds.y[idx]


def analytic_gradient(x: torch.Tensor, y: torch.Tensor, params, fit_bias: bool) -> np.ndarray:
    """(2/n) X'(X p - y) in float64: the exact gradient the others are compared with."""
    xa = _design(x.double(), fit_bias)
    p = torch.as_tensor(np.asarray(params, dtype=np.float64))
    return (2.0 / len(y) * xa.T @ (xa @ p - y.double())).numpy()


def mse(x: torch.Tensor, y: torch.Tensor, params: torch.Tensor, fit_bias: bool) -> torch.Tensor:
    """Mean squared error of the linear model (w..., b) in the dtype of params."""
    xa = _design(x.to(params.dtype), fit_bias)
    return torch.mean((xa @ params - y.to(params.dtype)) ** 2)


def finite_difference(
    x, y, params, fit_bias: bool, delta: float, kind: str = "central", dtype: torch.dtype = torch.float32
) -> np.ndarray:
    """Numerical gradient: central (L(p+d) - L(p-d)) / 2d or forward (L(p+d) - L(p)) / d, parameter by parameter."""
    p = torch.as_tensor(np.asarray(params, dtype=np.float64)).to(dtype)
    grad = np.zeros(len(p))
    base = mse(x, y, p, fit_bias)
    for j in range(len(p)):
        step = torch.zeros_like(p)
        step[j] = delta
        if kind == "central":
            grad[j] = float((mse(x, y, p + step, fit_bias) - mse(x, y, p - step, fit_bias)) / (2 * delta))
        else:
            grad[j] = float((mse(x, y, p + step, fit_bias) - base) / delta)
    return grad


def autograd_gradient(x, y, params, fit_bias: bool) -> np.ndarray:
    """Tutorial 001: raw W, b with requires_grad, loss.backward(), read .grad."""
    d = x.shape[1]
    p = torch.tensor(np.asarray(params, dtype=np.float32))
    W = p[:d].view(d, 1).clone().requires_grad_()
    y_hat = x @ W
    grads = [W]
    if fit_bias:
        b = p[d:].clone().requires_grad_()
        y_hat = y_hat + b
        grads.append(b)
    loss = torch.mean((y_hat - y[:, None]) ** 2)
    loss.backward()
    return torch.cat([t.grad.view(-1) for t in grads]).double().numpy()


def module_gradient(x, y, params, fit_bias: bool) -> np.ndarray:
    """Tutorials 000 / 002: nn.Linear + nn.MSELoss, backward(); what torch.optim would read from .grad."""
    d = x.shape[1]
    model = nn.Linear(d, 1, bias=fit_bias)
    p = torch.tensor(np.asarray(params, dtype=np.float32))
    with torch.no_grad():
        model.weight.copy_(p[:d].view(1, d))
        if fit_bias:
            model.bias.copy_(p[d:])
    nn.MSELoss()(model(x).squeeze(1), y).backward()
    return torch.cat([t.grad.view(-1) for t in model.parameters()]).double().numpy()


def four_gradients(ds: Dataset, params, fit_bias: bool, delta: float = 0.1, idx=None) -> dict[str, np.ndarray]:
    """The gradient at params on the batch idx (all points when None), by each of the four methods."""
    x, y = _batch(ds, idx)
    return {
        "autograd": autograd_gradient(x, y, params, fit_bias),
        "torch.optim (nn.Linear)": module_gradient(x, y, params, fit_bias),
        "analytic": analytic_gradient(x, y, params, fit_bias),
        "finite differences": finite_difference(x, y, params, fit_bias, delta),
    }


@dataclass(frozen=True)
class DeltaSweep:
    """Largest absolute error of numerical gradients against the exact one, for each delta."""

    deltas: np.ndarray
    errors: dict  # (kind, dtype name) -> array of errors, one per delta


def delta_sweep(ds: Dataset, params, fit_bias: bool, deltas=None, idx=None) -> DeltaSweep:
    """Forward and central differences in float32 and float64, for deltas from 1 down to 1e-7."""
    deltas = np.logspace(0, -7, 29) if deltas is None else np.asarray(deltas, dtype=np.float64)
    x, y = _batch(ds, idx)
    exact = analytic_gradient(x, y, params, fit_bias)
    errors = {}
    for kind in ("forward", "central"):
        for dtype, name in ((torch.float32, "float32"), (torch.float64, "float64")):
            errors[(kind, name)] = np.array(
                [
                    np.max(np.abs(finite_difference(x, y, params, fit_bias, float(h), kind, dtype) - exact))
                    for h in deltas
                ]
            )
    return DeltaSweep(deltas, errors)
