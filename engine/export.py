"""Export a run as the plain PyTorch script (or Jupyter notebook) that repeats it, written the tutorials' way.

The program regenerates (or inlines) the data, starts from the run's starting point and makes the run's updates in
the run's order, so it ends at the playground's final parameters. It needs only PyTorch, runs on the CPU, and its
last line is `RESULT {"params": [...], "loss": ...}` so that tests can compare it with `engine.train`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import torch

from .analysis import stability
from .config import TrainConfig
from .data import DATASET_NAMES, SYNTHETIC, Dataset, make_dataset
from .train import initial_params

_WIDTH = 116  # the longest line of an exported program (ruff allows 120)

_METHOD_TITLES = {
    "optimizer": "torch.nn.Linear, torch.nn.MSELoss and a torch.optim optimizer",
    "autograd": "autograd on raw tensors and gradient descent by hand",
    "finite-difference": "numerical derivatives (central finite differences)",
    "analytic": "the gradient worked out on paper (closed form)",
}

_METHOD_INTROS = {
    "optimizer": (
        "The model is a `torch.nn.Linear` layer, the loss is `torch.nn.MSELoss`, `loss.backward()` computes the "
        "gradient and the optimizer from `torch.optim` makes the update (tutorials 000 and 002)."
    ),
    "autograd": (
        "The parameters are plain tensors `W` and `b` with `requires_grad=True`; `loss.backward()` fills `W.grad` "
        "and `b.grad`, and the update is written by hand under `torch.no_grad()` (tutorial 001)."
    ),
    "finite-difference": (
        "No autograd at all: each partial derivative of the loss is estimated by nudging one parameter a little "
        "up and a little down and comparing the two losses, a central difference (tutorial 003)."
    ),
    "analytic": (
        "No autograd at all: the gradient of the mean squared error is worked out on paper, "
        "`grad = 2/n * Xa.T @ (Xa @ params - y)`, and computed with plain tensor operations."
    ),
}

_GRADIENT_STEP = {
    "optimizer": "**Backward pass**: `loss.backward()` computes the gradient of the loss for every parameter.",
    "autograd": "**Backward pass**: `loss.backward()` fills `W.grad` (and `b.grad`).",
    "finite-difference": "**Gradient**: estimate each partial derivative with a central difference.",
    "analytic": "**Gradient**: evaluate the formula worked out on paper.",
}


@dataclass(frozen=True)
class _Section:
    """One part of the program: a banner title, a short explanation (markdown) and its code."""

    title: str
    markdown: str
    code: str


def export_script(ds: Dataset, cfg: TrainConfig) -> str:
    """The run as one runnable Python script that needs only PyTorch; its last printed line is a RESULT line."""
    sections = _program(ds, cfg)
    parts = [_docstring(ds, cfg), sections[0].code]
    for section in sections[1:]:
        banner = f"# --- {section.title} "
        parts.append(banner + "-" * max(3, 100 - len(banner)) + "\n" + section.code)
    return "\n\n\n".join(parts) + "\n"


def export_notebook(ds: Dataset, cfg: TrainConfig) -> str:
    """The same program as a Jupyter notebook (nbformat 4 JSON), one cell per part with a note before each."""
    sections = _program(ds, cfg)
    intro = (
        f"# Linear regression with {_METHOD_TITLES[cfg.method]}\n\n"
        "Exported from the PyTorch playground: this notebook repeats the run exactly (the same data, the same "
        "starting point, the same mini-batches in the same order, the same updates), so it ends with the numbers "
        "the playground shows.\n\n" + _METHOD_INTROS[cfg.method]
    )
    cells = [_markdown_cell(intro)]
    for section in sections:
        if section.markdown:
            cells.append(_markdown_cell(section.markdown))
        cells.append(_code_cell(section.code))
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i + 1}"
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _markdown_cell(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(text)}


def _code_cell(code: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": _lines(code)}


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


# ----------------------------------------------------------------------------------------------------
# The program, part by part
# ----------------------------------------------------------------------------------------------------


def _program(ds: Dataset, cfg: TrainConfig) -> list[_Section]:
    start = initial_params(ds, cfg)  # raises the engine's ValueError for a starting point of the wrong length
    batch = cfg.batch_size if cfg.batch_size is not None and cfg.batch_size < ds.n else None
    raw, how = _raw_data(ds)
    setup = _Section(
        "Setup",
        "",
        "import json\n\nimport torch\n\n"
        "# Everything here runs on the CPU. To train on a GPU, move the data and the parameters there with\n"
        '# .to("cuda") (the last digits of the numbers may then differ a little from the playground\'s).',
    )
    return [
        setup,
        _data_section(ds, raw, how),
        _model_section(ds, cfg, start),
        _loss_section(ds, cfg, batch),
        _loop_section(ds, cfg, batch),
        _results_section(ds, cfg, how),
    ]


def _docstring(ds: Dataset, cfg: TrainConfig) -> str:
    batch = cfg.batch_size if cfg.batch_size is not None and cfg.batch_size < ds.n else None
    what = f"{_safe(ds.description) or _safe(ds.name)}"
    if ds.scaling is not None:
        what += ", inputs standardized" if ds.scaling.how == "standardize" else ", inputs rescaled"
    hyper = [f"learning rate {cfg.lr!r}", f"{cfg.epochs} epochs"]
    hyper.append("full batch" if batch is None else f"mini-batches of {batch} (seed {cfg.seed})")
    if cfg.method == "optimizer" and cfg.optimizer != "sgd":
        hyper.insert(0, f"optimizer {cfg.optimizer}")
    if cfg.uses_momentum:
        hyper.append(f"{'Nesterov ' if cfg.uses_nesterov else ''}momentum {cfg.momentum!r}")
    if not cfg.zero_grad:
        hyper.append("gradients never zeroed")
    lines = [
        f'"""Linear regression with {_METHOD_TITLES[cfg.method]}.',
        "",
        "Exported from the PyTorch playground: it repeats the run exactly (the same data, the same starting point,",
        "the same mini-batches in the same order, the same updates), so it ends with the numbers the playground",
        "shows. It needs only PyTorch: python this_file.py",
        "",
        f"Data: {what}.",
        f"Training: {', '.join(hyper)}.",
        "",
        "The loop makes the four steps of every training: 1. forward pass (predict), 2. compute the loss,",
        "3. compute the gradient, 4. update the parameters.",
        '"""',
    ]
    return "\n".join(lines)


# -- data ---------------------------------------------------------------------------------------------


def _data_section(ds: Dataset, raw: tuple[torch.Tensor, torch.Tensor] | None, how: str) -> _Section:
    lines: list[str] = []
    if how == "source":
        kind, n, noise, seed = ds.source
        lines += [
            f"# {_safe(ds.description)}:",
            "# the playground's own random numbers, drawn again from the same seed",
            f"n = {n}",
            f"noise = {noise!r}",
            f"g = torch.Generator().manual_seed({seed})",
        ]
        if kind == "line":  # engine.data.make_dataset, tutorial 001's recipe
            lines += [
                "X = torch.randn(n, 1, generator=g)  # inputs, one row per point: shape (n, 1)",
                "y = 2.0 * X[:, 0] + 1.0 + noise * torch.randn(n, generator=g)  # targets, shape (n,)",
            ]
        else:
            lines += [
                "X = torch.randn(n, 2, generator=g)  # inputs, one row per point: shape (n, 2)",
                "y = 2.0 * X[:, 0] - 3.0 * X[:, 1] + 1.0 + noise * torch.randn(n, generator=g)  # targets, shape (n,)",
            ]
    else:
        x, y = raw
        about = _safe(ds.description) or f"the data set {_safe(ds.name)!r}"
        lines.append(f"# {about}")
        if how == "scaled":
            lines.append("# (the raw inputs could not be recovered exactly, so these are the inputs already rescaled)")
        lines.append(_tensor_literal("X", x, f"# inputs, one row per point: shape (n, {ds.d})"))
        lines.append(_tensor_literal("y", y, "# targets, shape (n,)"))
    markdown = (
        "## The data\n\n"
        "The inputs `X` hold one row per point and one column per feature; the targets `y` hold one number per point."
    )
    scaling = ds.scaling
    if scaling is not None and how != "scaled":
        lines.append("")
        if scaling.how == "multiply":
            lines += [
                "# Rescale the inputs, x' = x * factor (in float64, then back to float32, as the playground does)",
                f"factor = {scaling.factor[0]!r}",
                "X = (X.double() * factor).float()",
            ]
            markdown += (
                " The inputs are multiplied by a constant first: that changes the shape of the loss surface, "
                "and so which learning rates work."
            )
        else:
            lines += [
                "# Standardize the inputs, x' = (x - mean) / sd per feature (in float64, then back to float32, as the",
                "# playground does). mean and 1 / sd are X.double().mean(0) and 1 / X.double().std(0, unbiased=False),",
                "# written out here to the last digit.",
                f"offset = torch.tensor({_f64_list(scaling.offset)}, dtype=torch.float64)",
                f"factor = torch.tensor({_f64_list(scaling.factor)}, dtype=torch.float64)",
                "X = ((X.double() - offset) * factor).float()",
            ]
            markdown += (
                " The inputs are standardized first (zero mean, unit spread), which makes the loss surface round."
            )
    lines.append("n, d = X.shape  # number of points, number of input features")
    return _Section("The data", markdown, "\n".join(lines))


def _raw_data(ds: Dataset) -> tuple[tuple[torch.Tensor, torch.Tensor] | None, str]:
    """How the script gets the data: ("source", regenerate), ("raw", inline raw values) or ("scaled", inline ds)."""
    if ds.source:
        try:
            made = make_dataset(*ds.source)
        except (TypeError, ValueError):
            made = None
        if made is not None and _reproduces(ds, made.x, made.y):
            return None, "source"
    if ds.scaling is None:
        return (ds.x, ds.y), "raw"
    candidates = []
    if ds.name in DATASET_NAMES and ds.name not in SYNTHETIC:
        made = make_dataset(ds.name)
        candidates.append(made.x)
    # undo the scaling; exact whenever the rounding to float32 lands back on the raw values
    offset = torch.tensor(ds.scaling.offset, dtype=torch.float64)
    factor = torch.tensor(ds.scaling.factor, dtype=torch.float64)
    candidates.append((ds.x.double() / factor + offset).float())
    for x in candidates:
        if x.shape == ds.x.shape and _reproduces(ds, x, ds.y):
            return (x, ds.y), "raw"
    return (ds.x, ds.y), "scaled"


def _apply_scaling(ds: Dataset, x: torch.Tensor) -> torch.Tensor:
    """The scaling exactly as the exported script writes it (and as engine.data.scale_inputs computes it)."""
    s = ds.scaling
    if s is None:
        return x
    if s.how == "multiply":
        return (x.double() * s.factor[0]).float()
    offset = torch.tensor(s.offset, dtype=torch.float64)
    factor = torch.tensor(s.factor, dtype=torch.float64)
    return ((x.double() - offset) * factor).float()


def _reproduces(ds: Dataset, x: torch.Tensor, y: torch.Tensor) -> bool:
    if x.shape != ds.x.shape or y.shape != ds.y.shape:
        return False
    if ds.scaling is not None and ds.scaling.how == "multiply" and len(set(ds.scaling.factor)) != 1:
        return False
    scaled = _apply_scaling(ds, x)
    return _same_bits(scaled, ds.x) and _same_bits(y, ds.y)


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal to the last bit (torch.equal would let -0.0 stand for 0.0)."""
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and a.contiguous().numpy().tobytes() == b.contiguous().numpy().tobytes()
    )


# -- model and parameters -----------------------------------------------------------------------------


def _model_section(ds: Dataset, cfg: TrainConfig, start: torch.Tensor) -> _Section:
    d, fit_bias = ds.d, cfg.fit_bias
    w0, b0 = start[:d].tolist(), start[d:].tolist()
    start_note = _start_note(cfg)
    if cfg.method == "optimizer":
        code = [
            f"# The model y_hat = X @ w + b is one linear layer: d inputs, 1 output{'' if fit_bias else ', no bias'}",
            f"model = torch.nn.Linear(d, 1, bias={fit_bias})",
            f"# {start_note}",
            "with torch.no_grad():",
            f"    model.weight.copy_(torch.tensor([{_float_list(w0)}]))  # shape (1, d)",
        ]
        if fit_bias:
            code.append(f"    model.bias.copy_(torch.tensor({_float_list(b0)}))  # shape (1,)")
        markdown = (
            "## The model and its parameters\n\n"
            "`torch.nn.Linear(d, 1)` computes `y_hat = X @ weight.T + bias`; its weight and bias are the "
            "parameters we learn. They start where the playground's run started."
        )
    elif cfg.method == "autograd":
        code = [
            f"# The parameters: W (d rows, 1 column){' and b' if fit_bias else ''}. "
            "requires_grad=True tells autograd to track them.",
            f"# {start_note}",
            f"W = torch.tensor({_float_list([[v] for v in w0])}, requires_grad=True)  # shape (d, 1)",
        ]
        if fit_bias:
            code.append(f"b = torch.tensor({_float_list(b0)}, requires_grad=True)  # shape (1,)")
        code += [
            "",
            "# The model compares y_hat (one column) with the targets as a column too",
            "y_true = y[:, None]  # shape (n, 1)",
        ]
        markdown = (
            "## The parameters\n\n"
            f"The model is `y_hat = X @ W{' + b' if fit_bias else ''}`, written directly as a matrix product. "
            f"{'`W` and `b` are' if fit_bias else '`W` is'} created with `requires_grad=True` so that autograd "
            "records every operation on them."
        )
    else:
        names = ", ".join(ds.param_names(fit_bias))
        code = [
            f"# All the parameters in one plain tensor ({names}); no requires_grad: nothing here uses autograd",
            f"# {start_note}",
            f"params = torch.tensor({_float_list(w0 + b0)})",
            "",
        ]
        if cfg.method == "finite-difference":
            code += [
                "",
                "def model(X, params):",
                '    """The linear model: y_hat = X @ w + b."""' if fit_bias else '    """The model: y_hat = X @ w."""',
                "    return X @ params[:d] + params[d]" if fit_bias else "    return X @ params",
            ]
            markdown = (
                "## The model and its parameters\n\n"
                "As in tutorial 003, the model is a plain function of the inputs and a vector of parameters."
            )
        else:
            code += [
                "",
                "def model(Xa, params):",
                '    """y_hat = X @ w + b, written as one product: Xa is X with a column of ones for b."""'
                if fit_bias
                else '    """The model: y_hat = X @ w."""',
                "    return Xa @ params",
                "",
                "",
            ]
            if fit_bias:
                code.append(
                    "Xa = torch.cat([X, torch.ones(n, 1)], dim=1)  # shape (n, d + 1): the last column is for b"
                )
            else:
                code.append("Xa = X  # no bias: the design matrix is X itself")
            markdown = (
                "## The model and its parameters\n\n"
                "The model is `y_hat = Xa @ params`: `Xa` is `X` with a column of ones appended, so the last "
                "parameter acts as the bias."
                if fit_bias
                else "## The model and its parameters\n\nThe model is `y_hat = X @ w`, with no bias."
            )
    return _Section("The model and its parameters", markdown, "\n".join(code))


def _start_note(cfg: TrainConfig) -> str:
    if cfg.init == "zeros":
        return "Start from zeros, as the playground's run did"
    if cfg.init == "random":
        return f"Start from the playground's random draw (torch.randn with seed {cfg.seed + 7919}), to the last digit"
    return "Start from the playground's starting point"


# -- loss (and gradient) ------------------------------------------------------------------------------


def _loss_section(ds: Dataset, cfg: TrainConfig, batch: int | None) -> _Section:
    """The loss the training uses (and its gradient, without autograd), then loss_on_all_data to report progress."""
    section = _training_loss_section(ds, cfg, batch)
    bias = " + p[d]" if cfg.fit_bias else ""
    order = ", ".join(ds.param_names(cfg.fit_bias))
    watch = [
        "def loss_on_all_data(params):",
        f'    """The mean squared error on all the data at params, a list ({order}), in float64 (as the playground',
        '    computes it), to report progress: training itself does not use it."""',
        "    p = torch.tensor(params, dtype=torch.float64)",
        f"    return ((X.double() @ p[:d]{bias} - y.double()) ** 2).mean().item()",
    ]
    markdown = section.markdown + (
        " `loss_on_all_data` gives the loss on all the data at given parameters, to report progress."
    )
    return _Section(section.title, markdown, section.code + "\n\n\n" + "\n".join(watch))


def _training_loss_section(ds: Dataset, cfg: TrainConfig, batch: int | None) -> _Section:
    md_mse = "The loss is the mean squared error, `mean((y_hat - y) ** 2)`."
    if cfg.method == "optimizer":
        code = "loss_fn = torch.nn.MSELoss()  # mean((y_hat - y) ** 2)"
        return _Section("The loss", "## The loss\n\n" + md_mse, code)
    if cfg.method == "autograd":
        code = (
            "# The mean squared error, written out: loss = torch.mean((y_hat - y_true) ** 2)\n"
            "# (it is computed inside the loop, where autograd records it)"
        )
        return _Section("The loss", "## The loss\n\n" + md_mse, code)
    loss_fn = "def loss_fn(y_hat, y):\n    sq_diff = (y_hat - y) ** 2\n    return sq_diff.mean()"
    if cfg.method == "finite-difference":
        code = "\n".join(
            [
                loss_fn,
                "",
                "",
                f"delta = {cfg.fd_delta!r}  # how far to nudge each parameter",
                "",
                "",
                "def grad_fn(X, y, params):",
                '    """Each partial derivative by a central difference, as tutorial 003 computes it."""',
                "    grad = torch.zeros_like(params)",
                "    for j in range(len(params)):",
                "        step = torch.zeros_like(params)",
                "        step[j] = delta  # nudge parameter j only",
                "        loss_plus = loss_fn(model(X, params + step), y)",
                "        loss_minus = loss_fn(model(X, params - step), y)",
                "        grad[j] = (loss_plus - loss_minus) / (2.0 * delta)",
                "    return grad",
            ]
        )
        markdown = (
            "## The loss and its gradient\n\n" + md_mse + " Its gradient is estimated without autograd: for each "
            "parameter, the slope between the loss a little above and a little below, "
            "`(loss(p + delta) - loss(p - delta)) / (2 * delta)`. For this quadratic loss that slope is exact, "
            "up to float32 rounding."
        )
        return _Section("The loss and its gradient", markdown, code)
    if batch is None:
        grad = [
            "# The gradient of the MSE, worked out on paper: grad = 2/n * Xa.T @ (Xa @ params - y).",
            "# Multiplied out it is 2/n * (Xa.T @ Xa) @ params - 2/n * Xa.T @ y: the two products with the data are",
            "# computed once, before training (in float64, for accuracy), so a step costs the same for 10 points or",
            "# a million.",
            "Xa64 = Xa.double()",
            "XtX = Xa64.T @ Xa64 * (2.0 / n)",
            "Xty = Xa64.T @ y.double() * (2.0 / n)",
            "",
            "",
            "def grad_fn(params):",
            '    """2/n * Xa.T @ (Xa @ params - y), from the two products above; back to float32 like params."""',
            "    return (XtX @ params.double() - Xty).float()",
        ]
    else:
        grad = [
            "def grad_fn(Xa, y, params):",
            '    """The gradient of the MSE worked out on paper: 2/n * Xa.T @ (Xa @ params - y), n points in Xa."""',
            "    residual = Xa @ params - y",
            "    return Xa.T @ residual * (2.0 / len(y))",
        ]
    code = "\n".join([loss_fn, "", "", *grad])
    markdown = (
        "## The loss and its gradient\n\n" + md_mse + " Its gradient follows from calculus: "
        "`d loss / d params = 2/n * Xa.T @ (Xa @ params - y)`."
    )
    return _Section("The loss and its gradient", markdown, code)


# -- the training loop --------------------------------------------------------------------------------


def _loop_section(ds: Dataset, cfg: TrainConfig, batch: int | None) -> _Section:
    method = cfg.method
    uses_momentum = cfg.uses_momentum
    head = [
        "# Hyperparameters",
        f"learning_rate = {cfg.lr!r}",
        f"epochs = {cfg.epochs}",
    ]
    if batch is not None:
        head.append(f"batch_size = {batch}")
    if uses_momentum:
        head.append(f"momentum = {cfg.momentum!r}")
    head.append("")
    if method == "optimizer":
        head += _optimizer_lines(cfg, uses_momentum)
    elif uses_momentum or not cfg.zero_grad:
        head += _manual_state_lines(cfg, uses_momentum)
    if batch is not None:
        head += [
            "# Mini-batches: every epoch the sampler shuffles the point indices (with its own seeded generator)",
            "# and BatchSampler cuts them into batches of batch_size, the last one maybe smaller, as a DataLoader",
            "# with shuffle=True does.",
            f"sampler = torch.utils.data.RandomSampler(range(n), generator=torch.Generator().manual_seed({cfg.seed}))",
            "",
        ]
    values = _param_exprs(ds, cfg)
    shown = [f"{name} = {{{expr}:.4f}}" for name, expr in values]
    progress = [f"{name} = {{current[{j}]:.4f}}" for j, (name, _) in enumerate(values)]
    report = [
        "# The loss on all the data at the parameters this epoch ended with: the playground's loss at that step",
        f"current = {_collect(cfg)}",
        *_print_lines(["Epoch {epoch}: loss = {loss_on_all_data(current):.6g}", *progress], 0),
    ]
    starting = ["Starting parameters: " + shown[0], *shown[1:]]
    starting[-1] += "\\n"
    head += _print_lines(starting, 0)
    head.append("")

    every = max(1, round(cfg.epochs / 10))
    stop = 'print(f"Epoch {epoch}: the loss is {loss.item()}, training diverged: stopping early (try a smaller lr)")'
    if batch is None:
        xb, yb = ("Xa", "y") if method == "analytic" else ("X", "y_true" if method == "autograd" else "y")
        body = _step_lines(ds, cfg, xb, yb, full=True)
        loop = ["for epoch in range(1, epochs + 1):"]
        loop += _indent(body["forward"], 1)
        loop += [
            "    if not torch.isfinite(loss):  # inf or nan: no step can come back from that",
            f"        {stop}",
            "        break",
            "",
        ]
        loop += _indent(body["update"], 1)
        loop += ["", f"    if epoch % {every} == 0:", *_indent(report, 2)]
    else:
        data = "Xa" if method == "analytic" else "X"
        target = "y_true" if method == "autograd" else "y"
        body = _step_lines(ds, cfg, f"{data}_batch", f"{target}_batch", full=False)
        loop = [
            "for epoch in range(1, epochs + 1):",
            "    for idx in torch.utils.data.BatchSampler(sampler, batch_size, drop_last=False):",
            f"        {data}_batch, {target}_batch = {data}[idx], {target}[idx]",
            "",
        ]
        loop += _indent(body["forward"], 2)
        loop += [
            "        if not torch.isfinite(loss):  # inf or nan: no step can come back from that",
            "            break",
            "",
        ]
        loop += _indent(body["update"], 2)
        loop += [
            "",
            "    if not torch.isfinite(loss):",
            f"        {stop}",
            "        break",
            f"    if epoch % {every} == 0:",
            *_indent(report, 2),
        ]
    steps = [
        "**Forward pass**: predict `y_hat` from the inputs.",
        "**Compute the loss**: the mean squared error between `y_hat` and `y`.",
        _GRADIENT_STEP[method],
        "**Update the parameters**: take a small step against the gradient, scaled by the learning rate.",
    ]
    markdown = "## The training loop\n\nEach pass through the loop takes the same four steps:\n\n" + "\n".join(
        f"{i}. {s}" for i, s in enumerate(steps, 1)
    )
    markdown += (
        f"\n\nEvery {every} epoch{'s' if every > 1 else ''} it prints the parameters the epoch ended with and the "
        "loss on all the data at those parameters: the numbers the playground shows for that step."
    )
    if batch is not None:
        markdown += (
            f"\n\nEach epoch goes over the data in shuffled mini-batches of {batch} points, one update per batch."
        )
    if uses_momentum and method == "optimizer" and cfg.optimizer == "rmsprop":
        markdown += (
            "\n\nWith momentum, RMSprop steps along a decaying sum of its scaled gradients, "
            "`buf = momentum * buf + grad / (sqrt(square_avg) + eps)`, as `torch.optim.RMSprop` computes it."
        )
    elif uses_momentum:
        markdown += (
            "\n\nWith momentum the update follows a decaying sum of "
            + ("the gradients" if cfg.zero_grad else "the gradient totals")
            + " so far (each one weighted by momentum to the power of its age), "
            "`velocity = momentum * velocity + grad`, as `torch.optim.SGD` computes it"
            + (
                ". Nesterov, in torch's form: the step is `grad + momentum * velocity`. That is the classic "
                "'look ahead along the velocity, then take the gradient there' only after a change of variables: "
                "these parameters are the classic method's look-ahead points."
                if cfg.uses_nesterov
                else "."
            )
        )
    if not cfg.zero_grad:
        markdown += (
            "\n\nThe gradients are **not** reset between steps here (the playground's zero_grad switch is off). "
            + " ".join(_no_zero_grad_note(ds, cfg, batch, "Each new gradient is added to the ones before"))
        )
    markdown += "\n\nThe loop stops early, with a message, if the loss blows up to infinity."
    return _Section("The training loop", markdown, "\n".join(head + loop))


def _no_zero_grad_note(ds: Dataset, cfg: TrainConfig, batch: int | None, lead: str) -> list[str]:
    """What a forgotten zero_grad does to this run, in sentences after `lead` (how the gradients pile up here).

    The update then uses the running total of every gradient so far: momentum 1 in effect. On this quadratic loss,
    with no momentum and full batches, the error obeys e' = (2 - lr lambda) e - e_prev along each eigenvector of the
    Hessian; both roots have modulus 1 while lr lambda < 4 (it swings at constant size) and one is -1 or beyond from
    4 on (it grows). Any momentum above 0 puts a root outside the unit circle at every lr.
    tests/unit/test_claims_engine.py checks these numbers against runs.
    """
    if cfg.method == "optimizer" and cfg.optimizer != "sgd":
        return [f"{lead}, so each step works on the running total of all the gradients so far, not on the current one."]
    notes = [
        f"{lead}, so each step uses the running total of all the gradients so far instead of the current one: "
        "momentum 1, in effect."
    ]
    if cfg.uses_momentum:
        notes.append(
            "With momentum on top of that, the path swings around the optimum wider and wider at every learning "
            "rate until the run blows up (the smaller the learning rate, the later)."
        )
        return notes
    lam = float(stability(ds, cfg.fit_bias).eigenvalues[-1])
    ratio = cfg.lr * lam
    design = "X with a column of ones for b" if cfg.fit_bias else "X"
    rule = (
        "the path swings around the optimum for ever at about the same size, never settling, while "
        "learning_rate * lambda_max < 4; from 4 on the swings grow until the run blows up. lambda_max, the largest "
        f"curvature of this loss, is the largest eigenvalue of its Hessian 2/n * A.T @ A (A: {design}); "
        f"here learning_rate * lambda_max = {cfg.lr!r} * {lam:.4g} = {ratio:.3g}"
    )
    if batch is None:
        notes.append(f"With no momentum, {rule}: {'below 4, so it swings for ever' if ratio < 4 else 'it blows up'}.")
    else:
        notes.append(f"With one batch and no momentum, {rule}.")
        notes.append(
            "With mini-batches the differences between the batches' gradients pile up too, so the swings can grow "
            "even below 4, and the larger the learning rate the sooner the run blows up."
        )
    return notes


def _comment(sentences: list[str], width: int = 100) -> list[str]:
    """Sentences as `# ...` comment lines of at most `width` characters."""
    lines, current = [], "#"
    for word in " ".join(sentences).split():
        if len(current) + 1 + len(word) > width and current != "#":
            lines.append(current)
            current = "#"
        current += " " + word
    lines.append(current)
    return lines


def _optimizer_lines(cfg: TrainConfig, uses_momentum: bool) -> list[str]:
    """The torch.optim optimizer exactly as engine.train.make_optimizer builds it."""
    name = cfg.optimizer
    if name == "sgd":
        args = "lr=learning_rate"
        if uses_momentum:
            args += ", momentum=momentum" + (", nesterov=True" if cfg.nesterov else "")
        return [
            "# The optimizer updates model.parameters() (weight, then bias) with stochastic gradient descent",
            f"optimizer = torch.optim.SGD(model.parameters(), {args})",
            "",
        ]
    if name == "rmsprop":
        args = "lr=learning_rate" + (", momentum=momentum" if uses_momentum else "")
        about = [
            "# RMSprop divides the gradient by the square root of a decaying average of the squared gradients",
            "# (square_avg = 0.99 * square_avg + 0.01 * grad ** 2; step lr * grad / (sqrt(square_avg) + 1e-8))",
        ]
        if uses_momentum:
            about.append("# With momentum it steps along buf = momentum * buf + that scaled gradient")
        return [*about, f"optimizer = torch.optim.RMSprop(model.parameters(), {args})", ""]
    cls, about = {
        "adam": (
            "Adam",
            [
                "# Adam keeps decaying averages of the gradients (m = 0.9 * m + 0.1 * grad) and of their squares",
                "# (v = 0.999 * v + 0.001 * grad ** 2), corrects both for starting at zero, and steps by",
                "# lr * m_hat / (sqrt(v_hat) + 1e-8)",
            ],
        ),
        "adagrad": (
            "Adagrad",
            [
                "# Adagrad divides the gradient by the square root of the sum of ALL the squared gradients so far",
                "# (an all-time total that never decays, torch's state_sum): lr / sqrt(state_sum) only shrinks",
            ],
        ),
    }[name]
    return [*about, f"optimizer = torch.optim.{cls}(model.parameters(), lr=learning_rate)", ""]


def _manual_state_lines(cfg: TrainConfig, uses_momentum: bool) -> list[str]:
    """Momentum buffers (and the running gradient sum of the no-zero_grad switch) for the hand-written updates."""
    lines = []
    if cfg.method == "autograd":
        if uses_momentum:
            lines += [
                "# Momentum, as torch.optim.SGD computes it: a velocity per parameter, v = momentum * v + grad",
                "# (zero at first, so the first velocity is the gradient itself)",
                "velocity_W = torch.zeros_like(W, requires_grad=False)",
            ]
            if cfg.fit_bias:
                lines.append("velocity_b = torch.zeros_like(b, requires_grad=False)")
            lines.append("")
        return lines
    if not cfg.zero_grad:
        lines += [
            "# The zero_grad switch is off: like a forgotten W.grad.zero_(), the gradients pile up in grad_sum",
            "grad_sum = torch.zeros_like(params)",
        ]
    if uses_momentum:
        lines += [
            "# Momentum, as torch.optim.SGD computes it: v = momentum * v + grad",
            "# (zero at first, so the first velocity is the gradient itself)",
            "velocity = torch.zeros_like(params)",
        ]
    lines.append("")
    return lines


def _step_lines(ds: Dataset, cfg: TrainConfig, xb: str, yb: str, full: bool) -> dict[str, list[str]]:
    """The body of one step: 'forward' ends with `loss` computed; 'update' is the gradient and the update."""
    method = cfg.method
    batch = None if full else cfg.batch_size
    uses_momentum = cfg.uses_momentum
    if method == "optimizer":
        forward = [
            "# 1. Forward pass: predict (the layer gives shape (n, 1); squeeze to (n,) like y)",
            f"y_hat = model({xb}).squeeze(1)",
            "# 2. Compute the loss",
            f"loss = loss_fn(y_hat, {yb})",
        ]
        update = [
            "# 3. Backward pass: fills .grad of every parameter",
            "loss.backward()",
            "# 4. Update the parameters",
            "optimizer.step()",
        ]
        if cfg.zero_grad:
            update.append("optimizer.zero_grad()  # clear the gradients, or the next backward() adds to them")
        else:
            update += [
                "# optimizer.zero_grad() is left out on purpose (the playground's zero_grad switch is off).",
                *_comment(_no_zero_grad_note(ds, cfg, batch, "Every backward() adds its gradient to the ones before")),
            ]
        return {"forward": forward, "update": update}

    if method == "autograd":
        bias = " + b" if cfg.fit_bias else ""
        tensors = [("W", "velocity_W")] + ([("b", "velocity_b")] if cfg.fit_bias else [])
        forward = [
            "# 1. Forward pass: predict",
            f"y_hat = {xb} @ W{bias}",
            "# 2. Compute the loss",
            f"loss = torch.mean((y_hat - {yb}) ** 2)",
        ]
        update = ["# 3. Backward pass: fills W.grad" + (" and b.grad" if cfg.fit_bias else ""), "loss.backward()"]
        update.append("# 4. Update the parameters (no_grad: the update itself is not part of the model)")
        update.append("with torch.no_grad():")
        if uses_momentum:
            for t, v in tensors:
                update.append(f"    {v} = momentum * {v} + {t}.grad")
            if cfg.nesterov:
                update.append(
                    "    # Nesterov: step along grad + momentum * velocity (add with alpha= rounds once, as SGD does)"
                )
            for t, v in tensors:
                if cfg.nesterov:
                    update.append(f"    {t} -= learning_rate * {t}.grad.add({v}, alpha=momentum)")
                else:
                    update.append(f"    {t} -= learning_rate * {v}")
        else:
            for t, _ in tensors:
                update.append(f"    {t} -= learning_rate * {t}.grad")
        if cfg.zero_grad:
            update.append("# 5. Zero the gradients, or the next backward() adds to them")
            update += [f"{t}.grad.zero_()" for t, _ in tensors]
        else:
            update += [
                "# W.grad.zero_() is left out on purpose (the playground's zero_grad switch is off).",
                *_comment(_no_zero_grad_note(ds, cfg, batch, "Every backward() adds its gradient to the ones before")),
            ]
        return {"forward": forward, "update": update}

    # finite-difference and analytic: plain tensors, the update written out
    forward = [
        "# 1. Forward pass: predict",
        f"y_hat = model({xb}, params)",
        "# 2. Compute the loss (here only to watch the progress: the gradient below does not use it)"
        if method == "analytic"
        else "# 2. Compute the loss",
        f"loss = loss_fn(y_hat, {yb})",
    ]
    if method == "finite-difference":
        update = ["# 3. Gradient by central differences", f"grad = grad_fn({xb}, {yb}, params)"]
    elif full:
        update = ["# 3. Gradient from the formula", "grad = grad_fn(params)"]
    else:
        update = ["# 3. Gradient from the formula, on the batch", f"grad = grad_fn({xb}, {yb}, params)"]
    g = "grad"
    if not cfg.zero_grad:
        update += [
            *_comment(_no_zero_grad_note(ds, cfg, batch, "Each new gradient is added to grad_sum")),
            "grad_sum = grad_sum + grad  # no zeroing: the gradients pile up",
        ]
        g = "grad_sum"
    update.append("# 4. Update the parameters")
    if uses_momentum:
        update.append(f"velocity = momentum * velocity + {g}")
        if cfg.nesterov:
            update += [
                "# Nesterov: step along grad + momentum * velocity (.add(..., alpha=) rounds once, as torch.optim.SGD)",
                f"params = params - learning_rate * {g}.add(velocity, alpha=momentum)",
            ]
        else:
            update.append("params = params - learning_rate * velocity")
    else:
        update.append(f"params = params - learning_rate * {g}")
    return {"forward": forward, "update": update}


def _param_exprs(ds: Dataset, cfg: TrainConfig) -> list[tuple[str, str]]:
    """(name, expression) of each parameter in engine order, for the progress lines."""
    names = ds.param_names(cfg.fit_bias)
    d = ds.d
    out = []
    for j, name in enumerate(names):
        if cfg.method == "optimizer":
            expr = (
                ("model.weight.item()" if d == 1 else f"model.weight[0, {j}].item()") if j < d else "model.bias.item()"
            )
        elif cfg.method == "autograd":
            expr = ("W.item()" if d == 1 else f"W[{j}, 0].item()") if j < d else "b.item()"
        else:
            expr = f"params[{j}].item()"
        out.append((name, expr))
    return out


def _collect(cfg: TrainConfig) -> str:
    """The expression that lists the current parameters in the playground's order (w..., b) as Python floats."""
    if cfg.method == "optimizer":
        return "model.weight.detach().flatten().tolist()" + (" + model.bias.detach().tolist()" if cfg.fit_bias else "")
    if cfg.method == "autograd":
        return "W.detach().flatten().tolist()" + (" + b.detach().tolist()" if cfg.fit_bias else "")
    return "params.tolist()"


# -- results ------------------------------------------------------------------------------------------


def _results_section(ds: Dataset, cfg: TrainConfig, how: str) -> _Section:
    d, fit_bias = ds.d, cfg.fit_bias
    names = ds.param_names(fit_bias)
    shown = [f"{name} = {{final_params[{j}]:.4f}}" for j, name in enumerate(names)]
    code = [
        f"# The final parameters in the playground's order ({', '.join(names)})",
        f"final_params = {_collect(cfg)}",
        "# The loss on all the data at those parameters, in float64 so that it can be compared to many digits",
        "final_loss = loss_on_all_data(final_params)",
        "",
        *_print_lines(["\\nFinal parameters: " + shown[0], *shown[1:]], 0),
    ]
    if ds.true_params is not None and len(ds.true_params) == len(names):
        true = ", ".join(f"{name} = {v:.4f}" for name, v in zip(names, ds.true_params, strict=True))
        label = "True parameters (for these inputs)" if ds.scaling is not None else "True parameters"
        code.append(f'print("{label}: {true}")')
    scaling = ds.scaling
    raw_ok = scaling is not None and how != "scaled" and (fit_bias or not any(scaling.offset))
    if raw_ok:
        raw_names = ds.param_names(fit_bias)
        parts = [f"{name} = {{w_raw[{j}].item():.4f}}" for j, name in enumerate(raw_names[:d])]
        code += [
            "# The fit is on the rescaled inputs; in the raw units w_raw = w * factor"
            + (" and b_raw = b - sum(w_raw * offset)" if fit_bias and scaling.how != "multiply" else ""),
            "p64 = torch.tensor(final_params, dtype=torch.float64)",
            "w_raw = p64[:d] * factor",
        ]
        if fit_bias:
            if scaling.how == "multiply":
                code.append("b_raw = p64[d]  # multiplying the inputs leaves the bias as it is")
            else:
                code.append("b_raw = p64[d] - (w_raw * offset).sum()")
            parts.append("b = {b_raw.item():.4f}")
        code.append(f'print(f"In the raw units: {", ".join(parts)}")')
    code += [
        'print(f"Final loss on all the data: {final_loss:.6g}")',
        "# One machine-readable last line, to compare with the playground",
        'print("RESULT " + json.dumps({"params": final_params, "loss": final_loss}))',
    ]
    markdown = (
        "## Results\n\n"
        "The final parameters and the loss on all the data. The last line holds the same numbers in a form a "
        "program can read, to compare with the playground's run."
    )
    return _Section("Results", markdown, "\n".join(code))


# ----------------------------------------------------------------------------------------------------
# Formatting helpers
# ----------------------------------------------------------------------------------------------------


def _f32(value: float) -> str:
    """The shortest Python literal that torch.tensor(..., dtype=torch.float32) turns into exactly this float32."""
    v = np.float32(value)
    short = str(v)
    try:
        if np.float32(float(short)).tobytes() == v.tobytes():
            return short
    except ValueError:
        pass
    return repr(float(v))


def _float_list(values) -> str:
    """A (nested) list of float32 values as a Python literal."""
    if isinstance(values, (list, tuple)):
        return "[" + ", ".join(_float_list(v) for v in values) + "]"
    return _f32(values) if isinstance(values, (float, np.floating)) else repr(values)


def _f64_list(values) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def _tensor_literal(name: str, t: torch.Tensor, comment: str) -> str:
    """A comment, then `name = torch.tensor([...], dtype=torch.float32)` with its numbers wrapped if need be.

    A single column (n, 1) is written as a flat list, then reshaped: it reads more easily.
    """
    column = t.ndim == 2 and t.shape[1] == 1
    items = [_float_list(v) for v in (t[:, 0] if column else t).tolist()]
    opening, tail = f"{name} = torch.tensor([", "], dtype=torch.float32)"
    reshape = f"\n{name} = {name}.reshape(-1, 1)" if column else ""
    one_line = opening + ", ".join(items) + tail
    if len(one_line) <= _WIDTH:
        return f"{comment}\n{one_line}{reshape}"
    lines, current = [], ""
    for item in items:
        if current and len(current) + len(item) + 2 > _WIDTH - 4:
            lines.append("    " + current + ",")
            current = ""
        current = f"{current}, {item}" if current else item
    lines.append("    " + current)
    return f"{comment}\n{opening}\n" + "\n".join(lines) + "\n" + tail + reshape


def _print_lines(parts: list[str], level: int) -> list[str]:
    """`print(f"...")` of the parts joined by ", ", split over several f-strings when it would be too long."""
    pad = "    " * level
    line = pad + 'print(f"' + ", ".join(parts) + '")'
    if len(line) <= _WIDTH:
        return [line]
    chunks, current = [], ""
    for part in parts:
        joined = f"{current}, {part}" if current else part
        if current and len(pad) + 8 + len(joined) > _WIDTH:
            chunks.append(current + ", ")
            current = part
        else:
            current = joined
    chunks.append(current)
    return [pad + "print(", *(f'{pad}    f"{chunk}"' for chunk in chunks), pad + ")"]


def _indent(lines: list[str], level: int) -> list[str]:
    pad = "    " * level
    return [pad + line if line else "" for line in lines]


def _safe(text: str) -> str:
    """Text that can sit in a comment or docstring: one line, no quotes or backslashes (it may come from a user)."""
    text = re.sub(r"[^\w .,:;()+\-*/=·×°%]", "?", str(text))
    return re.sub(r"\s+", " ", text).strip()[:120]
