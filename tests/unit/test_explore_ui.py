"""compute.explore, the Explorer pages' glue without streamlit: cache keys, links into the playground, the race table,
the mini-batch budget and readouts."""

from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

import engine
from compute import explore
from settings import controls
from ui import explore_text


def _values(**changes) -> dict:
    return controls.defaults() | changes


def _opened(url: str) -> dict:
    assert url.startswith("./?")  # the playground is the default page, at the root
    values, notes = controls.parse_query(parse_qs(urlsplit(url).query))
    assert not notes, notes
    return values


def test_results_depend_only_on_their_keys():
    base = explore.lr_sweep(_values(lr=0.1, momentum=0.8))[0]
    other = explore.lr_sweep(_values(lr=3.0, momentum=0.0, method="finite-difference"))[0]
    np.testing.assert_array_equal(base.loss, other.loss)  # the sweep ignores the playground's own rate and method
    assert set(explore.subset(_values(), explore.SWEEP_KEYS)) == set(explore.SWEEP_KEYS)
    shown = explore.shown(_values(dataset="lab"), explore.SWEEP_KEYS)
    assert "epochs" in shown and "n" not in shown and "lr" not in shown  # lab data is fixed; the sweep sets lr


def test_playground_link_opens_plain_sgd_with_the_same_data_and_start():
    values = _values(dataset="plane", scaling="standardize", optimizer="adam", batch="mini-batch", w2_0=1.5)
    opened = _opened(explore.playground_url(values, 0.123456, 0.0))
    assert opened["lr"] == 0.123 and opened["momentum"] == 0.0 and not opened["nesterov"]
    assert (opened["method"], opened["optimizer"], opened["batch"]) == ("optimizer", "sgd", "full")
    assert {k: opened[k] for k in explore.SWEEP_KEYS} == {k: values[k] for k in explore.SWEEP_KEYS}


def test_link_choices_and_the_first_pick():
    sweep, stab = explore.lr_sweep(_values(dataset="thermometer"))
    choices = explore.link_choices(sweep)
    assert choices == sorted(choices) and all(1e-5 <= c <= 10 for c in choices)
    assert all(float(f"{c:.3g}") == c for c in choices)
    pick = explore.default_choice(choices, stab)
    assert pick < stab.max_stable_lr  # best_lr rounds to above the limit here; the pick must not
    assert explore.nearest([0.1, 1.0, 10.0], 0.5) == 1.0 and explore.nearest([0.1, 1.0, 10.0], 0.2) == 0.1


def test_best_pair_link_holds_the_pair_safely():
    _, stab = explore.lr_sweep(_values(dataset="thermometer"))
    url, lr, momentum = explore.best_pair_link(_values(dataset="thermometer"), stab)
    opened = _opened(url)
    assert (opened["lr"], opened["momentum"]) == (lr, momentum)
    assert engine.heavy_ball_rate(stab.eigenvalues, lr, momentum) == pytest.approx(np.sqrt(momentum), rel=1e-6)


def test_race_table_reads_the_histories():
    result = explore.race(_values(epochs=40), tuned=False)
    rows = explore_text.race_table(result)
    assert [r["optimizer"] for r in rows] == [r.name for r in engine.RACERS]
    for row, h in zip(rows, result.histories, strict=True):
        excess = h.loss - result.min_loss
        reached = np.flatnonzero(excess <= 0.01 * excess[0])
        assert row["steps to within 1 %"] == (str(reached[0]) if len(reached) else "> 40")
        assert row["final loss"] == f"{h.final_loss:.4g}"
    assert [t.name for t in explore.race_tracks(result)][0] == f"SGD (lr {result.lrs[0]:.3g})"
    assert result.shortened_from is None


def test_batch_noise_keeps_single_sample_runs_within_the_budget():
    result = explore.batch_noise(_values(n=500, epochs=60, batch_size=4))
    assert result.config.epochs == explore.NOISE_STEP_BUDGET // 500 and result.shortened_from == 60
    assert result.groups[0].runs[0].steps == result.config.epochs * 500
    assert result.config.method == "analytic" and result.config.momentum == 0.0
    assert explore.batch_label(None) == "full batch" and explore.batch_label(1) == "batch size 1"
    full = result.groups[-1]
    assert explore_text.noise_final(full) == f"{full.runs[0].final_loss:.4g}"
    assert "one run" in explore_text.noise_caption(full)
    blown = explore.batch_noise(_values(dataset="thermometer", lr=0.1))
    assert all(explore_text.noise_final(g) == "diverged" for g in blown.groups)


def test_scaling_refuses_data_without_a_surface():
    with pytest.raises(ValueError, match="choose one of"):
        explore.scaling("single-point", 0.01)
    assert [c.label for c in explore.scaling("lab", 0.01)] == list(explore.SCALING_CASES)
