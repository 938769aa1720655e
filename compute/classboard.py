"""The class board from the pages' side: what a student's share holds (the run on screen), and what the teacher's
board shows (outcomes, counts, rows sorted by result, the leaderboard, the theory of the lesson's data).

Numbers and records only, no widgets. The database calls go through `server.board_db` (one connection per process,
a pause after a failure); each raises `board.Refused` (a rule said no) or `board.Unavailable` (no database), whose
messages a page shows as they are.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, urlencode

import numpy as np

import board
import engine
from charts import board as charts_board
from compute import explore, runs
from server import board_db
from settings import controls, lesson

CONVERGED = 0.01  # as the playground says "converges": the excess loss is down to 1 % of where it started
MET, CONVERGES, ON_ITS_WAY, DIVERGED = "met the challenge", "converged", "not converged in its epochs", "diverged"
OUTCOMES = (MET, CONVERGES, ON_ITS_WAY, DIVERGED)  # best first: the board's sort order and its colours
LEADERS = 10


# ----------------------------------------------------------------------------------------------------------------
# a student's share
# ----------------------------------------------------------------------------------------------------------------


def steps_to_converge(loss: np.ndarray, min_loss: float) -> int | None:
    """The step from which the excess loss (loss - the least-squares optimum's) stays at or below 1 % of its start;
    None when the run ends above that (or blew up)."""
    loss = np.asarray(loss, dtype=np.float64)
    if not len(loss) or not np.all(np.isfinite(loss)):
        return None
    excess = loss - min_loss
    if excess[0] <= 0:
        return 0
    above = np.flatnonzero(excess > CONVERGED * excess[0])
    if len(above) and above[-1] == len(loss) - 1:
        return None
    return int(above[-1]) + 1 if len(above) else 0


def run_query(values: Mapping, lesson_: lesson.Lesson) -> str:
    """The playground's query string that opens this run again, with the lesson's hidden and locked controls and
    challenge, but not the class code (a run opened on the projector does not offer to share itself)."""
    return lesson.lesson_query(values, dataclasses.replace(lesson_, class_code=None))


def _start(values: Mapping, d: int, fit_bias: bool) -> str:
    w, w2 = float(values["w0"]), float(values["w2_0"])
    parts = [f"w={w:g}"] if d == 1 else [f"w1={w:g}", f"w2={w2:g}"]
    if fit_bias:
        parts.append(f"b={float(values['b0']):g}")
    return ", ".join(parts)


def shared_run(result: runs.RunResult, values: Mapping, lesson_: lesson.Lesson) -> board.SharedRun:
    """What a student shares of the run on screen: its settings, its outcome, the query that opens it again."""
    h, cfg = result.history, result.config
    challenge = lesson.check_challenge(lesson_, h)
    return board.SharedRun(
        lr=cfg.lr,
        momentum=cfg.momentum,
        epochs=cfg.epochs,
        method=cfg.method,
        optimizer=cfg.optimizer,
        batch_size=cfg.batch_size,
        start=_start(values, result.dataset.d, cfg.fit_bias),
        final_loss=None if h.diverged else float(h.final_loss),
        diverged=bool(h.diverged),
        diverged_at=None if h.diverged_at is None else int(h.diverged_at),
        steps_to_converge=None if h.diverged else steps_to_converge(h.loss, result.surface.min_loss),
        challenge_met=None if challenge is None else challenge.met,
        query=run_query(values, lesson_),
    )


# ----------------------------------------------------------------------------------------------------------------
# the teacher's board
# ----------------------------------------------------------------------------------------------------------------


def outcome(run: board.SharedRun) -> str:
    """One of OUTCOMES."""
    if run.diverged:
        return DIVERGED
    if run.challenge_met:
        return MET
    return CONVERGES if run.steps_to_converge is not None else ON_ITS_WAY


def _rank(entry: board.BoardRun) -> tuple:
    run = entry.run
    steps = run.steps_to_converge if run.steps_to_converge is not None else math.inf
    loss = run.final_loss if run.final_loss is not None else math.inf
    late = -(run.diverged_at or 0)  # of the runs that blew up, the one that held longest first
    return OUTCOMES.index(outcome(run)), steps, loss, late, entry.shared_at


def by_result(entries: Sequence[board.BoardRun]) -> list[board.BoardRun]:
    """Best first: met the challenge, converged, not converged in its epochs (slow, or above the limit but not yet
    blown up), diverged; then fewer steps to converge, lower loss."""
    return sorted(entries, key=_rank)


def counts(entries: Sequence[board.BoardRun], has_challenge: bool) -> dict[str, int]:
    """How many shared, converged (met the challenge or not), diverged and (with a challenge) met it."""
    outcomes = [outcome(e.run) for e in entries]
    out = {
        "shared": len(entries),
        "converged": sum(o in (MET, CONVERGES) for o in outcomes),
        "diverged": outcomes.count(DIVERGED),
    }
    if has_challenge:
        out["met the challenge"] = outcomes.count(MET)
    return out


def projector_url(base: str, run: board.SharedRun) -> str:
    """The playground with exactly this run's settings (the playground is the app's root page)."""
    return f"{base.rstrip('/')}/?{run.query}"


def row(entry: board.BoardRun, base: str) -> dict[str, object]:
    """One table row: who, the settings, the outcome, and the link that opens the run."""
    run = entry.run
    return {
        "nickname": entry.nickname,
        "outcome": outcome(run),
        "learning rate": run.lr,
        "momentum": run.momentum,
        "epochs": run.epochs,
        "method": run.method if run.method != "optimizer" else run.optimizer,
        "batch": "full" if run.batch_size is None else run.batch_size,
        "start": run.start,
        "final loss": run.final_loss,
        "steps to converge": run.steps_to_converge,
        "diverged at step": run.diverged_at,
        "open": projector_url(base, run),
    }


def leaders(entries: Sequence[board.BoardRun], has_challenge: bool, top: int = LEADERS) -> list[board.BoardRun]:
    """The leaderboard: with a challenge, the runs that met it; without, those that converged; fewest steps first."""
    wanted = (MET,) if has_challenge else (MET, CONVERGES)
    return [e for e in by_result(entries) if outcome(e.run) in wanted][:top]


def lesson_values(lesson_query: str) -> dict:
    """The control values of the lesson the class was made with (defaults where it says nothing)."""
    values, _ = controls.parse_query(dict(parse_qsl(lesson_query or "")))
    return values


def lesson_of(lesson_query: str) -> lesson.Lesson:
    """The lesson (hidden controls, challenge) the class was made with."""
    found, _ = lesson.parse_lesson(dict(parse_qsl(lesson_query or "")))
    return found


def lesson_stability(lesson_query: str) -> tuple[engine.Stability | None, str | None]:
    """The curvature facts of the lesson's data (for the limit curve and the best pair), or (None, why not)."""
    values = lesson_values(lesson_query)
    if values["dataset"] == "custom":
        return None, "The lesson uses each student's own data, so there is no single stability limit to draw."
    try:
        ds, cfg = explore.setup(values)
        stab = engine.stability(ds, cfg.fit_bias)
    except ValueError as err:
        return None, f"No stability limit for the lesson's data: {err}"
    if not math.isfinite(stab.max_stable_lr):
        return None, "The loss does not depend on the parameters on the lesson's data: no stability limit."
    return stab, None


def students_query(lesson_query: str, code: str) -> str:
    """The students' query string: the lesson's, with the class code."""
    pairs = [(k, v) for k, v in parse_qsl(lesson_query or "") if k != lesson.CLASS_PARAM]
    return urlencode([*pairs, (lesson.CLASS_PARAM, code)])


# ----------------------------------------------------------------------------------------------------------------
# the database (each call: board.Refused or board.Unavailable, with a message for the page)
# ----------------------------------------------------------------------------------------------------------------


def create_class(lesson_query: str) -> board.ClassKeys:
    """A new class for this lesson's playground query string."""
    return board_db.call(board.create_class, lesson_query)


def class_is_open(code: str) -> bool:
    return board_db.call(board.class_is_open, code)


def share(code: str, nickname: str, run: board.SharedRun, session_id: str, token: str) -> board.Shared:
    return board_db.call(board.share, code, nickname, run, session_id=session_id, token=token)


def read(code: str, teacher_key: str) -> board.Board:
    return board_db.call(board.read_board, code, teacher_key)


def clear(code: str, teacher_key: str) -> int:
    return board_db.call(board.clear, code, teacher_key)


def csv_text(code: str, teacher_key: str) -> str:
    return board_db.call(board.runs_csv, code, teacher_key)


def points(entries: Sequence[board.BoardRun]) -> list[tuple[str, list[charts_board.Point]]]:
    """The board's runs for the figure: (outcome, its points) for every outcome, best first."""
    found: dict[str, list[charts_board.Point]] = {name: [] for name in OUTCOMES}
    for entry in entries:
        run = entry.run
        if run.diverged:
            detail = f"diverged at step {run.diverged_at}" if run.diverged_at is not None else "diverged"
        else:
            detail = f"final loss {run.final_loss:.4g}" if run.final_loss is not None else ""
        found[outcome(run)].append(charts_board.Point(run.lr, run.momentum, entry.nickname, detail))
    return list(found.items())
