"""Words for the pages: readouts, the update rule with the run's numbers, and what the learner is looking at.

Plain strings (Markdown / LaTeX) built from engine results; no streamlit here, so they are unit-testable.
"""

from __future__ import annotations

import math

import numpy as np

import engine

from .runs import OPTIMIZER_NAMES, RunResult

METHOD_STYLES = {
    "optimizer": "nn.Linear + torch.optim (tutorials 000 and 002)",
    "autograd": "raw tensors + loss.backward() (tutorial 001)",
    "finite-difference": "finite differences, no autograd (tutorial 003)",
    "analytic": "closed-form gradient",
}


def md_escape(text: str) -> str:
    """Text that Streamlit's Markdown shows as typed: no links, images, emphasis or HTML from user input."""
    specials = "\\`*_{}[]()<>#+-.!|~$:"
    return "".join("\\" + ch if ch in specials else ch for ch in str(text))


def num(v: float, digits: int = 4) -> str:
    """A number as a learner reads it: 4 significant digits, no exponent unless needed."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, float) and math.isinf(v):
        return "∞"
    return f"{v:.{digits}g}"


def vector(names, values) -> str:
    return ", ".join(f"{n} = {num(float(v))}" for n, v in zip(names, values, strict=True))


def lr_limit_caption(result: RunResult) -> str:
    """The line under the learning-rate slider: how far the chosen rate is from the stability limit."""
    cfg, limit = result.config, result.lr_limit
    if limit is None:
        return (
            f"{OPTIMIZER_NAMES[cfg.optimizer]} scales each step by its own running statistics: there is no fixed "
            "learning-rate limit to show."
        )
    if not math.isfinite(limit):
        return "Any learning rate is stable here: the loss does not depend on the parameters."
    with_m = f" with momentum {cfg.momentum:g}" if cfg.momentum else ""
    nesterov = " (Nesterov)" if cfg.nesterov else ""
    ratio = cfg.lr / limit
    if ratio > 1:
        return (
            f":red[**Largest stable learning rate{with_m}{nesterov}: {num(limit, 3)}** — yours is {ratio:.3g}× over.]"
        )
    return f"Largest stable learning rate{with_m}{nesterov}: **{num(limit, 3)}** (yours is {ratio:.0%} of it)."


def update_rule(result: RunResult) -> str:
    """The update the run applies, in symbols and with the numbers of its last step."""
    cfg, h = result.config, result.history
    names = h.param_names
    if h.steps == 0:
        return "No step was taken."
    k = h.steps - 1
    before, after, grad = h.params[k], h.params[k + 1], h.grads[k]
    lines = []
    if cfg.method == "optimizer" and cfg.optimizer != "sgd":
        lines.append(
            f"**{OPTIMIZER_NAMES[cfg.optimizer]}** divides each step by a running size of the gradient, so "
            "the step is not simply lr × gradient."
        )
    elif cfg.momentum == 0:
        lines.append(r"$\theta_{k+1} = \theta_k - \mathrm{lr}\cdot\nabla L(\theta_k)$")
    elif cfg.nesterov:
        lines.append(
            r"$v_{k+1} = \beta v_k + \nabla L(\theta_k),\quad "
            r"\theta_{k+1} = \theta_k - \mathrm{lr}\,(\nabla L(\theta_k) + \beta v_{k+1})$"
        )
    else:
        lines.append(
            r"$v_{k+1} = \beta v_k + \nabla L(\theta_k),\quad \theta_{k+1} = \theta_k - \mathrm{lr}\, v_{k+1}$"
        )
    lines.append(f"Last step ({k} → {k + 1}), gradient: {vector(names, grad)}.")
    step = before - after
    if not np.any(step):
        lines.append(
            "The last step changed nothing: the update is smaller than the precision of float32 numbers, "
            "so training has gone as far as it can."
        )
        return "\n\n".join(lines)
    rows = [f"{n}: {num(b)} − {num(s)} = {num(a)}" for n, b, s, a in zip(names, before, step, after, strict=True)]
    lines.append("New value = old − step: " + "; ".join(rows) + ".")
    if cfg.momentum and not (cfg.method == "optimizer" and cfg.optimizer != "sgd"):
        lines.append(
            f"With momentum β = {cfg.momentum:g} the step is not lr × this gradient: v keeps a decaying sum of all "
            "the gradients so far, so the parameters keep rolling in the direction they were going."
        )
    return "\n\n".join(lines)


def what_am_i_looking_at(result: RunResult) -> str:
    """A first-year student's guide to the figure."""
    ds = result.dataset
    names = ", ".join(result.param_names)
    surface = (
        "the **loss curve**: the mean squared error for every value of w. The dot slides down it, one step at a time."
        if result.surface.kind == "curve"
        else f"the **loss surface** seen from above: each ring joins values of ({', '.join(result.surface.axes)}) with "
        "the same mean squared error, darker is lower. The star is the best fit (least squares); the red path is "
        "where gradient descent took the parameters, one dot per step."
    )
    return f"""
**Left:** the data ({ds.n} points) and the model's current {"plane" if ds.d == 2 else "line"}.
The {"grey plane" if ds.d == 2 else "dashed line"} is the least-squares answer that training should approach.

**Right:** {surface}

**Bottom:** the loss at every step, on a log scale: a straight downward line means the error shrinks by the same
factor every step. A learning rate that is too large makes it zig-zag or climb.

**Play** runs the training as an animation in your browser; drag the slider to any step. Every panel moves together.

The model has {len(result.param_names)} parameter(s): {names}. Each step computes the gradient of the loss
(which way is uphill) and moves the parameters a little the other way: that is all "training" is.
"""


def r2_of(result: RunResult) -> float:
    """R² of the run's final parameters on the data it trained on."""
    return engine.r2(result.dataset, result.history.final_params)


def params_caption(result: RunResult) -> str:
    """Final parameters against the least-squares ones; in the original units too when inputs were rescaled."""
    h = result.history
    names = h.param_names
    text = f"Parameters now: {vector(names, h.final_params)} · least squares: {vector(names, result.optimum)}"
    scaling = result.dataset.scaling
    if scaling is not None:
        try:
            original = scaling.to_original(h.final_params)
        except ValueError:
            return text
        text += f" · in the original units of x: {vector(names, original)}"
    return text
