"""Families of regularized runs in one batched call: a sweep over the polynomial degree and one over the weight decay.

All runs advance together as one (K, P) float32 tensor, the shorter parameter vectors of low degrees padded with
zeros that stay zero (their rows and columns of X'X are zero). The arithmetic is the analytic method's: the
gradient (2/n)(X'X p - X'y) in float64 from the training rows' sufficient statistics, then, in float32, the L1
subgradient l1 * sign(w) and weight_decay * w on the weights, momentum as torch.optim.SGD. So each run equals
engine.train(..., method="analytic") with the same settings up to float32 rounding (the batched product sums in
another order), and K runs cost about what one costs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from .analysis import Quadratic
from .data import Dataset
from .devices import resolve_device
from .features import polynomial
from .limits import DIVERGENCE_FACTOR, MAX_DEGREE, MAX_EPOCHS
from .regularization import optima
from .split import split

MAX_DECAYS = 200  # runs in one weight-decay sweep


@dataclass(frozen=True, eq=False)
class FitSweep:
    """K regularized runs side by side (one per degree, or one per weight decay)."""

    degrees: np.ndarray  # (K,) the polynomial degree of each run (all equal in a decay sweep)
    weight_decays: np.ndarray  # (K,)
    l1: float
    lrs: np.ndarray  # (K,) the learning rate each run used
    loss: np.ndarray  # (steps + 1, K) training rows' MSE; NaN after a run diverged
    test_loss: np.ndarray | None  # (steps + 1, K) held-out rows' MSE, or None without a split
    params: np.ndarray | None  # (steps + 1, K, P) with P the largest parameter count; zeros pad the short runs
    n_params: np.ndarray  # (K,) how many of the P columns each run uses (w1..wd, then b)
    diverged_at: np.ndarray  # (K,) first step over the divergence limit, -1 if never
    optimum: tuple[np.ndarray, ...]  # each run's closed-form optimum (ridge, or the lasso's), its own length
    optimum_loss: np.ndarray  # (K,) training MSE at that optimum
    optimum_test_loss: np.ndarray | None  # (K,) held-out MSE at that optimum

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def final_loss(self) -> np.ndarray:
        """(K,) training MSE after the last step (inf for a diverged run)."""
        return np.where(self.diverged, np.inf, self.loss[-1])

    @property
    def final_test_loss(self) -> np.ndarray | None:
        return None if self.test_loss is None else np.where(self.diverged, np.inf, self.test_loss[-1])

    def run_params(self, k: int, step: int = -1) -> np.ndarray:
        """Run k's parameters (w1..wd[, b]) at a step, without the padding."""
        if self.params is None:
            raise ValueError("this sweep did not keep the parameters (keep_params=False)")
        return self.params[step, k, : self.n_params[k]]


def degree_sweep(
    ds: Dataset,
    degrees=range(1, MAX_DEGREE + 1),
    lr="best",
    epochs: int = 100,
    test_fraction: float = 0.25,
    seed: int = 0,
    weight_decay: float = 0.0,
    l1: float = 0.0,
    standardize: bool = True,
    fit_bias: bool = True,
    momentum: float = 0.0,
    keep_params: bool = True,
    device: str = "cpu",
) -> FitSweep:
    """Full-batch gradient descent on polynomial features of every degree at once, from zeros, on the same training
    rows (engine.split with this seed). lr: one number, one per degree, or "best": each degree at the best constant
    rate of its own (regularized) loss, 2 / (lambda_min + lambda_max)."""
    degrees = np.atleast_1d(np.asarray(list(degrees), dtype=np.int64))
    if not len(degrees) or degrees.min() < 1 or degrees.max() > MAX_DEGREE:
        raise ValueError(f"degrees must be from 1 to {MAX_DEGREE}")
    top = polynomial(ds, int(degrees.max()), standardize=standardize)  # degree k's columns are its first k
    train, test = split(top, test_fraction, seed) if test_fraction else (top, None)
    parts = [(_columns(train, k), None if test is None else _columns(test, k)) for k in degrees]
    wds = np.full(len(degrees), float(weight_decay))
    return _run(parts, degrees, wds, l1, lr, epochs, fit_bias, momentum, keep_params, device)


def decay_sweep(
    ds: Dataset,
    weight_decays,
    lr="best",
    epochs: int = 100,
    test_fraction: float = 0.25,
    seed: int = 0,
    l1: float = 0.0,
    fit_bias: bool = True,
    momentum: float = 0.0,
    keep_params: bool = True,
    device: str = "cpu",
) -> FitSweep:
    """Full-batch gradient descent on ds (e.g. engine.polynomial(...)) for every weight decay at once, from zeros, on
    the same training rows. lr: one number, one per decay, or "best" (each decay's own best constant rate)."""
    wds = np.atleast_1d(np.asarray(weight_decays, dtype=np.float64))
    if wds.ndim != 1 or not 1 <= len(wds) <= MAX_DECAYS:
        raise ValueError(f"give between 1 and {MAX_DECAYS} weight decays")
    if not (np.isfinite(wds).all() and (wds >= 0).all()):
        raise ValueError("every weight decay must be a number of at least 0")
    train, test = split(ds, test_fraction, seed) if test_fraction else (ds, None)
    degree = ds.polynomial.degree if ds.polynomial is not None else ds.d
    degrees = np.full(len(wds), degree, dtype=np.int64)
    return _run([(train, test)] * len(wds), degrees, wds, l1, lr, epochs, fit_bias, momentum, keep_params, device)


def _best_lr(quad: Quadratic, d: int, weight_decay: float) -> float:
    """2 / (lambda_min + lambda_max) of the regularized Hessian 2 S + wd D (engine.stability's best_lr)."""
    hessian = 2.0 * quad.S
    hessian[np.arange(d), np.arange(d)] += weight_decay
    lam = np.clip(np.linalg.eigvalsh(hessian), 0.0, None)
    return 2.0 / (lam[0] + lam[-1])


def _columns(ds: Dataset, k: int) -> Dataset:
    """The dataset with only its first k input columns (degree k's features)."""
    return replace(ds, x=ds.x[:, :k].contiguous(), feature_names=ds.feature_names[:k], true_params=None)


def _run(parts, degrees, wds, l1, lr, epochs, fit_bias, momentum, keep_params, device) -> FitSweep:
    if not (np.isfinite(l1) and l1 >= 0):
        raise ValueError(f"the L1 strength must be a number of at least 0, got {l1}")
    if not (np.isfinite(momentum) and 0 <= momentum < 1):
        raise ValueError(f"momentum must be at least 0 and below 1, got {momentum}")
    if isinstance(epochs, bool) or not 1 <= int(epochs) <= MAX_EPOCHS:
        raise ValueError(f"epochs must be from 1 to the cap of {MAX_EPOCHS:,}")
    k_runs = len(parts)
    shared = all(train is parts[0][0] for train, _ in parts)  # one dataset: one X'X for every run
    quads = [Quadratic.of(parts[0][0], fit_bias)] * k_runs if shared else [Quadratic.of(t, fit_bias) for t, _ in parts]
    sizes = np.array([len(q.optimum) for q in quads])
    width = int(sizes.max())
    if isinstance(lr, str):
        if lr != "best":
            raise ValueError(f"lr must be a number, one per run, or 'best', got {lr!r}")
        lrs = np.array([_best_lr(q, train.d, wd) for q, (train, _), wd in zip(quads, parts, wds, strict=True)])
    else:
        lrs = np.broadcast_to(np.asarray(lr, dtype=np.float64), (k_runs,)).copy()
    if not (np.isfinite(lrs).all() and (lrs > 0).all()):
        raise ValueError("every learning rate must be a positive number")
    dev = torch.device(resolve_device(device))
    wide = torch.float32 if dev.type == "mps" else torch.float64
    gram = np.zeros((k_runs, width, width))
    xty = np.zeros((k_runs, width))
    is_weight = np.zeros((k_runs, width))
    for i, (q, (train, _)) in enumerate(zip(quads, parts, strict=True)):
        p = sizes[i]
        gram[i, :p, :p], xty[i, :p] = 2.0 * q.S, 2.0 * q.q
        is_weight[i, : train.d] = 1.0
    gram_t = torch.as_tensor(gram[0] if shared else gram, dtype=wide, device=dev)
    xty_t = torch.as_tensor(xty, dtype=wide, device=dev)
    weight = torch.as_tensor(is_weight, dtype=torch.float32, device=dev)
    l1_scale = float(l1) * weight if l1 else None
    decay = torch.as_tensor(wds, dtype=torch.float32, device=dev)[:, None] * weight if (wds > 0).any() else None
    lr_t = torch.as_tensor(lrs, dtype=torch.float32, device=dev)[:, None]
    history = torch.zeros(int(epochs) + 1, k_runs, width, device=dev)
    params = history[0]
    buf = None
    for step in range(int(epochs)):
        wide_params = params.to(wide)
        if shared:
            product = wide_params @ gram_t  # X'X is symmetric: (X'X p_i) for every row i
        else:
            product = torch.bmm(gram_t, wide_params[:, :, None])[:, :, 0]
        grad = (product - xty_t).to(torch.float32)
        if l1_scale is not None:
            grad.add_(l1_scale * torch.sign(params))
        if decay is not None:
            grad = grad + decay * params
        if momentum:
            buf = grad.clone() if buf is None else buf.mul_(momentum).add_(grad)
            grad = buf
        params = torch.sub(params, lr_t * grad, out=history[step + 1])
    hist = history.cpu().double().numpy()
    loss = np.stack([q.loss(hist[:, i, : sizes[i]]) for i, q in enumerate(quads)], axis=1)
    if parts[0][1] is None:
        tests = [None] * k_runs
    elif shared:
        tests = [Quadratic.of(parts[0][1], fit_bias)] * k_runs
    else:
        tests = [Quadratic.of(test, fit_bias) for _, test in parts]
    test_loss = None
    if tests[0] is not None:
        test_loss = np.stack([t.loss(hist[:, i, : sizes[i]]) for i, t in enumerate(tests)], axis=1)
    with np.errstate(all="ignore"):
        scale = 1e-6 * np.array([float(np.mean(train.y.double().numpy() ** 2)) for train, _ in parts]) + 1e-30
        limit = DIVERGENCE_FACTOR * np.maximum(loss[0], scale)
        bad = ~np.isfinite(loss) | (loss > limit) | ~np.isfinite(hist).all(axis=2)
    diverged_at = np.where(bad.any(axis=0), np.argmax(bad, axis=0), -1)
    after = np.arange(len(loss))[:, None] >= np.where(diverged_at >= 0, diverged_at, len(loss))[None, :]
    loss = np.where(after, np.nan, loss)
    if test_loss is not None:
        test_loss = np.where(after, np.nan, test_loss)
    if shared:
        optimum = tuple(optima(parts[0][0], fit_bias, wds, l1))
    else:
        optimum = tuple(optima(train, fit_bias, [wd], l1)[0] for (train, _), wd in zip(parts, wds, strict=True))
    optimum_loss = np.array([float(q.loss(o)) for q, o in zip(quads, optimum, strict=True)])
    optimum_test = (
        None if tests[0] is None else np.array([float(t.loss(o)) for t, o in zip(tests, optimum, strict=True)])
    )
    return FitSweep(
        degrees=np.asarray(degrees),
        weight_decays=np.asarray(wds),
        l1=float(l1),
        lrs=lrs,
        loss=loss,
        test_loss=test_loss,
        params=np.where(after[..., None], np.nan, hist) if keep_params else None,
        n_params=sizes,
        diverged_at=diverged_at,
        optimum=optimum,
        optimum_loss=optimum_loss,
        optimum_test_loss=optimum_test,
    )
