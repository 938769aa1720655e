"""The playground's "every learning rate at once" section through the real page: the family chart starts at the
sidebar's value, the radio switches it to momentum by rerunning only its fragment, and it gives way to a plain
sentence where the family does not describe the run (or a lesson link has taken the setting away)."""

import numpy as np
from apptest_support import arr, assert_no_exception, chart_keys, keyed_chart_spec, open_app

from ui.controls import LR_GRID

SECTION = "Every learning rate (or momentum) at once"


def _slider(spec: dict) -> dict:
    return spec["layout"]["sliders"][0]


def _current_label(spec: dict) -> str:
    slider = _slider(spec)
    return slider["steps"][slider["active"]]["label"]


def test_defaults_show_the_family_at_the_sidebars_learning_rate():
    at = open_app()
    assert_no_exception(at)
    assert chart_keys(at) == ["playground_chart", "family_chart"]
    assert SECTION in [h.value for h in at.subheader]
    spec = keyed_chart_spec(at, "family_chart")
    assert len(spec["frames"]) == len(LR_GRID)
    assert _current_label(spec).startswith("0.1: converges")
    # the drawn path is the picked frame's path
    active = _slider(spec)["active"]
    frame = spec["frames"][active]
    path_index = frame["traces"][0]
    np.testing.assert_array_equal(arr(spec["data"][path_index]["x"]), arr(frame["data"][0]["x"]))


def test_moving_the_sidebar_learning_rate_moves_the_in_chart_slider():
    at = open_app()
    before = keyed_chart_spec(at, "family_chart")
    at.select_slider(key="ctl_lr").set_value(0.02).run()
    assert_no_exception(at)
    after = keyed_chart_spec(at, "family_chart")
    assert _current_label(after).startswith("0.02: ")
    assert [f["name"] for f in after["frames"]] == [f["name"] for f in before["frames"]]  # the same family
    assert after["frames"] == before["frames"]


def test_the_radio_switches_to_momentum_and_leaves_the_main_chart_alone():
    at = open_app()
    main = keyed_chart_spec(at, "playground_chart")
    at.radio(key="family_setting").set_value("momentum").run()
    assert_no_exception(at)
    spec = keyed_chart_spec(at, "family_chart")
    assert spec["frames"][0]["name"] == "momentum 0"
    assert _current_label(spec).startswith("0.8: ")
    assert _slider(spec)["currentvalue"]["prefix"] == "momentum "
    assert keyed_chart_spec(at, "playground_chart") == main


def test_a_diverging_run_starts_the_slider_at_its_blow_up():
    at = open_app(lr="2")
    assert_no_exception(at)
    assert _current_label(keyed_chart_spec(at, "family_chart")).startswith("2: diverges at step")


def test_adaptive_optimizers_and_mini_batches_get_a_sentence_instead():
    for query, words in (
        ({"optimizer": "adam", "lr": "0.1"}, "adaptive optimizer"),
        ({"batch": "mini-batch"}, "full-batch"),
    ):
        at = open_app(**query)
        assert_no_exception(at)
        assert "family_chart" not in chart_keys(at)
        assert any(words in c.value for c in at.caption), [c.value for c in at.caption]


def test_a_lesson_link_that_locks_the_learning_rate_offers_momentum_only():
    at = open_app(lock="lr")
    assert_no_exception(at)
    radio = at.radio(key="family_setting")
    assert list(radio.options) == ["momentum"]
    assert keyed_chart_spec(at, "family_chart")["frames"][0]["name"] == "momentum 0"


def test_a_lesson_link_that_takes_both_away_has_no_family():
    at = open_app(lock="lr", hide="momentum")
    assert_no_exception(at)
    assert chart_keys(at) == ["playground_chart"]
    assert SECTION not in [h.value for h in at.subheader]


def test_the_main_charts_caption_points_to_the_family_only_when_there_is_one():
    hint = "drag the slider of the next chart"
    assert any("To compare learning rates, " + hint in c.value for c in open_app().caption)
    assert any("To compare momenta, " + hint in c.value for c in open_app(lock="lr").caption)
    assert not any(hint in c.value for c in open_app(optimizer="adam", lr="0.1").caption)


def _picture(spec: dict) -> tuple:
    image = spec["layout"]["images"][0]
    return image["source"], image["x"], image["y"], image["sizex"], image["sizey"]


def test_converging_rates_share_the_family_panel_and_a_diverging_one_zooms_to_its_path():
    """The main chart's loss panel is the family chart's while the run stays on it: the same axes and picture for
    every converging learning rate, so paths can be compared; a run that blows up gets a panel around its path."""
    at = open_app()
    family_panel = _picture(keyed_chart_spec(at, "family_chart"))
    assert _picture(keyed_chart_spec(at, "playground_chart")) == family_panel
    for lr in (0.02, 0.005, 0.3):
        at.select_slider(key="ctl_lr").set_value(lr).run()
        assert_no_exception(at)
        main = keyed_chart_spec(at, "playground_chart")
        assert _picture(main) == family_panel, lr
    at.select_slider(key="ctl_lr").set_value(3.0).run()
    assert_no_exception(at)
    assert "diverged" in " ".join(e.value for e in at.error)
    assert _picture(keyed_chart_spec(at, "playground_chart")) != family_panel
    assert _picture(keyed_chart_spec(at, "family_chart")) == family_panel  # the family itself does not move


def test_a_momentum_move_asks_the_worker_once_for_its_run_and_its_family(monkeypatch):
    """A momentum move needs a new run and a new learning-rate family (the run's loss panel, the family chart).
    Both come back from the worker in one call, not two: each call can wait behind other students' runs."""
    from ui import worker

    calls = []
    real = worker.run

    def counting(fn, *args, **kwargs):
        calls.append(fn.__name__)
        return real(fn, *args, **kwargs)

    at = open_app()
    monkeypatch.setattr(worker, "run", counting)
    at.slider(key="ctl_momentum").set_value(0.41).run()
    assert_no_exception(at)
    assert calls == ["run_with_family"]
    family_spec = keyed_chart_spec(at, "family_chart")
    assert _current_label(family_spec).startswith("0.1: ")
    assert _picture(keyed_chart_spec(at, "playground_chart")) == _picture(family_spec)
    at.select_slider(key="ctl_lr").set_value(0.05).run()  # the same family: the run alone
    assert_no_exception(at)
    assert calls == ["run_with_family", "run_with_family"]
    assert _current_label(keyed_chart_spec(at, "family_chart")).startswith("0.05: ")
