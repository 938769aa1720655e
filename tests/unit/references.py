"""Independent references for the engine's unit tests: closed forms in numpy float64 and PyTorch loops written
the way the four tutorials in seeds/ write them. Nothing here imports the engine."""

from __future__ import annotations

import numpy as np
import torch

# Tutorial 003's data (Deep Learning with PyTorch, ch. 5): thermometer readings in unknown units -> Celsius.
THERMOMETER_X = [35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]
THERMOMETER_Y = [0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]


# ----------------------------------------------------------------------------------------------------
# Closed forms (numpy float64)
# ----------------------------------------------------------------------------------------------------


def as_2d(x) -> np.ndarray:
    """Inputs as a float64 (n, d) array."""
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(-1, 1) if x.ndim == 1 else x


def design(x, fit_bias: bool = True) -> np.ndarray:
    """The design matrix X, with a trailing ones column when fitting the bias (params ordered w..., b)."""
    x = as_2d(x)
    return np.hstack([x, np.ones((len(x), 1))]) if fit_bias else x


def np_predict(x, params) -> np.ndarray:
    """y_hat = x @ w (+ b when len(params) == d + 1)."""
    x = as_2d(x)
    params = np.asarray(params, dtype=np.float64)
    return design(x, len(params) == x.shape[1] + 1) @ params


def np_mse(x, y, params) -> float:
    """Plain mean squared error in float64."""
    return float(np.mean((np_predict(x, params) - np.asarray(y, dtype=np.float64)) ** 2))


def np_grad(x, y, params) -> np.ndarray:
    """Exact gradient of the MSE: (2/n) X'(X p - y)."""
    x = as_2d(x)
    params = np.asarray(params, dtype=np.float64)
    big_x = design(x, len(params) == x.shape[1] + 1)
    return 2.0 / len(x) * big_x.T @ (big_x @ params - np.asarray(y, dtype=np.float64))


def np_lstsq(x, y, fit_bias: bool = True) -> np.ndarray:
    """Least-squares optimum by numpy.linalg.lstsq in float64."""
    return np.linalg.lstsq(design(x, fit_bias), np.asarray(y, dtype=np.float64), rcond=None)[0]


def np_hessian_eigenvalues(x, fit_bias: bool = True) -> np.ndarray:
    """Ascending eigenvalues of the MSE Hessian (2/n) X'X."""
    big_x = design(x, fit_bias)
    return np.linalg.eigvalsh(2.0 / len(big_x) * big_x.T @ big_x)


def np_r2(x, y, params) -> float:
    y = np.asarray(y, dtype=np.float64)
    ss_res = np.sum((y - np_predict(x, params)) ** 2)
    ss_tot = np.sum((y - y.mean()) ** 2)
    return float(1.0 - ss_res / ss_tot)


def np_rmse(x, y, params) -> float:
    return float(np.sqrt(np_mse(x, y, params)))


def np_gd(x, y, init, lr: float, steps: int, momentum: float = 0.0, nesterov: bool = False) -> np.ndarray:
    """Full-batch gradient descent in float64 with the exact gradient and torch.optim.SGD's momentum rule
    (v = beta v + g; p -= lr v, or p -= lr (g + beta v) with Nesterov); returns params (steps+1, p)."""
    p = np.asarray(init, dtype=np.float64)
    v = np.zeros_like(p)
    out = [p.copy()]
    for _ in range(steps):
        g = np_grad(x, y, p)
        v = momentum * v + g
        p = p - lr * (g + momentum * v if nesterov else v)
        out.append(p.copy())
    return np.array(out)


# ----------------------------------------------------------------------------------------------------
# Data recipes (the generator recipe of the "line" and "plane" data sets)
# ----------------------------------------------------------------------------------------------------


def line_recipe(n: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, generator=g)
    y = 2 * x[:, 0] + 1 + noise * torch.randn(n, generator=g)
    return x, y


def plane_recipe(n: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    y = 2 * x[:, 0] - 3 * x[:, 1] + 1 + noise * torch.randn(n, generator=g)
    return x, y


def batch_orders(n: int, batch_size: int, seed: int, epochs: int) -> list[list[list[int]]]:
    """The mini-batches of every epoch: one RandomSampler (seeded generator) in a BatchSampler, iterated once
    per epoch, so it reshuffles each epoch."""
    sampler = torch.utils.data.BatchSampler(
        torch.utils.data.RandomSampler(range(n), generator=torch.Generator().manual_seed(seed)),
        batch_size,
        drop_last=False,
    )
    return [[list(batch) for batch in sampler] for _ in range(epochs)]


# ----------------------------------------------------------------------------------------------------
# Tutorial loops (float32, as the tutorials run them)
# ----------------------------------------------------------------------------------------------------


def _f32(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.float32)


def tutorial001_loop(x, y, init, lr: float, epochs: int, zero_grad: bool = True) -> dict:
    """Tutorial 001: raw W (d, 1) and b (1,) with requires_grad, loss.backward(),
    `W -= lr * W.grad` under no_grad, then grad.zero_() (skipped when zero_grad is False: the accumulation
    bug).
    Returns params (epochs+1, d+1), loss (epochs+1,) at params[k], grads (epochs, d+1) as used at step k."""
    X = _f32(x)
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    y_true = _f32(y).reshape(-1, 1)
    d = X.shape[1]
    W = torch.tensor([[float(v)] for v in init[:d]], requires_grad=True)
    b = torch.tensor([float(init[d])], requires_grad=True)
    params, losses, grads = [], [], []
    for _epoch in range(epochs):
        params.append(np.r_[W.detach().numpy()[:, 0], b.detach().numpy()].astype(np.float64))
        y_hat = X @ W + b
        loss = torch.mean((y_hat - y_true) ** 2)
        losses.append(loss.item())
        loss.backward()
        grads.append(np.r_[W.grad.numpy()[:, 0], b.grad.numpy()].astype(np.float64))
        with torch.no_grad():
            W -= lr * W.grad
            b -= lr * b.grad
        if zero_grad:
            W.grad.zero_()
            b.grad.zero_()
    params.append(np.r_[W.detach().numpy()[:, 0], b.detach().numpy()].astype(np.float64))
    with torch.no_grad():
        losses.append(torch.mean((X @ W + b - y_true) ** 2).item())
    return {"params": np.array(params), "loss": np.array(losses), "grads": np.array(grads)}


def tutorial002_scalar_loop(x, y, w0: float, lr: float, epochs: int) -> dict:
    """Tutorial 002 sections 2-3: y = w * x (no bias), loss = mean((w X - Y)**2), manual update,
    w.grad.zero_()."""
    X = _f32(x).reshape(-1)
    Y = _f32(y).reshape(-1)
    w = torch.tensor(float(w0), requires_grad=True)
    params, losses, grads = [], [], []
    for _epoch in range(epochs):
        params.append([w.item()])
        Y_pred = w * X
        loss = torch.mean((Y_pred - Y) ** 2)
        losses.append(loss.item())
        loss.backward()
        grads.append([w.grad.item()])
        with torch.no_grad():
            w -= lr * w.grad
        w.grad.zero_()
    params.append([w.item()])
    with torch.no_grad():
        losses.append(torch.mean((w * X - Y) ** 2).item())
    return {"params": np.array(params), "loss": np.array(losses), "grads": np.array(grads)}


def tutorial002_lab_loop(x, y, init, lr: float, epochs: int) -> dict:
    """Tutorial 002 lab 6.1: scalar w and b, torch.optim.SGD([w, b]), nn.MSELoss, step() then zero_grad()."""
    X_true = _f32(x).reshape(-1)
    Y_true = _f32(y).reshape(-1)
    w = torch.tensor(float(init[0]), requires_grad=True)
    b = torch.tensor(float(init[1]), requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=lr)
    loss_fn = torch.nn.MSELoss()
    params, losses, grads = [], [], []
    for _epoch in range(epochs):
        params.append([w.item(), b.item()])
        Y_pred = w * X_true + b
        loss = loss_fn(Y_pred, Y_true)
        losses.append(loss.item())
        loss.backward()
        grads.append([w.grad.item(), b.grad.item()])
        optimizer.step()
        optimizer.zero_grad()
    params.append([w.item(), b.item()])
    with torch.no_grad():
        losses.append(loss_fn(w * X_true + b, Y_true).item())
    return {"params": np.array(params), "loss": np.array(losses), "grads": np.array(grads)}


def _linear_params(model: torch.nn.Linear) -> np.ndarray:
    w = model.weight.detach().numpy()[0].astype(np.float64)
    if model.bias is None:
        return w
    return np.r_[w, model.bias.detach().numpy().astype(np.float64)]


def _linear_grads(model: torch.nn.Linear) -> np.ndarray:
    w = model.weight.grad.numpy()[0].astype(np.float64)
    if model.bias is None:
        return w
    return np.r_[w, model.bias.grad.numpy().astype(np.float64)]


def torch_optim_loop(
    x,
    y,
    init,
    lr: float,
    epochs: int,
    fit_bias: bool = True,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    nesterov: bool = False,
    batch_size: int | None = None,
    seed: int = 0,
    zero_grad: bool = True,
    reshuffle: bool = True,
) -> dict:
    """Tutorial 000: torch.nn.Linear(d, 1) + torch.nn.MSELoss + a torch.optim optimizer, step(), zero_grad().
    With batch_size, the batches come from batch_orders() (reshuffled every epoch unless reshuffle is False).
    Returns params (steps+1, p), loss (steps+1,) full-data MSE at params[k], grads (steps, p), batch_loss."""
    X = _f32(x)
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    Y = _f32(y).reshape(-1)
    n, d = X.shape
    model = torch.nn.Linear(d, 1, bias=fit_bias, dtype=torch.float)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[float(v) for v in init[:d]]]))
        if fit_bias:
            model.bias.copy_(torch.tensor([float(init[d])]))
    loss_fn = torch.nn.MSELoss()
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=nesterov)
    elif optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    elif optimizer == "rmsprop":
        opt = torch.optim.RMSprop(model.parameters(), lr=lr)
    elif optimizer == "adagrad":
        opt = torch.optim.Adagrad(model.parameters(), lr=lr)
    else:
        raise ValueError(optimizer)
    if batch_size is None:
        orders = [[list(range(n))]] * epochs
    else:
        orders = batch_orders(n, batch_size, seed, epochs if reshuffle else 1)
        if not reshuffle:
            orders = orders * epochs

    def full_loss() -> float:
        with torch.no_grad():
            return loss_fn(model(X)[:, 0], Y).item()

    params, losses, grads, batch_losses = [], [], [], []
    for epoch_batches in orders:
        for idx in epoch_batches:
            params.append(_linear_params(model))
            losses.append(full_loss())
            output = loss_fn(model(X[idx])[:, 0], Y[idx])
            batch_losses.append(output.item())
            output.backward()
            grads.append(_linear_grads(model))
            opt.step()
            if zero_grad:
                opt.zero_grad()
    params.append(_linear_params(model))
    losses.append(full_loss())
    return {
        "params": np.array(params),
        "loss": np.array(losses),
        "grads": np.array(grads),
        "batch_loss": np.array(batch_losses),
    }


def tutorial003_fd_loop(
    x, y, init, lr: float, epochs: int, delta: float = 0.1, momentum: float = 0.0, nesterov: bool = False
) -> dict:
    """Tutorial 003: model w*x + b, mean squared loss, central finite differences with `delta`,
    `params = params - lr * grad`. Momentum: torch.optim.SGD's rule (v = beta v + g; Nesterov g + beta v).
    Returns params (epochs+1, 2), loss (epochs+1,), grads (epochs, 2) (the finite-difference gradients)."""
    input_t = _f32(x).reshape(-1)
    output = _f32(y).reshape(-1)

    def model(input_t, w, b):
        return w * input_t + b

    def loss_fn(output, predicted):
        sq_diff = (output - predicted) ** 2
        return sq_diff.mean()

    def grad_fn(input, output, w, b):
        loss_rate_of_change_w = (
            loss_fn(model(input, w + delta, b), output) - loss_fn(model(input, w - delta, b), output)
        ) / (2.0 * delta)
        loss_rate_of_change_b = (
            loss_fn(model(input, w, b + delta), output) - loss_fn(model(input, w, b - delta), output)
        ) / (2.0 * delta)
        return torch.stack([loss_rate_of_change_w, loss_rate_of_change_b])

    params = torch.tensor([float(v) for v in init])
    velocity = None
    out_params, losses, grads = [], [], []
    for _epoch in range(epochs):
        w, b = params
        predicted = model(input_t, w, b)
        loss = loss_fn(predicted, output)
        out_params.append(params.numpy().astype(np.float64))
        losses.append(loss.item())
        grad = grad_fn(input_t, output, w, b)
        grads.append(grad.numpy().astype(np.float64))
        if momentum:
            velocity = grad.clone() if velocity is None else momentum * velocity + grad
            grad = grad + momentum * velocity if nesterov else velocity
        params = params - lr * grad
    w, b = params
    out_params.append(params.numpy().astype(np.float64))
    losses.append(loss_fn(model(input_t, w, b), output).item())
    return {"params": np.array(out_params), "loss": np.array(losses), "grads": np.array(grads)}


def book_analytic_loop(x, y, init, lr: float, epochs: int) -> dict:
    """Deep Learning with PyTorch ch. 5 `training_loop` with the hand-derived gradient
    (dloss = 2 (t_p - t_c) / n; grad = [sum(dloss * t_u), sum(dloss)]), float32."""
    t_u = _f32(x).reshape(-1)
    t_c = _f32(y).reshape(-1)
    params = torch.tensor([float(v) for v in init])
    out_params, losses = [], []
    for _epoch in range(epochs):
        w, b = params
        t_p = w * t_u + b
        loss = ((t_p - t_c) ** 2).mean()
        out_params.append(params.numpy().astype(np.float64))
        losses.append(loss.item())
        dloss_dtp = 2 * (t_p - t_c) / t_p.size(0)
        grad = torch.stack([(dloss_dtp * t_u).sum(), dloss_dtp.sum()])
        params = params - lr * grad
    w, b = params
    out_params.append(params.numpy().astype(np.float64))
    losses.append((((w * t_u + b) - t_c) ** 2).mean().item())
    return {"params": np.array(out_params), "loss": np.array(losses)}


# ----------------------------------------------------------------------------------------------------
# Comparison helper (duck-typed on the History's attributes; no engine import)
# ----------------------------------------------------------------------------------------------------


def assert_matches(
    hist,
    ref: dict,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    grads: bool = True,
    grads_atol: float | None = None,
) -> None:
    """Every recorded step of `hist` equals the reference loop's: params, full-data loss, optionally grads
    (grads_atol: an absolute floor for gradients that are small differences of large float32 terms)."""
    np.testing.assert_equal(hist.params.shape, ref["params"].shape)
    np.testing.assert_allclose(hist.params, ref["params"], rtol=rtol, atol=atol, err_msg="params")
    np.testing.assert_allclose(hist.loss, ref["loss"], rtol=rtol, atol=atol, err_msg="loss")
    if grads:
        g_atol = atol if grads_atol is None else grads_atol
        np.testing.assert_allclose(hist.grads, ref["grads"], rtol=rtol, atol=g_atol, err_msg="grads")
