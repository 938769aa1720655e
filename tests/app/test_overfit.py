"""The "Overfitting & regularization" page through AppTest: it runs at its defaults and at extremes with no exception,
gives its fit player the page's run and draws its five charts, corrects a hostile link with a note, offers a test set
when there is none, fixes a diverging run with one click, and its numbers are the engine's."""

from __future__ import annotations

import time

import numpy as np
import pytest
from apptest_support import arr, assert_no_exception, chart_keys, figure, metrics, open_app, open_page

import engine
from settings.controls import BY_KEY, LR_GRID

PAGE = "views/overfit.py"
TABS = {  # the closer looks' tabs, and the chart each draws
    "Which degree?": "overfit_degrees",
    "How much weight decay?": "overfit_decays",
    "The penalty on two weights": "overfit_pair",
    "Why high degrees train slowly": "overfit_conditioning",
    "Many parameters: the eigen-directions": "overfit_eigen",
}


def each_tab(at):
    """Open each closer look's tab in turn (its chart is made only while it is open); yields the tab's label."""
    for label in TABS:
        at.session_state["overfit_tab"] = label
        at.run()
        yield label


def test_the_page_plays_the_engines_run_and_draws_its_five_charts():
    at = open_page(PAGE, test_fraction="0.25", degree="4")
    assert_no_exception(at)
    assert [t.label for t in at.tabs] == list(TABS)
    assert chart_keys(at) == ["overfit_degrees"]  # the first tab's: the others are not made while closed
    assert not at.error
    for label in each_tab(at):
        assert_no_exception(at)
        assert chart_keys(at) == [TABS[label]] and not at.error
    at.session_state["overfit_tab"] = "Which degree?"
    at.run()
    ds = engine.polynomial(engine.make_dataset("wave", n=30, noise=0.5, seed=0), 4)
    cfg = engine.TrainConfig(lr=0.1, momentum=0.0, epochs=60, init="zeros", test_fraction=0.25)
    h = engine.train(ds, cfg)
    shown = metrics(at)
    assert shown["Training loss"] == f"{h.final_loss:.4g}" and shown["Test loss"] == f"{h.test_loss[-1]:.4g}"
    player = figure(at)  # the fit player's payload (charts/fit_player.py)
    frames = player["frames"]
    assert frames[0] == 0 and frames[-1] == 60
    np.testing.assert_allclose(arr(player["own"]["test"])[0], h.test_loss[frames], rtol=1e-5)
    np.testing.assert_allclose(arr(player["own"]["params"])[0], h.params[frames], rtol=1e-5, atol=1e-6)
    assert player["controls"] == {"degree": "free", "weight_decay": "free"}
    assert player["ladders"]["degree"]["values"] == list(range(1, 10))


def test_the_player_can_fetch_the_runs_the_sidebars_other_sliders_ask_for():
    at = open_page(PAGE, test_fraction="0.25", noise="0.7")
    assert_no_exception(at)
    player = figure(at)
    assert player["fetch"]["url"] == "api/fit-player" and player["fetch"]["token"] is None
    assert player["query"]["noise"] == "0.7" and player["query"]["test_fraction"] == "0.25"
    # each setting the player fetches for is one of the sidebar's sliders or radio buttons, named as the sidebar
    # names it; a radio button's options by the labels it shows
    sliders = {s.label for s in at.sidebar.slider} | {s.label for s in at.sidebar.select_slider}
    radios = {r.label: r for r in at.sidebar.radio}
    assert set(player["fetched"].values()) <= sliders | set(radios)
    assert set(player["fetched"]) == {"lr", "epochs", "l1", "test_fraction", "n", "noise", "powers", "shape"}
    assert set(player["choices"]) == {"powers", "shape"}
    for key, labels in player["choices"].items():
        assert list(labels) == list(radios[player["fetched"][key]].options)  # as the radio shows them
        assert list(labels.values()) == list(BY_KEY[key].options)
    assert not {"degree", "weight_decay"} & set(player["fetched"])  # those come from the player's families
    # the values each of those sliders steps through, for the next one to be fetched ahead (not the points: by one)
    slider = {s.label: s for s in [*at.sidebar.slider, *at.sidebar.select_slider]}
    assert player["steps"]["lr"] == [float(o) for o in slider["Learning rate"].options] == list(LR_GRID)
    assert player["steps"]["noise"][6:9] == [0.6, 0.7, 0.8] and player["steps"]["noise"][-1] == 5.0
    assert set(player["steps"]) == set(player["fetched"]) - {"n", "powers", "shape"}


def test_a_teachers_lock_locks_the_players_slider():
    at = open_page(PAGE, test_fraction="0.25", lock="degree", hide="weight_decay")
    assert_no_exception(at)
    assert figure(at)["controls"] == {"degree": "locked", "weight_decay": "hidden"}


@pytest.mark.parametrize(
    "query",
    [
        {"degree": "1"},
        {"degree": "9", "test_fraction": "0.5", "noise": "5", "n": "2"},
        {"degree": "9", "weight_decay": "10", "l1": "5", "test_fraction": "0.3"},
        {"degree": "9", "powers": "raw", "lr": "10", "epochs": "5000"},
        {"n": "2000", "degree": "9", "test_fraction": "0.25", "epochs": "5000"},
    ],
)
def test_extremes_run_without_an_exception(query):
    at = open_page(PAGE, **query)
    assert_no_exception(at)
    assert chart_keys(at) == ["overfit_degrees"] or at.error
    for _ in each_tab(at):
        assert_no_exception(at)
    # the controls are there in any case (the page draws them after its player, or before an error)
    assert {"Polynomial degree", "Noise level"} <= {s.label for s in at.sidebar.slider}


def test_a_hostile_link_is_corrected_with_a_note():
    """AppTest opens the router's first page before switching, so the notes (shown once, on the first page a link
    opens) are read there; the page then runs on the corrected values (the e2e test opens the page itself)."""
    hostile = {"degree": "99", "l1": "-3", "test_fraction": "<script>alert(1)</script>", "powers": "evil"}
    first = open_app(**hostile)
    notes = " ".join(w.value for w in first.warning)
    at = first.switch_page(PAGE).run()
    assert_no_exception(at)
    notes = notes.replace("\\", "")  # the notes are shown markdown-escaped
    assert "Polynomial degree: 99 is outside 1 to 9" in notes and "L1 strength" in notes
    assert "Test fraction" in notes and "Powers of x" in notes
    assert at.slider(key="ctl_degree").value == 9


def test_no_test_set_offers_one_and_the_button_holds_a_quarter_out():
    at = open_page(PAGE)
    assert any("No test set" in i.value for i in at.info)
    assert metrics(at)["Test loss"] == "—"
    at.button[0].click().run()
    assert_no_exception(at)
    assert at.slider(key="ctl_test_fraction").value == 0.25
    assert metrics(at)["Test loss"] != "—"
    assert at.query_params["test_fraction"] in ("0.25", ["0.25"])


def test_a_diverging_raw_run_is_fixed_with_one_click():
    at = open_page(PAGE, degree="6", powers="raw", test_fraction="0.25", shape="line")  # x from randn: big powers
    assert any("The run diverged" in e.value for e in at.error)
    fix = next(b for b in at.button if b.label.startswith("Use a stable learning rate"))
    fix.click().run()
    assert_no_exception(at)
    assert not at.error


def test_a_slider_move_is_fast_once_the_sweeps_are_cached():
    """A degree move reuses both sweeps and the conditioning (their keys leave the degree out); the page's script
    time for it is printed (docs: the playground's latency targets)."""
    at = open_page(PAGE, test_fraction="0.25", degree="3")
    timings = []
    for degree in (7, 8, 7, 8):
        start = time.perf_counter()
        at.slider(key="ctl_degree").set_value(degree).run()
        timings.append(time.perf_counter() - start)
        assert_no_exception(at)
    print(f"\ndegree move, new: {timings[0]:.3f} s, {timings[1]:.3f} s; cached: {timings[2]:.3f} s, {timings[3]:.3f} s")
    assert chart_keys(at) == ["overfit_degrees"] and figure(at)["own"]["degree"] == 8
