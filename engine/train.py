"""Training: four ways to get the gradient (the tutorials' four), one loop, every step recorded.

Each step's parameters and gradient are written into tensors preallocated on the training device and copied to
the host once, at the end; divergence is checked every few steps, so the GPU is never waited on per step. The
full-data loss at every recorded step comes from the exact quadratic (analysis.Quadratic), in one vectorized
float64 pass, for every method alike.

With cfg.test_fraction > 0 the run trains on the training rows of engine.split(ds, test_fraction, cfg.seed) (the
config's seed, which also orders the mini-batches and draws a random start): History.loss is then those rows' MSE
and History.test_loss the held-out rows'. Weight decay and L1 act on the weights, never on the bias: in the optimizer
method through torch.optim's own weight_decay (two parameter groups) and an L1 term added to the loss; the methods
that update by hand add weight_decay * w and l1 * sign(w) to the weights' gradient, the same update. History.loss
stays the data's MSE, without the penalties.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import BatchSampler, RandomSampler

from .analysis import Quadratic
from .config import TrainConfig
from .data import Dataset
from .devices import resolve_device
from .limits import DIVERGENCE_FACTOR, MAX_POINTS, MAX_STEPS
from .split import split

CHECK_EVERY = 32  # steps between divergence checks (each check waits for the device once)


@dataclass(frozen=True, eq=False)
class History:
    """Everything a run did, as numpy float64 arrays; only finite values, also after a divergence."""

    params: np.ndarray  # (steps + 1, p): w1..wd, then b when fitting a bias
    loss: np.ndarray  # (steps + 1,): full-data MSE at params[k]
    grads: np.ndarray  # (steps, p): the gradient the update at step k used
    batch_loss: np.ndarray | None  # (steps,): loss on the mini-batch of step k; None for full batch
    diverged: bool
    diverged_at: int | None  # first step whose loss or parameters blew up
    steps_per_epoch: int
    param_names: tuple[str, ...]
    device: str
    test_loss: np.ndarray | None = None  # (steps + 1,): the held-out rows' MSE at params[k]; None without a split

    @property
    def steps(self) -> int:
        return len(self.params) - 1

    @property
    def final_params(self) -> np.ndarray:
        return self.params[-1]

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])

    def epoch_of(self, step: int) -> float:
        """How many passes over the data the first `step` updates make."""
        return step / self.steps_per_epoch


def initial_params(ds: Dataset, cfg: TrainConfig) -> torch.Tensor:
    """The starting point (w..., b) as float32: zeros, seeded normal draws, or the given numbers."""
    p = ds.d + int(cfg.fit_bias)
    if cfg.init == "zeros":
        return torch.zeros(p)
    if cfg.init == "random":  # tutorial 001: W = torch.randn(...), b = torch.randn(1)
        return torch.randn(p, generator=torch.Generator().manual_seed(cfg.seed + 7919))
    if len(cfg.init) != p:
        names = ", ".join(ds.param_names(cfg.fit_bias))
        raise ValueError(f"the starting point needs {p} numbers ({names}), got {len(cfg.init)}")
    return torch.tensor(cfg.init, dtype=torch.float32)


def param_groups(cfg: TrainConfig, weight: torch.Tensor, bias: torch.Tensor | None) -> list:
    """What the optimizer updates: [weight, bias], or with weight decay two groups, the weights decayed and the bias
    not (torch.optim's weight_decay would otherwise shrink the intercept too)."""
    if cfg.weight_decay == 0:
        return [weight] if bias is None else [weight, bias]
    groups = [{"params": [weight], "weight_decay": cfg.weight_decay}]
    return groups if bias is None else [*groups, {"params": [bias], "weight_decay": 0.0}]


def make_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    """The torch.optim optimizer the config names; momentum applies to SGD and RMSprop. params: tensors or groups."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum)
    return torch.optim.Adagrad(params, lr=cfg.lr)


class _ManualSGD:
    """SGD with momentum written out as torch.optim.SGD computes it: v = beta v + g; p -= lr (g + beta v | v).

    Keeps one momentum buffer per parameter tensor (slot), as torch.optim does.
    """

    def __init__(self, cfg: TrainConfig, slots: int, accumulate: bool):
        self.lr, self.beta, self.nesterov = cfg.lr, cfg.momentum, cfg.nesterov
        self.accumulate = accumulate  # emulate a forgotten grad.zero_(): use the running sum of gradients
        self.total: list[torch.Tensor | None] = [None] * slots
        self.buf: list[torch.Tensor | None] = [None] * slots

    def direction(self, slot: int, grad: torch.Tensor, decay: torch.Tensor | None = None) -> torch.Tensor:
        """The step's direction from this gradient; `decay` (weight_decay * w) joins it after any accumulation, as
        torch.optim adds weight_decay * p to .grad inside step()."""
        if self.accumulate:
            total = self.total[slot]
            grad = self.total[slot] = grad.clone() if total is None else total.add_(grad)
        if decay is not None:
            grad = grad + decay
        if self.beta == 0:
            return grad
        buf = self.buf[slot]
        buf = self.buf[slot] = grad.clone() if buf is None else buf.mul_(self.beta).add_(grad)
        return grad.add(buf, alpha=self.beta) if self.nesterov else buf

    def buffer(self) -> np.ndarray | None:
        if self.buf[0] is None:
            return None
        return torch.cat([b.reshape(-1) for b in self.buf]).cpu().double().numpy()


class _FlatStorage:
    """The parameters and their gradients as views into two flat tensors (w1..wd, b).

    The tutorials' tensors (nn.Linear's weight and bias, or raw W and b) are views into `params`, and their .grad
    are views into `grad`, so backward() accumulates into `grad` and every in-place update lands in `params`:
    recording a step is one copy of each, and the arithmetic is exactly the tutorials'.
    """

    def __init__(self, start: torch.Tensor, d: int, device: torch.device):
        self.params = start.clone().to(device)
        self.grad = torch.zeros_like(self.params)
        self.d = d

    def view(self, shape) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight view, its grad view) shaped as the tutorial shapes its weight."""
        return self.params[: self.d].view(shape), self.grad[: self.d].view(shape)

    def bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.params[self.d :], self.grad[self.d :]

    def read(self, out) -> None:
        out.copy_(self.params)


class _OptimizerMethod(_FlatStorage):
    """Tutorial 000 / 002: torch.nn.Linear, torch.nn.MSELoss, loss.backward(), optimizer.step()."""

    def __init__(self, x, y, start, cfg: TrainConfig):
        d = x.shape[1]
        super().__init__(start, d, x.device)
        self.model = nn.Linear(d, 1, bias=cfg.fit_bias, device=x.device)
        weight, weight_grad = self.view((1, d))
        self.model.weight = nn.Parameter(weight)  # shares storage with self.params
        self.model.weight.grad = weight_grad
        if cfg.fit_bias:
            bias, bias_grad = self.bias()
            self.model.bias = nn.Parameter(bias)
            self.model.bias.grad = bias_grad
        self.tensors = list(self.model.parameters())
        self.loss_fn = nn.MSELoss()
        bias = self.model.bias if cfg.fit_bias else None
        self.optimizer = make_optimizer(cfg, param_groups(cfg, self.model.weight, bias))
        self.zero_grad = cfg.zero_grad
        self.l1, self.weight_decay = cfg.l1, cfg.weight_decay

    def step(self, xb, yb, grad_out) -> torch.Tensor:
        loss = self.loss_fn(self.model(xb).squeeze(1), yb)
        if self.l1:  # as PyTorch users add it: autograd gives l1 * sign(w) (0 at w = 0)
            (loss + self.l1 * self.model.weight.abs().sum()).backward()
        else:
            loss.backward()
        grad_out.copy_(self.grad)
        if self.weight_decay:  # record what torch.optim steps along: grad.add(param, alpha=weight_decay)
            grad_out[: self.d].add_(self.params[: self.d], alpha=self.weight_decay)
        self.optimizer.step()
        if self.zero_grad:
            self.optimizer.zero_grad(set_to_none=False)  # zeroes in place, keeping .grad a view of self.grad
        return loss.detach()

    def momentum_buffer(self) -> np.ndarray | None:
        state = [self.optimizer.state[t] for t in self.tensors]
        key = next((k for k in ("momentum_buffer", "exp_avg") if state[0].get(k) is not None), None)
        return None if key is None else torch.cat([s[key].view(-1) for s in state]).cpu().double().numpy()


class _AutogradMethod(_FlatStorage):
    """Tutorial 001: raw W, b with requires_grad, loss.backward(), `W -= lr * W.grad` under no_grad, zero_()."""

    def __init__(self, x, y, start, cfg: TrainConfig):
        d = x.shape[1]
        super().__init__(start, d, x.device)
        self.W, W_grad = self.view((d, 1))
        self.W.requires_grad_()
        self.W.grad = W_grad
        self.tensors = [self.W]
        if cfg.fit_bias:
            self.b, b_grad = self.bias()
            self.b.requires_grad_()
            self.b.grad = b_grad
            self.tensors.append(self.b)
        self.fit_bias = cfg.fit_bias
        self.y, self.y_true = y, y[:, None]  # the tutorial keeps targets as a column
        # a skipped grad.zero_() accumulates in .grad by itself, so no emulation here
        self.update = _ManualSGD(cfg, len(self.tensors), accumulate=False)
        self.zero_grad = cfg.zero_grad
        self.l1, self.weight_decay = cfg.l1, cfg.weight_decay

    def step(self, xb, yb, grad_out) -> torch.Tensor:
        y_true = self.y_true if yb is self.y else yb[:, None]
        y_hat = xb @ self.W + self.b if self.fit_bias else xb @ self.W
        loss = torch.mean((y_hat - y_true) ** 2)
        if self.l1:  # the L1 term in the loss: backward() gives l1 * sign(W)
            (loss + self.l1 * self.W.abs().sum()).backward()
        else:
            loss.backward()
        lr, update = self.update.lr, self.update
        with torch.no_grad():
            if self.weight_decay:  # on W only: W -= lr * (W.grad + weight_decay * W), as torch.optim's weight_decay
                used = [self.W.grad + self.weight_decay * self.W, *(t.grad for t in self.tensors[1:])]
                grad_out.copy_(torch.cat([g.reshape(-1) for g in used]))
                for slot, (t, g) in enumerate(zip(self.tensors, used, strict=True)):
                    t -= lr * (g if update.beta == 0 else update.direction(slot, g))
            elif update.beta == 0:  # plain gradient descent, as the tutorial writes it
                for t in self.tensors:
                    t -= lr * t.grad
            else:
                for slot, t in enumerate(self.tensors):
                    t -= lr * update.direction(slot, t.grad)
        if not self.weight_decay:
            grad_out.copy_(self.grad)
        if self.zero_grad:
            for t in self.tensors:
                t.grad.zero_()
        return loss.detach()

    def momentum_buffer(self) -> np.ndarray | None:
        return self.update.buffer()


class _FlatMethod:
    """Shared by the two methods that keep the parameters as one plain tensor and never call autograd."""

    def __init__(self, x, y, start, cfg: TrainConfig):
        self.params = start.clone().to(x.device)
        self.xa = torch.cat([x, torch.ones_like(x[:, :1])], 1) if cfg.fit_bias else x
        self.update = _ManualSGD(cfg, 1, accumulate=not cfg.zero_grad)
        self.cfg = cfg
        # the penalties act on the weights, not the bias: is_weight is 1 on w1..wd, 0 on b
        is_weight = torch.ones_like(self.params)
        is_weight[x.shape[1] :] = 0.0
        self.l1_scale = cfg.l1 * is_weight if cfg.l1 else None
        self.decay_scale = cfg.weight_decay * is_weight if cfg.weight_decay else None

    def step(self, xb, yb, grad_out) -> torch.Tensor:
        loss = self.gradient(xb, yb, grad_out)
        if self.l1_scale is not None:  # the L1 term's subgradient, l1 * sign(w): part of the loss's gradient
            grad_out.add_(self.l1_scale * torch.sign(self.params))
        decay = None if self.decay_scale is None else self.decay_scale * self.params
        direction = self.update.direction(0, grad_out, decay)
        if self.update.accumulate:  # record the gradient the update used: the running sum
            grad_out.copy_(self.update.total[0])
        if decay is not None:
            grad_out.add_(decay)
        self.params -= self.update.lr * direction
        return loss

    def read(self, out) -> None:
        out.copy_(self.params)

    def momentum_buffer(self) -> np.ndarray | None:
        return self.update.buffer()


class _FiniteDifferenceMethod(_FlatMethod):
    """Tutorial 003: central differences (L(p + delta e_j) - L(p - delta e_j)) / (2 delta), no autograd.

    All 2p + 1 loss evaluations of a step go through one matrix product: column 0 is p itself, then p + delta e_j,
    then p - delta e_j.
    """

    def __init__(self, x, y, start, cfg: TrainConfig):
        super().__init__(x, y, start, cfg)
        eye = torch.eye(len(start), device=x.device) * cfg.fd_delta
        self.offsets = torch.cat([torch.zeros_like(eye[:, :1]), eye, -eye], 1)

    def gradient(self, xb, yb, grad_out) -> torch.Tensor:
        xab = self.xa if xb is None else xb
        p = len(self.params)
        losses = ((xab @ (self.params[:, None] + self.offsets) - yb[:, None]) ** 2).mean(0)
        torch.div(losses[1 : p + 1] - losses[p + 1 :], 2 * self.cfg.fd_delta, out=grad_out)
        return losses[0]


class _AnalyticMethod(_FlatMethod):
    """The closed-form gradient of the MSE, (2/n) X'(X p - y), written as (2/n)(X'X p - X'y) for a full batch.

    X'X and X'y are computed once (float64 where the device has it), so a full-batch step costs the same for
    ten points or a million.
    """

    def __init__(self, x, y, start, cfg: TrainConfig):
        super().__init__(x, y, start, cfg)
        self.dtype = torch.float32 if x.device.type == "mps" else torch.float64
        xa = self.xa.to(self.dtype)
        self.gram = xa.T @ xa * (2.0 / len(y))
        self.xty = xa.T @ y.to(self.dtype) * (2.0 / len(y))

    def gradient(self, xb, yb, grad_out) -> torch.Tensor:
        if xb is None:
            grad_out.copy_(self.gram @ self.params.to(self.dtype) - self.xty)
            return grad_out.new_full((), math.nan)  # the full-data loss comes from the quadratic
        residual = xb @ self.params - yb
        torch.mv(xb.T, residual, out=grad_out).mul_(2.0 / len(yb))
        return (residual**2).mean()


_METHODS = {
    "optimizer": _OptimizerMethod,
    "autograd": _AutogradMethod,
    "finite-difference": _FiniteDifferenceMethod,
    "analytic": _AnalyticMethod,
}


class Trainer:
    """A run that advances on demand: step() for one update, run() for many; history() at any time."""

    def __init__(self, ds: Dataset, cfg: TrainConfig):
        if ds.n > MAX_POINTS:
            raise ValueError(f"{ds.n:,} points is over the cap of {MAX_POINTS:,} points")
        self.ds, self.cfg = ds, cfg
        self.device = resolve_device(cfg.device)
        # train on the training rows only (all of ds without a split); the test rows are only ever evaluated
        self.train_ds, self.test_ds = split(ds, cfg.test_fraction, cfg.seed) if cfg.test_fraction else (ds, None)
        ds = self.train_ds
        batch = cfg.batch_size if cfg.batch_size is not None and cfg.batch_size < ds.n else None
        self.batch_size = batch
        self.steps_per_epoch = 1 if batch is None else math.ceil(ds.n / batch)
        self.total_steps = cfg.epochs * self.steps_per_epoch
        if self.total_steps > MAX_STEPS:
            raise ValueError(
                f"{cfg.epochs:,} epochs of {self.steps_per_epoch:,} mini-batches is {self.total_steps:,} steps, "
                f"over the cap of {MAX_STEPS:,} steps: use fewer epochs or larger batches"
            )
        self.param_names = tuple(ds.param_names(cfg.fit_bias))
        start = initial_params(ds, cfg)
        self.quad = Quadratic.of(ds, cfg.fit_bias)
        self.test_quad = None if self.test_ds is None else Quadratic.of(self.test_ds, cfg.fit_bias)
        dev = torch.device(self.device)
        self.x, self.y = ds.x.to(dev), ds.y.to(dev)
        self.method = _METHODS[cfg.method](self.x, self.y, start, cfg)
        p = len(start)
        self._params = torch.empty(self.total_steps + 1, p, device=dev)
        self._grads = torch.empty(self.total_steps, p, device=dev)
        self._batch_loss = None if batch is None else torch.empty(self.total_steps, device=dev)
        self._params[0] = start
        self.step_index = 0
        self.diverged_at: int | None = None
        start_loss = float(self.quad.loss(start.double().numpy()))
        # a start at (or within rounding of) the optimum must not make every wobble a "divergence": floor the
        # reference at a millionth of the data's own scale
        floor = 1e-6 * float(np.mean(ds.y.double().numpy() ** 2)) + 1e-30
        self._loss_limit = DIVERGENCE_FACTOR * max(start_loss, floor)
        self._sampler = (
            None if batch is None else RandomSampler(range(ds.n), generator=torch.Generator().manual_seed(cfg.seed))
        )
        self._batches: list[torch.Tensor] = []
        self.last_batch: np.ndarray | None = None

    @property
    def done(self) -> bool:
        return self.diverged_at is not None or self.step_index >= self.total_steps

    def _refill(self) -> None:
        if not self._batches:  # a new epoch: the sampler reshuffles (as a DataLoader with shuffle=True does)
            batches = BatchSampler(self._sampler, self.batch_size, drop_last=False)
            self._batches = [torch.as_tensor(b, device=self.x.device) for b in batches][::-1]

    def next_batch_indices(self) -> np.ndarray | None:
        """The rows the next step will use (None for a full batch), without taking the step."""
        if self._sampler is None or self.done:
            return None
        self._refill()
        return self._batches[-1].cpu().numpy()

    @property
    def params(self) -> np.ndarray:
        """The current parameters (w..., b)."""
        return self._params[self.step_index].cpu().double().numpy()

    def _next_batch(self):
        self._refill()
        idx = self._batches.pop()
        self.last_batch = idx
        xa = getattr(self.method, "xa", self.x)
        return xa[idx], self.y[idx]

    def _advance(self, count: int) -> None:
        k = self.step_index
        end = min(k + count, self.total_steps)
        method, params, grads = self.method, self._params, self._grads
        while k < end and self.diverged_at is None:
            chunk_end = min(k + CHECK_EVERY, end)
            if self._sampler is None:  # full batch: the same tensors every step
                xb = None if isinstance(method, _FlatMethod) else self.x
                for step in range(k, chunk_end):
                    method.step(xb, self.y, grads[step])
                    method.read(params[step + 1])
            else:
                for step in range(k, chunk_end):
                    xb, yb = self._next_batch()
                    self._batch_loss[step] = method.step(xb, yb, grads[step])
                    method.read(params[step + 1])
            k = chunk_end
            self.step_index = k
            self._check(params[k])

    def _check(self, current: torch.Tensor) -> None:
        values = current.cpu().double().numpy()  # the one wait for the device in CHECK_EVERY steps
        if not np.isfinite(values).all() or not self.quad.loss(values) <= self._loss_limit:
            self.diverged_at = -1  # located exactly in history()

    def step(self) -> None:
        """One update (a no-op once the run is over)."""
        if not self.done:
            self._advance(1)

    def run(self, steps: int | None = None) -> Trainer:
        """Advance by `steps` updates, or to the end of the run."""
        if not self.done:
            self._advance(self.total_steps if steps is None else steps)
        return self

    def momentum_buffer(self) -> np.ndarray | None:
        """The current momentum (or Adam first-moment) buffer, when the method keeps one."""
        return self.method.momentum_buffer()

    def history(self) -> History:
        """The run so far; a divergence keeps the steps up to the blow-up, all finite."""
        k = self.step_index
        params = self._params[: k + 1].cpu().double().numpy()
        grads = self._grads[:k].cpu().double().numpy()
        batch_loss = None if self._batch_loss is None else self._batch_loss[:k].cpu().double().numpy()
        with np.errstate(all="ignore"):
            loss = self.quad.loss(params)
            test_loss = None if self.test_quad is None else self.test_quad.loss(params)
            finite = np.isfinite(params).all(1) & np.isfinite(loss)
            bad = ~finite | (loss > self._loss_limit)
        diverged_at = int(np.argmax(bad)) if bad.any() else None
        if diverged_at is not None:
            self.diverged_at = diverged_at
            keep = diverged_at + 1 if finite[diverged_at] else diverged_at
            keep = max(keep, 1)
            params, loss, grads = params[:keep], loss[:keep], grads[: keep - 1]
            test_loss = None if test_loss is None else test_loss[:keep]
            batch_loss = None if batch_loss is None else batch_loss[: keep - 1]
        return History(
            params=params,
            loss=loss,
            grads=grads,
            batch_loss=batch_loss,
            diverged=diverged_at is not None,
            diverged_at=diverged_at,
            steps_per_epoch=self.steps_per_epoch,
            param_names=self.param_names,
            device=self.device,
            test_loss=test_loss,
        )


def train(ds: Dataset, cfg: TrainConfig) -> History:
    """Train a linear model on ds as cfg says and return every step; never raises on divergence."""
    return Trainer(ds, cfg).run().history()
