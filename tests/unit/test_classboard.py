"""The class board's page-side numbers: what a share holds of the run on screen, the outcomes, the order of the
table and the leaderboard, the counts, the projector link, and the theory of the lesson's data."""

from __future__ import annotations

from urllib.parse import parse_qs

import numpy as np

import board
import engine
from compute import classboard, explore, runs
from settings import controls, lesson


def _entry(i: int, **outcome) -> board.BoardRun:
    fields = {"final_loss": 0.3, "diverged": False, "steps_to_converge": 40, "challenge_met": None} | outcome
    run = board.SharedRun(
        lr=0.1, momentum=0.5, epochs=60, method="optimizer", optimizer="sgd", batch_size=None, start="w=-1, b=-2",
        query="lr=0.1", **fields,
    )  # fmt: skip
    return board.BoardRun(run_id=i, nickname=f"s{i}", shared_at=1000.0 + i, run=run)


def test_steps_to_converge_is_where_the_excess_loss_stays_below_one_percent():
    loss = np.array([101.0, 51.0, 11.0, 1.5, 1.9, 1.2, 1.05])  # optimum 1: excess 100, 50, 10, 0.5, 0.9, 0.2, 0.05
    assert classboard.steps_to_converge(loss, 1.0) == 3
    assert classboard.steps_to_converge(np.array([101.0, 51.0, 11.0]), 1.0) is None  # ends above 1 %
    assert classboard.steps_to_converge(np.array([5.0, np.inf]), 1.0) is None
    assert classboard.steps_to_converge(np.array([1.0, 1.0]), 1.0) == 0


def test_a_share_holds_the_runs_settings_outcome_and_a_link_without_the_class_code():
    values = controls.defaults() | {"lr": 0.1, "momentum": 0.8, "epochs": 60}
    fixed = lesson.Lesson(hidden=frozenset({"method"}), goal_loss=0.35, goal_epochs=30, class_code="K7QM2XHC")
    result = runs.compute(values)
    shared = classboard.shared_run(result, values, fixed)
    assert (shared.lr, shared.momentum, shared.epochs, shared.optimizer) == (0.1, 0.8, 60, "sgd")
    assert shared.final_loss == result.history.final_loss and not shared.diverged
    assert shared.challenge_met is lesson.check_challenge(fixed, result.history).met
    assert shared.steps_to_converge == classboard.steps_to_converge(result.history.loss, result.surface.min_loss)
    query = parse_qs(shared.query)
    assert "class" not in query and query["hide"] == ["method"] and query["lr"] == ["0.1"]
    assert shared.start == "w=-1, b=-2"
    blown = runs.compute(values | {"lr": 1.5, "momentum": 0.0})
    shared = classboard.shared_run(blown, values | {"lr": 1.5, "momentum": 0.0}, fixed)
    assert shared.diverged and shared.diverged_at == blown.history.diverged_at and shared.final_loss is None
    assert shared.steps_to_converge is None and classboard.outcome(shared) == classboard.DIVERGED


def test_the_board_sorts_by_result_counts_and_ranks_the_challenge():
    entries = [
        _entry(0, diverged=True, diverged_at=5, final_loss=None, steps_to_converge=None),
        _entry(1, steps_to_converge=None, final_loss=2.0),
        _entry(2, steps_to_converge=30, challenge_met=False),
        _entry(3, steps_to_converge=50, challenge_met=True),
        _entry(4, steps_to_converge=20, challenge_met=True),
    ]
    order = [e.run_id for e in classboard.by_result(entries)]
    assert order == [4, 3, 2, 1, 0]
    assert classboard.counts(entries, has_challenge=True) == {
        "shared": 5, "converged": 3, "diverged": 1, "met the challenge": 2,
    }  # fmt: skip
    assert [e.run_id for e in classboard.leaders(entries, has_challenge=True)] == [4, 3]
    assert [e.run_id for e in classboard.leaders(entries, has_challenge=False)] == [4, 3, 2]
    row = classboard.row(entries[4], "http://h:1/")
    assert row["open"] == "http://h:1/?lr=0.1" and row["nickname"] == "s4" and row["outcome"] == classboard.MET


def test_the_theory_comes_from_the_lessons_data():
    stab, why = classboard.lesson_stability("dataset=lab&n=10&lr=0.01")
    ds, cfg = explore.setup(classboard.lesson_values("dataset=lab&n=10"))
    assert why is None and np.isclose(stab.max_stable_lr, engine.stability(ds, cfg.fit_bias).max_stable_lr)
    stab, why = classboard.lesson_stability("dataset=custom")
    assert stab is None and "own data" in why
    assert parse_qs(classboard.students_query("lr=0.1&class=OLDOLDOL", "K7QM2XHC")) == {
        "lr": ["0.1"], "class": ["K7QM2XHC"],
    }  # fmt: skip
