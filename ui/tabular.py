"""Tables in and out: reading a learner's CSV safely, and writing a run as CSV and JSON.

Pure pandas (no streamlit). Every problem with a file becomes a ValueError whose message a student can act on;
nothing here ever writes to disk, so an upload stays in the memory of the session that made it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import engine
from board.export import escape_cell  # the one rule for every download's text cells (the class board's CSV too)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # matches server.maxUploadSize in .streamlit/config.toml
MAX_UPLOAD_ROWS = 10_000
MAX_COLUMNS = 100
SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another zip file",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls) or another Office file",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG picture",
    b"\xff\xd8\xff": "a JPEG picture",
}


@dataclass(frozen=True)
class Table:
    """A parsed upload: the data frame and notes about what was done to read it."""

    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _decode(raw: bytes) -> tuple[str, str]:
    """Text and the encoding that read it: UTF-8 (with or without a byte-order mark), else Latin-1."""
    try:
        return raw.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "Latin-1"


def _check_binary(raw: bytes) -> None:
    for magic, what in SIGNATURES.items():
        if raw.startswith(magic):
            raise ValueError(
                f"This file is {what}, not a CSV text file. Open it in a spreadsheet and save it as "
                "CSV (File → Save as → CSV)."
            )
    if b"\x00" in raw[:4096]:
        raise ValueError("This file is not text (it contains binary bytes). Save your table as a CSV file.")


def _dialect(text: str) -> tuple[str, str]:
    """(separator, decimal mark): comma/point, or the European semicolon/comma."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        sep = ","
    decimal = "," if sep in (";", "\t") and any(ch.isdigit() for ch in sample) and "," in sample else "."
    return sep, decimal


def _unique_names(names: list[str]) -> tuple[list[str], list[str]]:
    seen: dict[str, int] = {}
    out, notes = [], []
    for name in names:
        clean = str(name).strip() or "unnamed"
        if clean in seen:
            seen[clean] += 1
            new = f"{clean} ({seen[clean]})"
            notes.append(f"Two columns are both called {clean!r}: the second is now {new!r}.")
            out.append(new)
        else:
            seen[clean] = 1
            out.append(clean)
    return out, notes


def read_csv(raw: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_rows: int = MAX_UPLOAD_ROWS) -> Table:
    """Parse an uploaded or pasted CSV; a ValueError in plain words for every kind of bad file."""
    if len(raw) > max_bytes:
        raise ValueError(
            f"The file is {len(raw) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
            "Upload a smaller table (a sample of the rows is enough to learn from)."
        )
    if not raw.strip():
        raise ValueError("The file is empty.")
    _check_binary(raw)
    text, encoding = _decode(raw)
    sep, decimal = _dialect(text)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) - 1 > max_rows:
        raise ValueError(
            f"The file has {len(lines) - 1:,} rows; the limit is {max_rows:,}. Upload a sample of the rows."
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
            engine="python",
        )
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise ValueError(f"This does not read as a table: {str(exc).splitlines()[0]}") from None
    if frame.shape[1] > MAX_COLUMNS:
        raise ValueError(f"The file has {frame.shape[1]} columns; the limit is {MAX_COLUMNS}.")
    if len(frame) < 2:
        raise ValueError("The file has a header row but no data rows.")
    names, notes = _unique_names(list(frame.iloc[0]))  # our own header, so duplicates are named for people
    frame = frame.iloc[1:].reset_index(drop=True)
    frame.columns = names
    if encoding != "UTF-8":
        notes.append(f"Read as {encoding} text (it was not UTF-8).")
    if sep != ",":
        notes.append(
            f"Columns separated by {'semicolons' if sep == ';' else 'tabs'}"
            + (", decimal commas." if decimal == "," else ".")
        )
    numeric = {}
    for name in names:
        values = frame[name].str.strip()
        if decimal == ",":
            values = values.str.replace(",", ".", regex=False)
        numbers = pd.to_numeric(values, errors="coerce")
        text_cells = values[numbers.isna() & ~values.str.lower().isin(["", "na", "nan", "null", "none", "-"])]
        if numbers.notna().sum() == 0:
            continue  # a text column: shown in the preview, not offered for training
        if len(text_cells):
            first = text_cells.index[0]
            notes.append(
                f"Column {name!r} has {len(text_cells)} text value(s) among its numbers (first: "
                f"{text_cells.iloc[0]!r} in row {first + 1}); those cells count as missing."
            )
        numeric[name] = numbers
    if not numeric:
        raise ValueError(
            "No column holds numbers. The playground fits numbers: check the separator and that "
            "the first row is a header."
        )
    table = pd.DataFrame(numeric)
    return Table(table, notes)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per column: count, missing, mean, min, max (what a student checks before training)."""
    finite = frame.replace([np.inf, -np.inf], np.nan)
    return pd.DataFrame(
        {
            "column": frame.columns,
            "count": finite.notna().sum().to_numpy(),
            "missing or not finite": (len(frame) - finite.notna().sum()).to_numpy(),
            "mean": finite.mean().to_numpy(),
            "min": finite.min().to_numpy(),
            "max": finite.max().to_numpy(),
        }
    )


def to_dataset(
    frame: pd.DataFrame, target: str, features: list[str], name: str = "your data", fit_bias: bool = True
) -> tuple[engine.Dataset, list[str]]:
    """The chosen columns as an engine Dataset; rows with missing or non-finite values are dropped (and counted)."""
    if not 1 <= len(features) <= 2:
        raise ValueError("Choose one or two feature columns.")
    if target in features:
        raise ValueError("The target cannot also be a feature: choose another column to predict.")
    missing = [c for c in [target, *features] if c not in frame.columns]
    if missing:
        raise ValueError(f"No column named {missing[0]!r} with numbers in this table.")
    cols = frame[[*features, target]].replace([np.inf, -np.inf], np.nan)
    usable = cols.dropna()
    notes = []
    dropped = len(cols) - len(usable)
    if dropped:
        notes.append(f"{dropped} row(s) with missing or non-finite values were left out; {len(usable)} remain.")
    p = len(features) + int(fit_bias)
    if len(usable) < p:
        raise ValueError(f"Only {len(usable)} usable row(s): fitting {p} parameters needs at least {p}.")
    big = usable.abs().max().max()
    if big > 1e15:
        raise ValueError(
            "Values above 1e15 are refused: the loss squares each error, and an error beyond 1.84e19 (soon reached "
            "from such values while training) squares past float32's largest number, 3.4e38. Rescale the column "
            "first (divide it by a power of ten)."
        )
    ds = engine.dataset_from_arrays(
        usable[features].to_numpy(), usable[target].to_numpy(), name=name, feature_names=features, target_name=target
    )
    problem = engine.optimum_problem(ds, fit_bias)
    if problem:
        notes.append(problem)
    return ds, notes


def history_csv(history: engine.History) -> str:
    """Every recorded step: step, epoch, loss, then the parameters; safe to open in a spreadsheet."""
    frame = pd.DataFrame(
        {
            "step": np.arange(len(history.loss)),
            "epoch": np.arange(len(history.loss)) / history.steps_per_epoch,
            "loss": history.loss,
        }
    )
    for j, name in enumerate(history.param_names):
        frame[escape_cell(name)] = history.params[:, j]
    frame.columns = [escape_cell(c) for c in frame.columns]
    return frame.to_csv(index=False)


def model_json(ds: engine.Dataset, cfg: engine.TrainConfig, history: engine.History) -> str:
    """The final model as JSON: parameters (in the original units too when inputs were rescaled) and the config."""
    params = history.final_params
    out = {
        "model": "y = "
        + " + ".join(f"{n}·{f}" for n, f in zip(history.param_names, ds.feature_names, strict=False))
        + (" + b" if cfg.fit_bias else ""),
        "parameters": dict(zip(history.param_names, map(float, params), strict=True)),
        "features": list(ds.feature_names),
        "target": ds.target_name,
        "final_loss": _finite_or_none(history.final_loss),
        "diverged": history.diverged,
        "steps": history.steps,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(cfg).items()},
        "dataset": ds.name,
    }
    if ds.scaling is not None:
        try:
            original = ds.scaling.to_original(params)
            out["parameters_in_original_units"] = dict(zip(history.param_names, map(float, original), strict=True))
        except ValueError:
            pass
        out["input_scaling"] = {
            "how": ds.scaling.how,
            "offset": list(ds.scaling.offset),
            "factor": list(ds.scaling.factor),
        }
    return json.dumps(out, indent=2, ensure_ascii=False)


def _finite_or_none(v: float):
    return v if math.isfinite(v) else None
