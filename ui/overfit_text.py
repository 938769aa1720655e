"""The sentences of the "Overfitting & regularization" page (and the playground's held-out readout), each made from
the numbers it describes: which degree or decay is best, what early stopping would do, how L1 behaves near 0, how
slow a badly conditioned loss is."""

from __future__ import annotations

import math

import numpy as np

import engine
from compute import overfit, runs


def _g(v: float, digits: int = 3) -> str:
    return "∞" if not math.isfinite(v) else f"{v:.{digits}g}"


def _weights(values) -> str:
    return ", ".join(f"{v + 0.0:.3g}" for v in values)  # + 0.0: no "-0"


def fit_summary(result: overfit.Fit) -> str:
    """What the run trained on and where it ended, with early stopping's step and the closed-form reference."""
    h, n = result.history, result.base.n
    if not len(result.test_rows):
        head = f"Trained on all {n} points: no test set (raise the test fraction to hold some out)."
    else:
        head = f"Trained on {len(result.train_rows)} of {n} points; {len(result.test_rows)} are held out (crosses)."
    if h.diverged:
        return head
    end = f" After {h.steps} steps the training loss is {_g(h.final_loss, 4)}"
    end += "." if h.test_loss is None else f" and the test loss {_g(float(h.test_loss[-1]), 4)}."
    penalty = result.config.weight_decay > 0 or result.config.l1 > 0
    ref = (
        f" The exact optimum of the same loss{' (penalty included)' if penalty else ''} has training loss "
        f"{_g(result.optimum_loss, 4)}"
    )
    ref += "." if result.optimum_test_loss is None else f" and test loss {_g(result.optimum_test_loss, 4)}."
    stop = ""
    if result.stop is not None:
        s = result.stop
        if s.step == h.steps:
            stop = " The test loss was still falling at the last step: early stopping would not stop sooner."
        elif s.step == 0:
            stop = " The test loss never went below its start: early stopping would keep the starting zeros."
        else:
            stop = (
                f" Early stopping: the test loss was lowest at step {s.step} ({_g(s.test_loss, 4)}), then rose to "
                f"{_g(float(h.test_loss[-1]), 4)}; stopping there keeps the better curve."
            )
    return head + end + ref + stop


def divergence(result: overfit.Fit) -> str | None:
    """Why the run blew up, with its numbers; None when it did not."""
    h, cfg, stab = result.history, result.config, result.stability
    if not h.diverged:
        return None
    limit = stab.max_stable_lr
    if engine.lr_regime(cfg.lr, limit) == engine.DIVERGES:
        why = (
            f"The run diverged at step {h.diverged_at}: the learning rate {cfg.lr:g} is above this loss's stability "
            f"limit 2/λmax = {limit:.3g}, so every step overshoots further."
        )
        if result.degree > 1 and not result.data.polynomial.standardize:  # the cause only where the powers are raw
            return (
                why + " Raw powers of x have wildly different sizes, which makes λmax huge; standardizing them, "
                "or a smaller rate, fixes it."
            )
        return why + " A rate below the limit fixes it."
    return f"The run diverged at step {h.diverged_at}. Try a learning rate ten times smaller."


def safe_lr(result: overfit.Fit, grid) -> float:
    """The largest rate on the slider's ladder safely below this loss's limit."""
    return runs.safe_lr(result.stability.max_stable_lr, grid)


def _diverged(sweep: engine.FitSweep, labels) -> str:
    bad = [str(v) for v, b in zip(labels, sweep.diverged, strict=True) if b]
    return f" At this learning rate {', '.join(bad)} diverge{'s' if len(bad) == 1 else ''} (×)." if bad else ""


def _best(values: np.ndarray) -> int | None:
    finite = np.isfinite(values)
    return int(np.argmin(np.where(finite, values, np.inf))) if finite.any() else None


def degree_text(sweep: engine.FitSweep, epochs: int, shape: str = "wave") -> str:
    """Which degree fits the held-out points best, for gradient descent and for the exact fit."""
    d = sweep.degrees
    head = (
        f"Every degree from {d[0]} to {d[-1]} trained together (one batched run): {epochs} steps of gradient descent "
        f"from zeros at this page's learning rate {sweep.lrs[0]:g}, on the same training points. Dashed: the exact "
        "optimum of each degree's loss."
    )
    cf = sweep.optimum_loss
    rising = "never rises" if np.all(np.diff(cf) <= 1e-9 * np.abs(cf[:-1]) + 1e-12) else "changes"
    train = f" The exact fit's training loss {rising} with the degree ({_g(cf[0])} at degree {d[0]}, "
    train += f"{_g(cf[-1])} at {d[-1]})"
    train += ": a higher degree can always match a lower one on the points it sees." if rising == "never rises" else "."
    if sweep.test_loss is None:
        return head + train + " Hold out a test set to see which degree generalizes."
    gd, exact = sweep.final_test_loss, sweep.optimum_test_loss
    k_gd, k_cf = _best(gd), int(np.argmin(exact))
    by_gd = "" if k_gd is None else f", degree {d[k_gd]} for gradient descent ({_g(gd[k_gd])})"
    test = (
        f" Lowest test loss: degree {d[k_cf]} for the exact fit ({_g(exact[k_cf])}){by_gd}. The exact fit's test "
        f"loss at degree {d[-1]} is {_g(exact[-1])}.{_diverged(sweep, [f'degree {k}' for k in d])}"
    )
    if k_cf == 0 and shape == "line":
        test += (
            " The points come from a straight line (y = 2x + 1 + noise), so degree 1 already has the right shape; "
            "higher degrees only add room to follow the noise."
        )
    elif k_cf == 0:
        test += " At this noise and number of points, even the wave is best told apart from the noise by a line."
    elif 0 < k_cf < len(d) - 1:
        test += " Below it the curve is too stiff to follow the data, above it it bends to follow the noise."
    if np.isfinite(gd[-1]) and gd[-1] < 0.5 * exact[-1]:
        test += (
            f" Gradient descent's degree-{d[-1]} test loss ({_g(gd[-1])}) stays far below the exact fit's: in "
            f"{epochs} steps it has not reached that wiggly optimum (see the conditioning below). Stopping "
            "early acts as a regularizer."
        )
    return head + train + test


def decay_text(sweep: engine.FitSweep, degree: int) -> str:
    """Which weight decay fits the held-out points best."""
    wd = sweep.weight_decays
    head = (
        f"{len(wd)} weight decays from {wd[0]:g} to {wd[-1]:g} at degree {degree}, trained together (one batched run), "
        f"at this page's learning rate {sweep.lrs[0]:g}; dashed: each one's exact (ridge) optimum."
    )
    if sweep.test_loss is None:
        return head + " Hold out a test set to see which decay generalizes."
    gd, exact = sweep.final_test_loss, sweep.optimum_test_loss
    k_gd, k_cf = _best(gd), int(np.argmin(exact))
    by_gd = "" if k_gd is None else f", {wd[k_gd]:g} for gradient descent ({_g(gd[k_gd])})"
    out = f" Lowest test loss: weight decay {wd[k_cf]:g} for the exact optimum ({_g(exact[k_cf])}){by_gd}." + _diverged(
        sweep, [f"{v:g}" for v in wd]
    ).replace("At this learning rate", "At this learning rate the decays")
    cf = sweep.optimum_loss
    if np.all(np.diff(cf) >= -1e-9 * cf[:-1]):
        out += (
            f" The exact optimum's training loss only grows with the decay ({_g(cf[0])} to {_g(cf[-1])}): the "
            "penalty pulls the weights towards 0, away from the best fit of the training points; a little of that "
            "helps on new points, a lot flattens the curve."
        )
    return head + out


def pair_text(p: overfit.Pair) -> str:
    """The two-weight picture in words, with its optima."""
    cfg, r = p.fit.config, p.fit
    head = (
        "Degree 2 (w1 for x, w2 for x²) with this page's other settings, so two weights fit on a flat picture. "
        "The bias is at its best for every (w1, w2), so the blue rings are the exact data loss there. "
        f"Unregularized optimum (star): ({_weights(r.least_squares[:2])}); "
    )
    if cfg.weight_decay == 0 and cfg.l1 == 0:
        return head + "no penalty is on (weight decay and L1 are 0), so the run heads for the star."
    head += f"regularized optimum (diamond): ({_weights(r.optimum[:2])}). "
    shrink = (
        f"Its weights' length is {np.linalg.norm(r.optimum[:2]):.3g}, against "
        f"{np.linalg.norm(r.least_squares[:2]):.3g} unregularized. "
    )
    if cfg.l1 == 0:
        return (
            head
            + shrink
            + (
                f"Weight decay adds ({cfg.weight_decay:g}/2)·||w||², whose contours (red) are circles around 0: the "
                "regularized optimum sits where a data-loss ring touches the solid circle."
            )
        )
    zeros = int(np.sum(r.optimum[:2] == 0))
    kind = "diamonds" if cfg.weight_decay == 0 else "rounded diamonds (L1 and L2 together)"
    corner = (
        f" Here {zeros} of the two weights is exactly 0 at the optimum: it sits on a corner."
        if zeros == 1
        else (" Here both weights are exactly 0: the penalty outweighs the data." if zeros == 2 else "")
    )
    return (
        head
        + shrink
        + (
            f"L1 adds {cfg.l1:g}·(|w1| + |w2|), whose contours (red) are {kind} with corners on the axes: a data-loss "
            f"ring often first touches one at a corner, where a weight is exactly 0.{corner}"
        )
    )


def chatter_text(result: overfit.Fit) -> str | None:
    """What plain subgradient descent does with the weights the lasso sets to 0, against a proximal step."""
    ch = overfit.chatter(result)
    if ch is None:
        return None
    d = result.degree
    names = result.data.feature_names
    lasso = f"The exact optimum with L1 (coordinate descent in float64): w = ({_weights(result.optimum[:d])})."
    if not ch.zeroed:
        return lasso + " None of its weights is exactly 0 at this strength; a larger L1 zeroes some."
    which = ", ".join(names[j] for j in ch.zeroed)
    out = f"{lasso} It sets the weight{'s' if len(ch.zeroed) > 1 else ''} of {which} to exactly 0. "
    if ch.sign_changes:
        out += (
            f"Plain (sub)gradient descent cannot land there: its step includes lr·l1·sign(w), which flips as w "
            f"crosses 0, so those weights hop back and forth around 0. Over the last {overfit.CHATTER_STEPS} steps "
            f"they changed sign {ch.sign_changes} times and reached |w| up to {ch.largest:.2g}."
        )
    else:
        out += (
            f"Over the last {overfit.CHATTER_STEPS} steps gradient descent's copies of them did not change sign "
            f"(largest |w| {ch.largest:.2g}): they have not reached 0 yet."
        )
    out += (
        " A proximal step (soft-thresholding: shrink each weight by lr·l1 and stop at 0) would set them to exactly 0;"
        " torch.optim has no such step, and the L1 term written into the loss, as PyTorch users write it, gives this "
        "subgradient."
    )
    return out


def conditioning_text(cond: engine.Conditioning, result: overfit.Fit) -> str:
    """Why high degrees train slowly, with this run's own condition number."""
    d = cond.degrees
    k = result.stability.condition_number
    steps = engine.steps_at_best_rate(k, cond.fraction)
    raw_top, std_top = cond.raw[-1], cond.standardized[-1]
    beyond = " (beyond what float64 resolves)" if not math.isfinite(raw_top) else ""
    return (
        f"On the training points' x, the condition number λmax/λmin of the loss grows from {_g(cond.raw[0])} at "
        f"degree {d[0]} to {_g(raw_top)}{beyond} at degree {d[-1]} for raw powers; standardizing the columns "
        f"(same size, centred) gives {_g(cond.standardized[0])} to {_g(std_top)}: x, x², … look more and more alike. "
        "The columns' sizes also set λmax, and so the largest stable rate 2/λmax (in the metrics above: compare raw "
        "and standardized powers). At its best constant rate 2/(λmin+λmax), gradient descent shrinks the "
        "slowest direction's extra loss by ((κ−1)/(κ+1))² per step. This run's own loss (weight decay included) has "
        f"κ = {_g(k)}: {_g(steps)} steps to bring that direction to {cond.fraction:.0%}, against the "
        f"{result.history.steps} this run makes."
    )


def eigen_text(view: overfit.Eigen, result: overfit.Fit) -> str:
    """The eigen-direction view in words; each direction's per-step factor is exact for plain gradient descent."""
    lam, cfg = view.milestones.eigenvalues, result.config
    p = len(lam)
    off = view.plane.off_plane
    off_text = f" (the path's largest distance from the plane: {off.max():.2g})" if off is not None and len(off) else ""
    fast, slow = (1 - cfg.lr * lam[-1]) ** 2, (1 - cfg.lr * lam[0]) ** 2
    out = (
        f"This run has {p} parameters: too many for one surface. Left: the plane through the optimum along the "
        f"steepest and the flattest direction of the loss's curvature (λ = {lam[-1]:.3g} and {lam[0]:.3g}); the loss "
        f"on it is exact, the path is projected onto it{off_text}. Right: the loss above its minimum, split along "
        "each direction. With plain gradient descent each step multiplies a direction's share by (1 − lr·λ)²: "
        f"{fast:.3g} for the steepest, {slow:.3g} for the flattest at lr = {cfg.lr:g}."
    )
    if cfg.l1:
        out += " With L1 the split is of the loss without its L1 term, around the ridge optimum."
    elif slow > fast:
        out += " The flat directions are the last to come down: they set how long training takes."
    return out


def held_out_caption(result: runs.RunResult) -> str | None:
    """The playground's readout for a run with a test set or weight decay; None for a plain run."""
    cfg, h = result.config, result.history
    if not cfg.test_fraction and not cfg.weight_decay:
        return None
    parts = []
    if h.test_loss is not None and not h.diverged:
        train = runs.training_rows(result.dataset, cfg)
        stop = engine.early_stop(h)
        parts.append(
            f"Trained on {train.n} of {result.dataset.n} points ({result.dataset.n - train.n} held out, drawn with "
            f"the seed): the final loss above is theirs. **Test loss** after the last step: "
            f"{_g(float(h.test_loss[-1]), 4)}; lowest {_g(stop.test_loss, 4)} at step {stop.step}, where early "
            "stopping would stop."
        )
    if cfg.weight_decay and not h.diverged:
        train = runs.training_rows(result.dataset, cfg)
        best = engine.ridge(train, cfg.weight_decay, cfg.fit_bias)
        mse = float(engine.regularized_loss(train, best))
        parts.append(
            f"Weight decay {cfg.weight_decay:g}: the run minimizes MSE + ({cfg.weight_decay:g}/2)·||w||², whose "
            f"optimum ({_weights(best)}) has a training MSE of {_g(mse, 4)}, at or above the least-squares best "
            f"{_g(result.surface.min_loss, 4)}. The figure's surface and star are the data loss alone."
        )
    return " ".join(parts) or None
