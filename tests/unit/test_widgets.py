"""ui/widgets.py's bookkeeping for the playground's fragment: which controls moved since the page last ran.

A learning-rate move reruns only the run's section (an st.fragment); before it draws anything, that section asks
which controls moved, and a move of any control it does not draw (by a widget, or by a one-click fix button) makes
it rerun the whole page. Streamlit's session state is a plain dict here.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from settings import controls
from ui import widgets


@pytest.fixture
def state(monkeypatch) -> dict:
    session_state: dict = {}
    monkeypatch.setattr(widgets, "st", SimpleNamespace(session_state=session_state))
    values = controls.defaults()
    session_state[widgets.VALUES] = values
    for key, value in values.items():  # as after a run: every widget holds the value the page used
        session_state[f"ctl_{key}"] = value
    return session_state


def test_nothing_moved_after_a_run(state):
    assert widgets.moved_since_last_run(state[widgets.VALUES]) == set()


def test_a_widget_move_is_seen_until_the_value_is_taken(state):
    values = state[widgets.VALUES]
    state["ctl_lr"] = 0.3
    assert widgets.moved_since_last_run(values) == {"lr"}
    state["ctl_epochs"] = 100
    assert widgets.moved_since_last_run(values) == {"lr", "epochs"}
    values["lr"], values["epochs"] = 0.3, 100  # the widgets drew them
    assert widgets.moved_since_last_run(values) == set()


def test_a_button_that_changed_a_control_is_seen_once(state):
    values = state[widgets.VALUES]
    widgets.set_values(scaling="standardize")  # widget and value agree at once: only the button's note tells
    assert values["scaling"] == state["ctl_scaling"] == "standardize"
    assert widgets.moved_since_last_run(values) == {"scaling"}
    assert widgets.moved_since_last_run(values) == set()  # taken


def test_a_control_without_a_widget_is_not_a_move(state):
    del state["ctl_momentum"]  # not drawn on this page (an adaptive optimizer hides it)
    assert widgets.moved_since_last_run(state[widgets.VALUES]) == set()
