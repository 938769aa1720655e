"""The playground's live figure through the real page (AppTest): what its component is given, the ladders its
sliders walk, and the controls a teacher's link hides or locks in it."""

import numpy as np
from apptest_support import arr, assert_no_exception, figure, figure_run, open_app

import engine
from settings.controls import BY_KEY, LR_GRID


def _current(fig, setting):
    ladder = fig["ladders"][setting]
    return ladder["values"][ladder["current"]], ladder["labels"][ladder["current"]]


def test_the_figure_carries_both_ladders_through_the_sidebars_values():
    at = open_app()
    assert_no_exception(at)
    fig = figure(at)
    assert _current(fig, "lr")[0] == 0.1 and _current(fig, "momentum")[0] == 0.8
    assert fig["ladders"]["lr"]["values"] == list(LR_GRID)
    assert _current(fig, "lr")[1].startswith("0.1: converges")
    # the page's own run sits on both ladders, as engine.train computed it
    own = figure_run(fig)["params"]
    for setting in ("lr", "momentum"):
        np.testing.assert_array_equal(figure_run(fig, setting, fig["ladders"][setting]["current"])["params"], own)
    ds = engine.make_dataset("line", n=30, noise=0.5, seed=0)
    h = engine.train(ds, engine.TrainConfig(lr=0.1, momentum=0.8, epochs=60, init=(-1.0, -2.0)))
    np.testing.assert_allclose(own, h.params, rtol=1e-6)


def test_moving_the_sidebar_learning_rate_moves_the_figures_slider():
    at = open_app()
    before = figure(at)
    at.select_slider(key="ctl_lr").set_value(0.3).run()
    after = figure(at)
    assert _current(after, "lr")[0] == 0.3
    assert after["ladders"]["lr"]["values"] == before["ladders"]["lr"]["values"]
    # the same ladder of runs (but for the page's own runs, engine.train's, at 0.1 before and 0.3 after)
    others = [k for k, v in enumerate(LR_GRID) if v not in (0.1, 0.3)]
    same = arr(after["ladders"]["lr"]["params"])[others], arr(before["ladders"]["lr"]["params"])[others]
    np.testing.assert_array_equal(*same)
    assert after["ladders"]["momentum"]["params"] != before["ladders"]["momentum"]["params"]  # momenta at lr 0.3


def test_a_diverging_run_is_called_so_on_its_slider():
    at = open_app(lr=2)
    fig = figure(at)
    assert _current(fig, "lr")[1].startswith("2: diverges at step")
    assert "diverges at step" in fig["own"]["label"]


def test_runs_no_ladder_describes_play_alone_with_the_reason():
    for query in ({"optimizer": "adam"}, {"batch": "mini-batch"}, {"zero_grad": "false"}):
        at = open_app(**query)
        assert_no_exception(at)
        fig = figure(at)
        assert fig["ladders"] == {} and fig["labels"]["no_ladder"] and not fig["arrows"], query
        assert len(fig["frames"]) >= 2


def test_a_lesson_link_hides_and_locks_the_figures_controls_too():
    assert figure(open_app(lock="lr"))["controls"] == {
        "lr": "locked",
        "momentum": "free",
        "epochs": "free",
        "noise": "free",
        "start": "free",
    }
    assert figure(open_app(lock="epochs"))["controls"]["epochs"] == "locked"
    assert figure(open_app(lock="noise"))["controls"]["noise"] == "locked"
    assert figure(open_app(hide="noise"))["controls"]["noise"] == "hidden"
    assert figure(open_app(hide="lr,momentum"))["controls"]["lr"] == "hidden"
    assert figure(open_app(hide="momentum"))["controls"]["momentum"] == "hidden"
    assert figure(open_app(lock="w0"))["controls"]["start"] == "locked"
    assert figure(open_app(optimizer="adagrad"))["controls"]["momentum"] == "hidden"  # Adagrad has none


def test_the_challenge_reads_the_run_on_screen():
    at = open_app(goal_loss=0.35, goal_epochs=30, lr=0.3)
    fig = figure(at)
    loss = figure_run(fig)["loss"]
    step = int((loss < 0.35).argmax())
    assert at.success and f"at step {step} " in at.success[0].value


def test_the_figure_maps_the_sidebars_dataset_and_method_labels_to_their_options():
    at = open_app(method="autograd")  # off its default: the folded section with the method is open
    choices = figure(at)["choices"]
    # what the sidebar's select boxes show, each to the option it stands for (the figure follows a pick by its label)
    for key in ("dataset", "method"):
        shown = dict(zip(at.selectbox(key=f"ctl_{key}").options, BY_KEY[key].options, strict=True))
        assert choices[key] == {label: option for label, option in shown.items() if option != "custom"}, key
    assert "custom" in BY_KEY["dataset"].options  # a learner's own data is not fetched: the page's rerun brings it
