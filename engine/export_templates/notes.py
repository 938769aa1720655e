"""The explanations whose words depend on the run: a forgotten zero_grad, momentum, the training loop's note.

Every claim here is checked against runs in tests/unit/test_claims_engine.py; change a sentence there too.
"""

from __future__ import annotations

from ..analysis import stability
from ..config import TrainConfig
from ..data import Dataset


def start_note(cfg: TrainConfig) -> str:
    """Where the parameters start, in the words of a comment."""
    if cfg.init == "zeros":
        return "Start from zeros, as the playground's run did"
    if cfg.init == "random":
        return f"Start from the playground's random draw (torch.randn with seed {cfg.seed + 7919}), to the last digit"
    return "Start from the playground's starting point"


def no_zero_grad_note(ds: Dataset, cfg: TrainConfig, batch: int | None, lead: str) -> list[str]:
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


def loop_note(ds: Dataset, cfg: TrainConfig, batch: int | None, every: int, gradient_step: str) -> str:
    """The notebook's note before the training loop: the four steps, what it prints, and this run's switches."""
    steps = [
        "**Forward pass**: predict `y_hat` from the inputs.",
        "**Compute the loss**: the mean squared error between `y_hat` and `y`.",
        gradient_step,
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
    if cfg.uses_momentum and cfg.method == "optimizer" and cfg.optimizer == "rmsprop":
        markdown += (
            "\n\nWith momentum, RMSprop steps along a decaying sum of its scaled gradients, "
            "`buf = momentum * buf + grad / (sqrt(square_avg) + eps)`, as `torch.optim.RMSprop` computes it."
        )
    elif cfg.uses_momentum:
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
            + " ".join(no_zero_grad_note(ds, cfg, batch, "Each new gradient is added to the ones before"))
        )
    return markdown + "\n\nThe loop stops early, with a message, if the loss blows up to infinity."
