"""Export a run as the plain PyTorch script (or Jupyter notebook) that repeats it, written the tutorials' way.

The program regenerates (or inlines) the data, starts from the run's starting point and makes the run's updates in
the run's order, so it ends at the playground's final parameters. It needs only PyTorch, runs on the CPU, and its
last line is `RESULT {"params": [...], "loss": ...}` so that tests can compare it with `engine.train`.

This module puts the program together in its six parts; what each part says is in engine/export_templates/.
"""

from __future__ import annotations

import json
import textwrap

from .config import TrainConfig
from .data import Dataset
from .export_templates import METHODS
from .export_templates.data_block import data_section
from .export_templates.shared import SETUP, loop_section, loss_section, results_section
from .export_templates.text import WIDTH, Section, fill, safe
from .train import initial_params

DOCSTRING = '''\
"""Linear regression with $title.

Exported from the PyTorch playground: it repeats the run exactly (the same data, the same starting point,
the same mini-batches in the same order, the same updates), so it ends with the numbers the playground
shows. It needs only PyTorch: python this_file.py

Data: $data.
Training: $training.

The loop makes the four steps of every training: 1. forward pass (predict), 2. compute the loss,
3. compute the gradient, 4. update the parameters.
"""
'''

NOTEBOOK_INTRO = (
    "# Linear regression with $title\n\n"
    "Exported from the PyTorch playground: this notebook repeats the run exactly (the same data, the same "
    "starting point, the same mini-batches in the same order, the same updates), so it ends with the numbers "
    "the playground shows.\n\n$intro"
)


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
    method = METHODS[cfg.method]
    cells = [_markdown_cell(fill(NOTEBOOK_INTRO, title=method.TITLE, intro=method.INTRO))]
    for section in _program(ds, cfg):
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


def _program(ds: Dataset, cfg: TrainConfig) -> list[Section]:
    """The program's parts in order: set-up, data, model, loss, training loop, results."""
    start = initial_params(ds, cfg)  # raises the engine's ValueError for a starting point of the wrong length
    batch = _batch(ds, cfg)
    method = METHODS[cfg.method]
    data, how = data_section(ds, cfg.test_fraction, cfg.seed)
    return [
        Section("Setup", "", fill(SETUP)),
        data,
        method.model(ds, cfg, start),
        loss_section(ds, cfg, batch, method),
        loop_section(ds, cfg, batch, method),
        results_section(ds, cfg, how, method),
    ]


def _batch(ds: Dataset, cfg: TrainConfig) -> int | None:
    """The mini-batch size, or None when every step sees all the points."""
    return cfg.batch_size if cfg.batch_size is not None and cfg.batch_size < ds.n else None


def _docstring(ds: Dataset, cfg: TrainConfig) -> str:
    """The script's docstring: the method, the data and the training settings in words."""
    batch = _batch(ds, cfg)
    data = safe(ds.description) or safe(ds.name)
    if ds.scaling is not None:
        data += ", inputs standardized" if ds.scaling.how == "standardize" else ", inputs rescaled"
    training = [f"learning rate {cfg.lr!r}", f"{cfg.epochs} epochs"]
    training.append("full batch" if batch is None else f"mini-batches of {batch} (seed {cfg.seed})")
    if cfg.method == "optimizer" and cfg.optimizer != "sgd":
        training.insert(0, f"optimizer {cfg.optimizer}")
    if cfg.uses_momentum:
        training.append(f"{'Nesterov ' if cfg.uses_nesterov else ''}momentum {cfg.momentum!r}")
    if not cfg.zero_grad:
        training.append("gradients never zeroed")
    if cfg.test_fraction:
        training.append(f"a held-out test set of {cfg.test_fraction!r} of the rows (seed {cfg.seed})")
    if cfg.weight_decay:
        training.append(f"weight decay {cfg.weight_decay!r} on the weights")
    if cfg.l1:
        training.append(f"L1 {cfg.l1!r} on the weights")
    text = fill(DOCSTRING, title=METHODS[cfg.method].TITLE, data=data, training=", ".join(training))
    # a long Data: or Training: line (features, a split, penalties) wraps; shorter ones stay as they were
    return "\n".join(textwrap.fill(line, WIDTH) if len(line) > WIDTH else line for line in text.split("\n"))


def _markdown_cell(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}


def _code_cell(code: str) -> dict:
    source = code.splitlines(keepends=True)
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
