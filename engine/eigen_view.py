"""Many parameters on a 2-D picture: the plane of the Hessian's steepest and flattest eigenvectors through the
optimum, with the exact loss there, and the loss split by eigen-direction over the steps (Distill's "milestones":
the steep directions converge first, the flat ones last).

The loss is the one a run minimizes, MSE + (wd/2) ||w||^2 + l1 ||w||_1 (engine.regularization); its Hessian is
(2/n) X'X + wd * D (D: the identity on the weights, 0 on the bias); the L1 term has none, so with l1 the plane is
still the quadratic part's, through the regularized optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analysis import regularized_hessian
from .data import Dataset
from .regularization import regularized_loss, regularized_optimum, ridge

AXES = ("steepest direction", "flattest direction")


@dataclass(frozen=True, eq=False)
class EigenPlane:
    """The plane center + a * steep + b * flat: the optimum and the Hessian's extreme (unit) eigenvectors."""

    center: np.ndarray  # (p,) the minimizer of the run's loss
    steep: np.ndarray  # (p,) eigenvector of the largest eigenvalue
    flat: np.ndarray  # (p,) eigenvector of the smallest
    eigenvalues: np.ndarray  # (p,) all of them, ascending
    directions: np.ndarray  # (p, p) the eigenvectors as columns, in the same order

    def coords(self, params) -> np.ndarray:
        """(..., 2): (a, b) of the parameters' orthogonal projection on the plane."""
        delta = np.asarray(params, dtype=np.float64) - self.center
        return np.stack([delta @ self.steep, delta @ self.flat], axis=-1)

    def point(self, a, b) -> np.ndarray:
        """(..., p): center + a * steep + b * flat."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return self.center + a[..., None] * self.steep + b[..., None] * self.flat

    def off_plane(self, params) -> np.ndarray:
        """How far the parameters lie from the plane (0 for two parameters)."""
        delta = np.asarray(params, dtype=np.float64) - self.center
        ab = self.coords(params)
        return np.linalg.norm(delta - ab[..., :1] * self.steep - ab[..., 1:] * self.flat, axis=-1)


def eigen_plane(ds: Dataset, fit_bias: bool = True, weight_decay: float = 0.0, l1: float = 0.0) -> EigenPlane:
    """The plane of the regularized Hessian's steepest and flattest eigenvectors through the run's optimum."""
    lam, vecs = np.linalg.eigh(regularized_hessian(ds, fit_bias, weight_decay))
    vecs = vecs * np.where(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(len(lam))] < 0, -1.0, 1.0)  # fixed signs
    center = regularized_optimum(ds, fit_bias, weight_decay, l1)
    return EigenPlane(center, vecs[:, -1].copy(), vecs[:, 0].copy(), np.clip(lam, 0.0, None), vecs)


@dataclass(frozen=True, eq=False)
class PlaneSurface:
    """The exact loss over a grid of the eigen-plane, and a path's projection on it."""

    plane: EigenPlane
    axes: tuple[str, str]
    a: np.ndarray  # (resolution,) along the steepest direction
    b: np.ndarray  # (resolution,) along the flattest direction
    z: np.ndarray  # (resolution, resolution), z[i, j] at (a[j], b[i]) as loss_surface's grid
    min_loss: float  # the loss at the optimum (the plane's origin)
    path: np.ndarray | None  # (k, 2) the path's (a, b)
    path_loss: np.ndarray | None  # (k,) the loss at the path's own points (not at their projections)
    off_plane: np.ndarray | None  # (k,) each path point's distance from the plane


def plane_surface(
    ds: Dataset,
    path=None,
    fit_bias: bool = True,
    weight_decay: float = 0.0,
    l1: float = 0.0,
    resolution: int = 60,
    max_loss_factor: float = 100.0,
) -> PlaneSurface:
    """The loss MSE + (wd/2)||w||^2 + l1||w||_1, exact, over the eigen-plane around the optimum and the tame part of
    a path (points whose loss is above max_loss_factor times the start's do not stretch the bounds)."""
    plane = eigen_plane(ds, fit_bias, weight_decay, l1)
    points = [np.zeros(2)]
    coords = path_loss = off = None
    if path is not None:
        path = np.asarray(path, dtype=np.float64)
        path = path[np.isfinite(path).all(axis=1)]
        coords, off = plane.coords(path), plane.off_plane(path)
        path_loss = regularized_loss(ds, path, weight_decay, l1)
        if len(path):
            tame = path_loss <= max_loss_factor * max(path_loss[0], 1e-12)
            points.extend(coords[tame])
    pts = np.array(points)
    lo, hi = pts.min(0), pts.max(0)
    span = hi - lo
    scale = np.maximum(np.abs(pts).max(0), 1.0)
    span = np.where(span < 1e-9 * scale, 0.5 * scale, span)
    lo, hi = lo - 0.15 * span, hi + 0.15 * span
    a, b = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    A, B = np.meshgrid(a, b)
    z = regularized_loss(ds, plane.point(A, B), weight_decay, l1)
    min_loss = float(regularized_loss(ds, plane.center, weight_decay, l1))
    return PlaneSurface(plane, AXES, a, b, z, min_loss, coords, path_loss, off)


@dataclass(frozen=True, eq=False)
class Milestones:
    """The excess loss split by eigen-direction: excess[k, i] = (lambda_i / 2) (u_i . (params[k] - p*))^2."""

    eigenvalues: np.ndarray  # (p,) ascending: column 0 is the flattest direction, the last the steepest
    directions: np.ndarray  # (p, p) the unit eigenvectors u_i as columns
    excess: np.ndarray  # (steps + 1, p); a row's sum is the loss above its minimum

    @property
    def total(self) -> np.ndarray:
        return self.excess.sum(axis=1)


def milestones(ds: Dataset, params, fit_bias: bool = True, weight_decay: float = 0.0) -> Milestones:
    """Per step, how much of the loss above its minimum lies along each eigen-direction of the Hessian. Exact for the
    quadratic MSE + (wd/2) ||w||^2 (without L1: the split of a run with L1 is that of its quadratic part, around the
    ridge optimum)."""
    params = np.asarray(params, dtype=np.float64)
    lam, vecs = np.linalg.eigh(regularized_hessian(ds, fit_bias, weight_decay))
    lam = np.clip(lam, 0.0, None)
    delta = (params - ridge(ds, weight_decay, fit_bias)) @ vecs
    return Milestones(lam, vecs, 0.5 * lam * delta**2)
