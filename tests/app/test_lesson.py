"""A lesson link through the real page: hidden controls are not drawn, locked ones are disabled, the challenge
is announced and checked against the run's loss, and the teacher page builds a link that opens the same run."""

from urllib.parse import parse_qs, urlparse

from apptest_support import open_app

import engine


def _open(**query):
    return open_app(**{k: str(v) for k, v in query.items()})


def _labels(at):
    return [
        w.label
        for kind in ("select_slider", "slider", "selectbox", "radio", "toggle", "number_input")
        for w in at.get(kind)
    ]


def test_hidden_controls_are_not_drawn_and_locked_ones_are_disabled():
    at = _open(hide="momentum,method", lock="lr,dataset")
    assert not at.exception
    labels = _labels(at)
    assert "Momentum" not in labels and "How the gradient is obtained" not in labels
    assert at.sidebar.select_slider(key="ctl_lr").disabled
    assert at.selectbox(key="ctl_dataset").disabled
    assert not at.sidebar.select_slider(key="ctl_epochs").disabled


def test_challenge_is_announced_and_checked_with_the_run():
    ds = engine.make_dataset("line", n=30, noise=0.5, seed=0)
    h = engine.train(ds, engine.TrainConfig(lr=0.1, momentum=0.8, epochs=60, init=(-1.0, -2.0)))
    at = _open(goal_loss=0.35, goal_epochs=30)
    assert "Challenge:" in at.info[0].value
    step = int((h.loss < 0.35).argmax())
    assert at.success and f"at step {step} " in at.success[0].value
    at = _open(goal_loss=0.01, goal_epochs=5)
    assert not at.success and "Not yet" in at.warning[0].value


def test_teacher_page_builds_a_link_that_reproduces_the_settings():
    at = _open(lr=0.03, dataset="lab")
    at.switch_page("views/teacher.py").run()
    assert not at.exception
    at.multiselect[0].set_value(["momentum"]).run()
    url = at.code[0].value
    query = {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}
    assert query["lr"] == "0.03" and query["dataset"] == "lab" and query["hide"] == "momentum"
    student = _open(**query)
    assert "Momentum" not in _labels(student) and not student.exception


def test_teacher_page_links_to_the_overfitting_page_with_its_locks_and_no_challenge():
    at = _open(degree=5, test_fraction=0.25)
    at.switch_page("views/teacher.py").run()
    at.radio[0].set_value("overfitting").run()
    assert not at.exception and not at.toggle  # no challenge on that page
    at.multiselect[1].set_value(["degree"]).run()  # locked
    url = at.code[0].value
    assert urlparse(url).path == "/overfitting"
    query = {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}
    assert query["degree"] == "5" and query["lock"] == "degree" and "goal_loss" not in query
    student = open_app(**query).switch_page("views/overfit.py").run()
    assert not student.exception and student.slider(key="ctl_degree").disabled


def _button_labels(at):
    return [b.label for b in at.button]


def test_one_click_fixes_respect_the_teachers_locks():
    """Thermometer readings at lr 0.1 blow up; the page offers two fixes, unless the link fixes what they change."""
    free = _open(dataset="thermometer")
    assert free.error and "Standardize the inputs" in _button_labels(free)
    assert any(label.startswith("Use a stable learning rate") for label in _button_labels(free))

    locked = _open(dataset="thermometer", lock="scaling,lr")
    assert locked.error and not locked.exception
    assert "Standardize the inputs" not in _button_labels(locked)
    assert not any(label.startswith("Use a stable learning rate") for label in _button_labels(locked))
    hidden = _open(dataset="thermometer", hide="scaling")
    assert "Standardize the inputs" not in _button_labels(hidden)


def test_a_button_cannot_change_a_locked_control():
    """A fix the link allows changes its own control and leaves the locked one as it was."""
    at = _open(dataset="thermometer", lock="lr")
    assert not at.exception
    # "Standardize the inputs" is allowed here; clicking it must not touch the locked learning rate
    (button,) = [b for b in at.button if b.label == "Standardize the inputs"]
    button.click().run()
    assert at.query_params["scaling"] == "standardize" and at.query_params["lr"] == "0.1"
    assert at.sidebar.select_slider(key="ctl_lr").disabled
