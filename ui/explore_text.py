"""Sentences of the Explorer pages (mini-batch noise, feature scaling, the optimizer race) built from their runs, so
that what a page says holds for the data it shows. Pure Python (no streamlit), so testable.
"""

from __future__ import annotations

import math

import numpy as np

import engine
from compute.explore import NoiseResult, RaceResult
from engine.explore import CONVERGED
from ui.explain import num, vector

EXACT = 1e-5  # residuals at the best fit below this fraction of the targets' spread: the points lie on it
RISE = 1e-7  # a loss that grows by more than this fraction of itself in a step has gone up (not float32 rounding)


# ----------------------------------------------------------------------------------------------------------------
# mini-batch noise
# ----------------------------------------------------------------------------------------------------------------


def residual_spread(ds: engine.Dataset, fit_bias: bool) -> tuple[float, float]:
    """(RMS of the residuals at the best fit, RMS of the targets around their mean): how much the points disagree
    about the best parameters, and the scale to judge that against."""
    best = engine.Quadratic.of(ds, fit_bias).min_loss
    y = ds.y.double().numpy()
    return math.sqrt(max(best, 0.0)), float(np.sqrt(np.mean((y - y.mean()) ** 2)))


def noise_text(result: NoiseResult) -> str:
    """Why mini-batches jitter near the bottom, or why here they do not: each point's gradient at the best fit is
    zero exactly when every point lies on it. Runs that blew up are told apart, with their cause."""
    ds, cfg = result.dataset, result.config
    spread, scale = residual_spread(ds, cfg.fit_bias)
    best = engine.Quadratic.of(ds, cfg.fit_bias).min_loss
    limit = engine.stability(ds, cfg.fit_bias).max_stable_lr
    full = [h for g in result.groups if g.batch_size is None for h in g.runs]
    mini = [h for g in result.groups if g.batch_size is not None for h in g.runs]
    blew = sum(h.diverged for h in mini)
    shape = "plane" if ds.d == 2 else "line"
    over = cfg.lr >= limit
    if spread <= EXACT * max(scale, 1e-30):
        text = (
            f"Here every point lies on the best {shape} (its residuals are zero to rounding), so every point's own "
            "gradient is zero at the bottom too: nothing is left to make the mini-batches jitter, and "
            + ("below the learning-rate limit " if over else "")
            + "they settle as the full batch does (with more steps per epoch, often sooner). Mini-batches jitter "
            "only when the points disagree at the best fit, as noisy data do."
        )
    else:
        text = (
            ("Below the learning-rate limit, s" if over else "S")
            + "maller batches take more steps per epoch, so they often get close sooner, but they do not settle: "
            f"the points do not all lie on the best {shape} (their residuals there have an RMS of {num(spread, 3)}), "
            "so the gradient of a few points is not zero at the bottom. Each step pushes the parameters off it, and "
            f"the loss keeps jittering above the best possible {num(best, 3)}, at a level set by the learning rate "
            "and by how far the points lie from the best fit. A smaller learning rate (or a larger batch) narrows "
            "the band."
        )
    if over:
        fate = next((f" (it blew up at step {h.diverged_at})" for h in full if h.diverged), "")
        text += (
            f" Here the learning rate {cfg.lr:g} is at or above the full data's limit 2/λmax = {num(limit, 3)}: "
            f"each full-batch step overshoots the bottom further{fate}"
            + (f", and {blew} of {len(mini)} mini-batch runs blew up too." if blew else ".")
        )
        return text
    text += " The full batch's gradient is zero at the bottom, and below its limit it walks smoothly down."
    if blew:
        text += (
            f" {blew} of {len(mini)} mini-batch runs blew up: a few points can make a much steeper bowl than all of "
            "them, and this learning rate is too large for some batches."
        )
    return text


# ----------------------------------------------------------------------------------------------------------------
# feature scaling
# ----------------------------------------------------------------------------------------------------------------


def hessian(ds: engine.Dataset) -> np.ndarray:
    """The MSE's Hessian (2/n) X'X, X with a ones column (the scaling page always fits the bias)."""
    x = ds.x.double().numpy()
    xa = np.hstack([x, np.ones((len(x), 1))])
    return 2.0 / len(x) * xa.T @ xa


def axis_ratio(ds: engine.Dataset) -> float:
    """The largest over the smallest curvature along the parameter axes (w..., b): the Hessian's diagonal."""
    diag = np.diag(hessian(ds))
    return float(diag.max() / diag.min())


def centred_kappa(ds: engine.Dataset) -> float:
    """The condition number after subtracting each input's mean, and nothing else."""
    x = ds.x.double().numpy()
    centred = engine.dataset_from_arrays(x - x.mean(0), ds.y.double().numpy())
    return float(engine.stability(centred, True).condition_number)


def start_text(cases: list[engine.ScalingCase]) -> str:
    """The common start in each version's own units: the same model, other numbers."""
    names = cases[0].dataset.param_names(True)
    first = vector(names, cases[0].start)
    others = "; ".join(f"{c.label}: {vector(names, c.start)}" for c in cases[1:])
    return (
        f"Every path starts from the tutorial's {first} ({cases[0].label}). Scaled inputs give the same model other "
        f"numbers, so the same start sits elsewhere in each panel — {others}."
    )


def _k(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else num(v, 3)


def _axes_sentence(ds: engine.Dataset) -> str:
    """Which parameter axis the loss bends most sharply along, against the least, and by how much."""
    diag = np.diag(hessian(ds))
    names = ds.param_names(True)
    most, least = names[int(np.argmax(diag))], names[int(np.argmin(diag))]
    return f"the loss bends {_k(axis_ratio(ds))} times more sharply along {most} than along {least}"


def scaling_text(cases: list[engine.ScalingCase]) -> str:
    """What the condition number is, and what each scaling does to it on these data."""
    raw, std = cases[0], next((c for c in cases if c.label == "standardized"), None)
    kappa = {c.label: float(c.stability.condition_number) for c in cases}
    x = raw.dataset.x.double().numpy()
    centred = centred_kappa(raw.dataset)
    text = (
        "The condition number κ = λmax/λmin compares curvatures, not slopes: λmax and λmin are the largest and "
        "smallest eigenvalues of the loss's Hessian (2/n)XᵀX, how sharply the loss bends along the bowl's most and "
        "least curved directions. The learning rate must stay below 2/λmax to be stable along the first, and then, "
        "even at the best rate 2/(λmin + λmax), the second closes only 2/(κ + 1) of its distance to the bottom "
        "each step: that is the long, thin valley.\n\n"
        f"Raw, {_axes_sentence(raw.dataset)}, and κ = {_k(kappa[raw.label])}"
    )
    if kappa[raw.label] > 1.2 * max(centred, axis_ratio(raw.dataset)):
        means = ", ".join(f"{m:.4g}" for m in x.mean(0))
        spreads = ", ".join(f"{s:.4g}" for s in x.std(0))
        text += (
            f", larger still: with the inputs' mean at {means}, far from 0 for their spread ({spreads}), changing "
            "a weight shifts every prediction much as changing b does, so the valley runs diagonally"
        )
    text += f". Centring alone (subtracting the mean) gives κ = {_k(centred)}"
    for c in cases[1:]:
        if c is not std:
            text += f"; {c.label}: {_axes_sentence(c.dataset)}, and κ = {_k(kappa[c.label])}"
    text += "."
    if std is None:
        return text
    if kappa[std.label] < 1.01:
        reach = f"{std.converged_at} step{'s' if std.converged_at != 1 else ''}" if std.converged_at >= 0 else None
        text += (
            " Standardizing centres every input and gives it spread 1: every curvature is 2 and nothing is "
            "tangled, κ = 1, a round bowl"
            + (f": at its best rate gradient descent gets within 1 % of the bottom in {reach}." if reach else ".")
        )
    elif raw.dataset.d == 2:
        r = float(np.corrcoef(x.T)[0, 1])
        text += (
            " Standardizing makes the curvature along each axis 2, but the two features are correlated "
            f"(r = {r:.2f}), which tilts the bowl: κ = (1 + |r|)/(1 − |r|) = {num(kappa[std.label], 3)}, an "
            "oval rather than a round bowl."
        )
    else:
        text += f" Standardized, κ = {num(kappa[std.label], 3)}."
    return text


# ----------------------------------------------------------------------------------------------------------------
# the optimizer race
# ----------------------------------------------------------------------------------------------------------------


def rises(loss: np.ndarray) -> int:
    """Steps on which the loss went up (by more than float32 rounding)."""
    loss = np.asarray(loss, dtype=np.float64)
    return int(np.sum(np.diff(loss) > RISE * np.abs(loss[:-1])))


def race_intro(result: RaceResult) -> str:
    """What the loss panel plots, where it flattens, and which racers' losses went up, and why."""
    steps = max(h.steps for h in result.histories)
    up = [(r.name, rises(h.loss), h.steps) for r, h in zip(engine.RACERS, result.histories, strict=True)]
    went_up = [f"{name} on {k} of {n} steps" for name, k, n in up if k]
    never = [name for name, k, _ in up if not k]
    text = (
        "Six optimizers start from the same point on the same loss surface and take the same number of steps "
        f"({steps}). The race plays by itself: the paths on the left move together, and on the right each one's "
        f"loss L is drawn on a log scale. L cannot go below the best possible loss L* = {num(result.min_loss, 3)}, "
        "so a curve that gets close flattens out just above it; what keeps shrinking is the extra loss L − L*, the "
        'table\'s "extra loss left".'
    )
    if went_up:
        text += (
            f" The loss went up for {', '.join(went_up)}: those racers carry a running average of past gradients "
            "(momentum; Adam's first moment), so they coast past the bottom and come back, even at a stable rate."
        )
    if never:
        text += f" It never went up for {', '.join(never)}."
    return text


def race_notes(result: RaceResult) -> str:
    """How each racer updates (torch.optim's documented algorithms at the defaults the race uses), with numbers."""
    stab = engine.stability(result.dataset, result.fit_bias)
    lam_min, lam_max = float(stab.eigenvalues[0]), float(stab.eigenvalues[-1])
    by = dict(zip((r.name for r in engine.RACERS), zip(result.lrs, result.histories, strict=True), strict=True))
    lr = by["SGD"][0]
    a = lr * lam_max
    sgd = (
        "- **SGD**: p ← p − lr·g, straight down the slope. Along a direction of curvature λ each step multiplies "
        f"the distance to the bottom by 1 − lr·λ; here lr·λmax = {a:.3g}"
    )
    if a <= 1.0 + 1e-6:
        sgd += (
            ", so the most curved direction is cleared in one step (exactly, at lr·λmax = 1) and nothing is "
            "overshot: no zig-zag. It zig-zags across a valley only with lr·λmax between 1 and 2"
        )
    elif a < 2.0:
        sgd += (
            f", between 1 and 2: it overshoots along the most curved direction and zig-zags across the valley, the "
            f"zig-zag shrinking by {abs(1 - a):.2g} a step"
        )
    else:
        sgd += ", 2 or more: it overshoots further every step and blows up"
    sgd += (
        f". Along the least curved direction it closes lr·λmin = {lr * lam_min:.2g} of the distance a step, a "
        "crawl when λmin is far below λmax (a long, narrow valley)."
    )
    lines = [sgd]
    (_, mom), (_, nest) = by["Momentum 0.9"], by["Nesterov 0.9"]
    lines.append(
        "- **Momentum 0.9** (torch.optim.SGD, momentum = 0.9): v ← 0.9·v + g, p ← p − lr·v. The buffer builds up "
        "speed along the valley; the parameters coast past the bottom and swing back before settling."
    )
    compare = (
        f" Here its extra loss after {nest.steps} steps is {num(nest.loss[-1] - result.min_loss, 2)}, against "
        f"{num(mom.loss[-1] - result.min_loss, 2)} for Momentum."
        if not (nest.diverged or mom.diverged)
        else ""
    )
    lines.append(
        "- **Nesterov 0.9** (nesterov = True): the same buffer, but p ← p − lr·(g + 0.9·v), with the new v: the "
        "current gradient counts 1.9 times in the step, so when the slope turns past the bottom it brakes sooner "
        f"(torch's form of taking the gradient where momentum is about to carry the parameters).{compare}"
    )
    lines.append(
        "- **Adam**: running averages of the gradients, m ← 0.9·m + 0.1·g, and of their squares, "
        "s ← 0.999·s + 0.001·g², corrected for starting at 0 (m̂, ŝ); p ← p − lr·m̂/(√ŝ + ε). Each parameter's "
        "step is at most about lr (exactly lr on the first), whether its slope is steep or gentle, and m coasts "
        "like momentum."
    )
    lines.append(
        "- **RMSprop**: s ← 0.99·s + 0.01·g², a running average of the recent squared gradients; "
        "p ← p − lr·g/(√s + ε): each parameter's step divided by the root-mean-square of its recent gradients."
    )
    lines.append(
        "- **Adagrad**: s ← s + g², the sum of all squared gradients so far, never forgotten; "
        "p ← p − lr·g/(√s + ε). s only grows, so the effective rate lr/√s only shrinks: the same slope gets a "
        "smaller step every time."
    )
    lines.append(
        "\nAdam, RMSprop and Adagrad rescale each parameter (w, b) on its own, along the axes, not along the "
        "valley's own directions: on a diagonal valley that does not make the bowl round."
    )
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# summaries and table rows of the learning-rate sweep, the race, feature scaling and mini-batch noise
# ----------------------------------------------------------------------------------------------------------------


def sweep_summary(sweep: engine.Sweep, stab: engine.Stability) -> str:
    """Two sentences with this sweep's numbers."""
    steps = len(sweep.loss) - 1
    reach = sweep.steps_to(CONVERGED)
    got = np.flatnonzero(reach >= 0)
    first_bad = sweep.lrs[sweep.diverged].min() if sweep.diverged.any() else None
    text = f"Below about {num(stab.max_stable_lr, 3)} (= 2/λmax) every run converges; " + (
        f"from {num(float(first_bad), 3)} on they blow up. " if first_bad is not None else "none blew up here. "
    )
    if len(got):
        i = got[np.argmin(reach[got])]
        text += (
            f"The fastest swept rate, {num(float(sweep.lrs[i]), 3)}, gets within 1 % in {int(reach[i])} steps; "
            f"theory's best is 2/(λmin+λmax) = {num(stab.best_lr, 3)}."
        )
    else:
        text += f"No rate got within 1 % in {steps} steps: give it more epochs."
    return text


def race_table(result: RaceResult) -> list[dict]:
    """One row per racer: its learning rate, final loss, how much of the starting excess loss L - L* is left, and
    the steps to get that excess down to 1 %."""
    rows = []
    for racer, lr, h in zip(engine.RACERS, result.lrs, result.histories, strict=True):
        excess = h.loss - result.min_loss
        reached = np.flatnonzero(excess <= CONVERGED * excess[0])
        left = excess[-1] / excess[0] if excess[0] > 0 else 0.0
        rows.append(
            {
                "optimizer": racer.name,
                "learning rate": f"{lr:.3g}",
                "final loss": "diverged" if h.diverged else num(h.final_loss),
                "extra loss left": "diverged" if h.diverged else f"{left:.2%}" if left >= 1e-4 else "< 0.01%",
                "steps to within 1 %": str(int(reached[0])) if len(reached) else f"> {h.steps}",
            }
        )
    return rows


def steps_text(case: engine.ScalingCase) -> str:
    """The steps the run took to converge, or "> N" when it did not within the N steps tried."""
    return f"{case.converged_at:,}" if case.converged_at >= 0 else f"> {case.steps:,}"


def steps_estimate(case: engine.ScalingCase) -> str | None:
    """For a run that did not converge within the steps tried: how many it would take, estimated from its rate."""
    return None if case.converged_at >= 0 else f"about {case.predicted_steps:,.0f}, estimated from the rate"


def probe_text(case: engine.ScalingCase) -> str:
    """What the probe learning rate does on this scaling, with the numbers."""
    lr, limit = case.probe_lr, case.stability.max_stable_lr
    ratio, exact = engine.ratio_text(lr, limit), engine.limit_text(lr, limit)
    regime = engine.lr_regime(lr, limit)
    if case.probe_diverged_at >= 0:
        return (
            f"**{case.label}**: lr {lr:g} is {ratio}× the largest stable rate {limit:.3g}, so every step "
            f"overshoots further: the loss blew up at step {case.probe_diverged_at}."
        )
    if regime == engine.AT_LIMIT:
        return (
            f"**{case.label}**: lr {lr:g} is {ratio}× the largest stable rate {exact}, equal up to float32 "
            "rounding: along the steepest direction the parameters flip between two points for ever, so the run "
            "neither converges nor blows up."
        )
    if regime == engine.DIVERGES:
        return (
            f"**{case.label}**: lr {lr:g} is {ratio}× the largest stable rate {exact}: just above it, so the "
            "swings grow slowly; it diverges, though not within the steps tried."
        )
    return f"**{case.label}**: lr {lr:g} is {ratio}× the largest stable rate {limit:.3g}: it converges."


def noise_final(group: engine.NoiseRuns) -> str:
    """The final full-data loss, the median over the seeds ("diverged" when every seed blew up)."""
    if all(h.diverged for h in group.runs):
        return "diverged"
    return num(float(np.median([h.final_loss for h in group.runs if not h.diverged])))


def noise_caption(group: engine.NoiseRuns) -> str:
    """Steps per epoch, the seeds' range of final losses and how many diverged."""
    finals = [h.final_loss for h in group.runs]
    spread = f"final loss over seeds {num(min(finals))} – {num(max(finals))}" if len(finals) > 1 else "one run"
    diverged = sum(h.diverged for h in group.runs)
    text = f"{group.steps_per_epoch} step(s) per epoch · {spread}"
    return text + (f" · {diverged} of {len(group.runs)} diverged" if diverged else "")
