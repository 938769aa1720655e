"""Words for the pages: readouts, the update rule with the run's numbers, and what the learner is looking at.

Plain strings (Markdown / LaTeX) built from engine results; no streamlit here, so they are unit-testable.
"""

from __future__ import annotations

import math

import numpy as np

import engine
from compute.runs import OPTIMIZER_NAMES, RunResult, no_zero_grad_text, training_rows

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


# what each adaptive optimizer divides by (torch.optim's documented algorithms), after its name
ADAPTIVE = {
    "adam": "divides each step by the square root of a running average of the squared gradients (and steps along a "
    "running average of the gradients)",
    "rmsprop": "divides each step by the square root of a running average of the squared gradients",
    "adagrad": "divides each step by the square root of the sum of all the squared gradients so far (an all-time "
    "total, so its effective learning rate only shrinks)",
}


def lr_limit_caption(result: RunResult) -> str:
    """The line under the learning-rate slider: how far the chosen rate is from the limit that applies to this run
    (the full batch's; for mini-batches also every batch's), with the digits that tell the rate from the limit."""
    cfg, limit = result.config, result.lr_limit
    if not cfg.zero_grad and not (cfg.method == "optimizer" and cfg.optimizer != "sgd"):
        return "No learning-rate limit of the usual kind: " + no_zero_grad_text(cfg, result.stability)
    if limit is None:
        name = OPTIMIZER_NAMES[cfg.optimizer]
        return f"{name} {ADAPTIVE[cfg.optimizer]}: there is no fixed learning-rate limit to show."
    if not math.isfinite(limit):
        return "Any learning rate is stable here: the loss does not depend on the parameters."
    with_m = f" with momentum {cfg.momentum:g}" if cfg.momentum else ""
    nesterov = " (Nesterov)" if cfg.nesterov else ""
    full = " for the full batch" if cfg.batch_size is not None else ""
    regime, ratio = engine.lr_regime(cfg.lr, limit), engine.ratio_text(cfg.lr, limit)
    head = f"Largest stable learning rate{full}{with_m}{nesterov}: **{engine.limit_text(cfg.lr, limit)}**"
    if regime == engine.DIVERGES:
        text = f":red[{head} — yours is {ratio}× over.]"
    elif regime == engine.AT_LIMIT:
        text = f":orange[{head} — yours is {ratio}× it: at the limit, the steepest direction flips for ever.]"
    else:
        text = f"{head} (yours is {ratio}× it)."
    batch = result.batch_lr_limit
    if batch is not None and math.isfinite(batch):
        rule = (
            "no batch's own step can grow the error"
            if not cfg.uses_momentum
            else "a conservative rule of thumb with momentum, (1 − β)/max|x|²"
        )
        text += f" Mini-batches: below **{batch:.3g}** {rule}; yours is {engine.ratio_text(cfg.lr, batch)}× that."
    return text


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
            f"**{OPTIMIZER_NAMES[cfg.optimizer]}**: {ADAPTIVE[cfg.optimizer]}, so the step is not simply lr × gradient."
        )
    elif cfg.momentum == 0:
        lines.append(r"$\theta_{k+1} = \theta_k - \mathrm{lr}\cdot\nabla L(\theta_k)$")
    elif cfg.nesterov:
        lines.append(
            r"$v_{k+1} = \beta v_k + \nabla L(\theta_k),\quad "
            r"\theta_{k+1} = \theta_k - \mathrm{lr}\,(\nabla L(\theta_k) + \beta v_{k+1})$"
        )
        lines.append(
            "This is torch.optim.SGD's form of Nesterov momentum. It is the textbook “look ahead, then take the "
            "gradient there” only after a change of variables: the parameters torch keeps are the look-ahead point."
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
    if cfg.uses_momentum and cfg.optimizer == "sgd":
        lines.append(
            f"With momentum β = {cfg.momentum:g} the step is not lr × this gradient: v keeps a decaying sum of all "
            "the gradients so far, so the parameters keep rolling in the direction they were going."
        )
    if not cfg.zero_grad:
        lines.append(
            "The gradient is never zeroed here, so the “gradient” each step uses is the sum of every gradient so "
            "far (PyTorch adds each new one to .grad)."
        )
    return "\n\n".join(lines)


def what_am_i_looking_at(result: RunResult) -> str:
    """A first-year student's guide to the figure."""
    ds = result.dataset
    names = ", ".join(result.param_names)
    noise = (  # the figure's noise slider: the datasets drawn with noise (components/live_route.py)
        " Its **Noise level** slider draws new data: the figure fetches that run from the server without reloading "
        "the page."
        if ds.name in engine.SYNTHETIC
        else ""
    )
    surface = (
        "the **loss curve**: the mean squared error for every value of w. The dot slides down it, one step at a time."
        if result.surface.kind == "curve"
        else f"the **loss surface** seen from above: each ring joins values of ({', '.join(result.surface.axes)}) with "
        "the same mean squared error, darker is lower. The star is the best fit (least squares); the red path is "
        "where gradient descent took the parameters, one dot per step."
    )
    if result.surface.fixed:
        held = ", ".join(f"{k} = {num(float(v))}" for k, v in result.surface.fixed.items())
        surface += (
            f" The rings are a slice at the best {held}, while the path's own "
            f"{' and '.join(result.surface.fixed)} keeps changing as it trains: until it settles, the dot's loss is "
            "not the loss of the ring it is on."
        )
    return f"""
**Left:** the data ({ds.n} points) and the model's current {"plane" if ds.d == 2 else "line"}.
The {"grey plane" if ds.d == 2 else "dashed line"} is the least-squares answer that training should approach.

**Right:** {surface}

**Bottom:** the loss at every step, on a log scale. It flattens at the best possible loss, not at zero: what
shrinks by about the same factor every step, late in a run, is the loss *above* that best value (a loss ÷ 10 is a
distance to the best fit ÷ √10). Plain gradient descent below the stability limit never lets the loss rise;
momentum can make it ripple up and down on the way (the parameters roll past the valley floor and back); above the
limit it climbs.

**The figure plays each new run by itself**; pause it, replay it, or drag the step slider to any step. Every panel
moves together. Its **Learning rate** and **Momentum** sliders change the run in your browser: every run along them
was computed with the page (one batched PyTorch call each), so the path redraws at once, and when a slider comes to
rest the rest of the page follows.{noise} **Tap the loss surface** to start from that point. The blue arrow is the
gradient's share of the next step (−lr·g), the purple one the momentum's (what the previous steps carry over).

The model has {len(result.param_names)} parameter(s): {names}. Each step computes the gradient of the loss
(which way is uphill) and moves the parameters a little the other way: that is all "training" is.
"""


R2_HELP = (
    "1 − (the model's squared error) / (the variance of y): 1 for a perfect fit, 0 for a flat line at the mean of "
    "y, and negative when the model is worse than that, as a run that has not come down yet or has diverged is."
)


def r2_of(result: RunResult) -> float:
    """R² of the run's final parameters on the data it trained on (the training rows when some are held out)."""
    return engine.r2(training_rows(result.dataset, result.config), result.history.final_params)


def loss_help(result: RunResult) -> str:
    """What the "Final loss" readout is the mean squared error of."""
    if result.config.test_fraction:
        return "Mean squared error on the training rows (not the held-out ones) after the last step"
    return "Mean squared error on all the data after the last step"


def best_loss_help(result: RunResult) -> str:
    """What the "Best possible loss" readout is."""
    rows = " on the training rows" if result.config.test_fraction else ""
    return f"The least-squares optimum's loss{rows}"


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
