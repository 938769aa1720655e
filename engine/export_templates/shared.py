"""The parts every method's program shares: the set-up, the progress loss, the training loop's frame, the results.

The loop's frame (hyperparameters, mini-batches, the divergence check, the progress lines) is the same for every
method; the method's own template fills in what happens before the loop and in one step (see __init__.py).
"""

from __future__ import annotations

from types import ModuleType

from ..config import TrainConfig
from ..data import Dataset
from .notes import loop_note
from .text import Section, blocks, fill, print_lines

SETUP = """\
import json

import torch

# Everything here runs on the CPU. To train on a GPU, move the data and the parameters there with
# .to("cuda") (the last digits of the numbers may then differ a little from the playground's).
"""

LOSS = '''\
$loss


def loss_on_all_data(params):
    """The mean squared error on all the data at params, a list ($order), in float64 (as the playground
    computes it), to report progress: training itself does not use it."""
    p = torch.tensor(params, dtype=torch.float64)
    return ((X.double() @ p[:d]$bias - y.double()) ** 2).mean().item()
'''

HYPERPARAMETERS = """\
# Hyperparameters
learning_rate = $lr
epochs = $epochs
$batch_size
$momentum
$penalties
"""
WEIGHT_DECAY = "weight_decay = $wd  # L2: minimizes MSE + (weight_decay / 2) * ||w||^2, the bias not penalized"
L1 = "l1 = $l1  # L1: adds l1 * ||w||_1 to the loss, the bias not penalized"

TEST_LOSS = '''\
def loss_on_test_data(params):
    """The same mean squared error on the held-out rows, which training never sees."""
    p = torch.tensor(params, dtype=torch.float64)
    return ((X_test.double() @ p[:d]$bias - y_test.double()) ** 2).mean().item()
'''
TEST_RESULT = """\
# The loss on the held-out test rows at the final parameters: how well the fit generalizes
test_loss = loss_on_test_data(final_params)
print(f"Loss on the held-out test rows: {test_loss:.6g}")
"""

SAMPLER = """\
# Mini-batches: every epoch the sampler shuffles the point indices (with its own seeded generator)
# and BatchSampler cuts them into batches of batch_size, the last one maybe smaller, as a DataLoader
# with shuffle=True does.
sampler = torch.utils.data.RandomSampler(range(n), generator=torch.Generator().manual_seed($seed))
"""

FULL_BATCH_LOOP = """\
for epoch in range(1, epochs + 1):
    $forward
    if not torch.isfinite(loss):  # inf or nan: no step can come back from that
        print(f"Epoch {epoch}: the loss is {loss.item()}, training diverged: stopping early (try a smaller lr)")
        break

    $update

    if epoch % $every == 0:
        $report
"""

MINI_BATCH_LOOP = """\
for epoch in range(1, epochs + 1):
    for idx in torch.utils.data.BatchSampler(sampler, batch_size, drop_last=False):
        ${data}_batch, ${target}_batch = $data[idx], $target[idx]

        $forward
        if not torch.isfinite(loss):  # inf or nan: no step can come back from that
            break

        $update

    if not torch.isfinite(loss):
        print(f"Epoch {epoch}: the loss is {loss.item()}, training diverged: stopping early (try a smaller lr)")
        break
    if epoch % $every == 0:
        $report
"""

REPORT = """\
# The loss on all the data at the parameters this epoch ended with: the playground's loss at that step
current = $current
$print_progress
"""

RESULTS = """\
# The final parameters in the playground's order ($order)
final_params = $current
# The loss on all the data at those parameters, in float64 so that it can be compared to many digits
final_loss = loss_on_all_data(final_params)

$print_final
$print_true
$raw_units
print(f"Final loss on all the data: {final_loss:.6g}")
$test_result
# One machine-readable last line, to compare with the playground
print("RESULT " + json.dumps($result))
"""

RAW_UNITS = """\
# The fit is on the rescaled inputs; in the raw units w_raw = w * factor$and_b
p64 = torch.tensor(final_params, dtype=torch.float64)
w_raw = p64[:d] * factor
$b_raw
print(f"In the raw units: $raw")
"""

LOSS_ON_ALL_DATA_NOTE = " `loss_on_all_data` gives the loss on all the data at given parameters, to report progress."
RESULTS_NOTE = (
    "## Results\n\n"
    "The final parameters and the loss on all the data. The last line holds the same numbers in a form a "
    "program can read, to compare with the playground's run."
)


def loss_section(ds: Dataset, cfg: TrainConfig, batch: int | None, method: ModuleType) -> Section:
    """The method's loss (and gradient), then loss_on_all_data: the full-data MSE in float64 that reports progress."""
    loss = method.loss(ds, cfg, batch)
    bias = " + p[d]" if cfg.fit_bias else ""
    code = fill(LOSS, loss=loss.code, order=", ".join(ds.param_names(cfg.fit_bias)), bias=bias)
    if cfg.test_fraction:  # History.loss is then the training rows' loss: say so
        code = code.replace(
            "The mean squared error on all the data at params", "The MSE on the training rows at params"
        )
        code += "\n\n\n" + fill(TEST_LOSS, bias=bias)
    return Section(loss.title, loss.markdown + LOSS_ON_ALL_DATA_NOTE, code)


def loop_section(ds: Dataset, cfg: TrainConfig, batch: int | None, method: ModuleType) -> Section:
    """The training loop: hyperparameters, the method's state, the sampler, then one loop over the epochs."""
    hyperparameters = fill(
        HYPERPARAMETERS,
        lr=repr(cfg.lr),
        epochs=cfg.epochs,
        batch_size="" if batch is None else f"batch_size = {batch}",
        momentum=f"momentum = {cfg.momentum!r}" if cfg.uses_momentum else "",
        penalties="\n".join(
            ([fill(WEIGHT_DECAY, wd=repr(cfg.weight_decay))] if cfg.weight_decay else [])
            + ([fill(L1, l1=repr(cfg.l1))] if cfg.l1 else [])
        ),
    )
    names = ds.param_names(cfg.fit_bias)
    shown = [f"{name} = {{{expr}:.4f}}" for name, expr in zip(names, method.param_exprs(ds, cfg), strict=True)]
    starting = ["Starting parameters: " + shown[0], *shown[1:]]
    starting[-1] += "\\n"  # a blank line before the epochs' lines
    progress = [f"{name} = {{current[{j}]:.4f}}" for j, name in enumerate(names)]
    report = fill(
        REPORT,
        current=method.collect(cfg),
        print_progress=print_lines(["Epoch {epoch}: loss = {loss_on_all_data(current):.6g}", *progress]),
    )
    every = max(1, round(cfg.epochs / 10))
    if batch is None:
        forward, update = method.step(ds, cfg, None, method.DATA, method.TARGET)
        loop = fill(FULL_BATCH_LOOP, forward=forward, update=update, every=every, report=report)
    else:
        forward, update = method.step(ds, cfg, batch, f"{method.DATA}_batch", f"{method.TARGET}_batch")
        loop = fill(
            MINI_BATCH_LOOP,
            data=method.DATA,
            target=method.TARGET,
            forward=forward,
            update=update,
            every=every,
            report=report,
        )
    code = blocks(
        hyperparameters,
        method.before_loop(ds, cfg),
        "" if batch is None else fill(SAMPLER, seed=cfg.seed),
        print_lines(starting),
        loop,
    )
    return Section("The training loop", loop_note(ds, cfg, batch, every, method.GRADIENT_STEP), code)


def results_section(ds: Dataset, cfg: TrainConfig, how: str, method: ModuleType) -> Section:
    """The final parameters and loss (and, for rescaled inputs, the parameters in raw units), then the RESULT line."""
    names = ds.param_names(cfg.fit_bias)
    shown = [f"{name} = {{final_params[{j}]:.4f}}" for j, name in enumerate(names)]
    true = ""
    if ds.true_params is not None and len(ds.true_params) == len(names):
        values = ", ".join(f"{name} = {v:.4f}" for name, v in zip(names, ds.true_params, strict=True))
        label = "True parameters (for these inputs)" if ds.scaling is not None else "True parameters"
        true = f'print("{label}: {values}")'
    code = fill(
        RESULTS,
        order=", ".join(names),
        current=method.collect(cfg),
        print_final=print_lines(["\\nFinal parameters: " + shown[0], *shown[1:]]),
        print_true=true,
        raw_units=_raw_units(ds, cfg, how),
        test_result=TEST_RESULT if cfg.test_fraction else "",
        result='{"params": final_params, "loss": final_loss'
        + (', "test_loss": test_loss}' if cfg.test_fraction else "}"),
    )
    return Section("Results", RESULTS_NOTE, code)


def _raw_units(ds: Dataset, cfg: TrainConfig, how: str) -> str:
    """For rescaled inputs, the fitted parameters mapped back to the raw inputs' units ("" when they cannot be)."""
    scaling, fit_bias = ds.scaling, cfg.fit_bias
    if scaling is None or how == "scaled" or (not fit_bias and any(scaling.offset)):
        return ""
    parts = [f"{name} = {{w_raw[{j}].item():.4f}}" for j, name in enumerate(ds.param_names(fit_bias)[: ds.d])]
    b_raw = ""
    if fit_bias:
        parts.append("b = {b_raw.item():.4f}")
        if scaling.how == "multiply":
            b_raw = "b_raw = p64[d]  # multiplying the inputs leaves the bias as it is"
        else:
            b_raw = "b_raw = p64[d] - (w_raw * offset).sum()"
    and_b = " and b_raw = b - sum(w_raw * offset)" if fit_bias and scaling.how != "multiply" else ""
    return fill(RAW_UNITS, and_b=and_b, b_raw=b_raw, raw=", ".join(parts))
