"""The board as CSV for the teacher's download: one row per run, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from board.records import OUTCOME, SETTINGS

if TYPE_CHECKING:
    from board.store import BoardRun

COLUMNS = ("shared_at_utc", "nickname", *SETTINGS, *OUTCOME)


def escape_cell(value: object) -> object:
    """Keep a spreadsheet from executing a text cell: text starting with = + - @ (or a tab/CR) gets a quote.

    The one copy of this rule: the playground's other downloads use it too (ui/tabular.py imports it)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return escape_cell(value)


def runs_to_csv(runs: Iterable[BoardRun]) -> str:
    """CSV text with a header row; every text cell escaped, times in UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for entry in runs:
        when = dt.datetime.fromtimestamp(entry.shared_at, dt.UTC).isoformat(timespec="seconds")
        fields = entry.run.fields()
        writer.writerow([when, _cell(entry.nickname), *(_cell(fields[name]) for name in (*SETTINGS, *OUTCOME))])
    return out.getvalue()
