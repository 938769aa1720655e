"""The class board through the real pages (AppTest), on a real SQLite file in a temporary data directory: the
teacher creates a class, a student shares (once per double click, rate-limited, refused when full), the board shows
it (nicknames as text), only the teacher key reads, clears or downloads it, and a database that cannot be reached
leaves the playground working."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from apptest_support import open_app, open_page
from sqlalchemy import create_engine

import board
from board import rules
from server import board_db

NOT_ALLOWED = str(board.NotAllowed())
HTML_NICK = "<b>Ada</b><img src=x>"  # 21 characters: within the nickname field


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Each test: its own SQLite file (board.default_url follows PLAYGROUND_DATA_DIR), and no pause left over."""
    monkeypatch.setenv(board.store.DATA_DIR_ENV, str(tmp_path))
    board_db.resume()
    yield tmp_path
    board_db.resume()


def _engine():
    engine = create_engine(board.default_url())
    board.prepare(engine)
    return engine


def _class(lesson_query: str = "lr=0.1&momentum=0.5&goal_loss=0.35&goal_epochs=30") -> board.ClassKeys:
    return board.create_class(_engine(), lesson_query)


def _board(keys: board.ClassKeys | None, key: str | None = None):
    query = {}
    if keys is not None:
        query = {"class": keys.code, "key": keys.teacher_key if key is None else key}
    return open_page("views/class_board.py", **query)


def _share(at, nickname: str):
    at.text_input(key="share_nickname").input(nickname)
    return at.button(key="share_button").click().run()


def _messages(at) -> str:
    return " | ".join(m.value for kind in ("success", "info", "warning", "error", "caption") for m in at.get(kind))


def test_the_teacher_page_creates_a_class_with_two_links_and_warns_about_the_private_one():
    at = open_page("views/teacher.py", lr=0.03, dataset="lab")
    at.button(key="create_class").click().run()
    assert not at.exception
    students, teacher = (urlparse(c.value) for c in at.code[1:3])
    code = parse_qs(students.query)["class"][0]
    assert parse_qs(students.query)["lr"] == ["0.03"] and "key" not in parse_qs(students.query)
    assert teacher.path.endswith("/class-board") and parse_qs(teacher.query)["class"] == [code]
    assert any("Keep this link private" in w.value for w in at.warning)
    found = board.read_board(_engine(), code, parse_qs(teacher.query)["key"][0])
    assert parse_qs(found.lesson_query)["dataset"] == ["lab"] and not found.runs


def test_a_student_shares_once_per_double_click_and_the_board_shows_the_nickname_as_text():
    keys = _class()
    at = open_app(**{"class": keys.code, "lr": "0.1", "momentum": "0.5"})
    assert not at.exception and at.button(key="share_button")
    at = _share(at, HTML_NICK)
    assert not at.exception and any("on the class board" in s.value for s in at.success)
    at = at.button(key="share_button").click().run()  # the double click
    assert any("already on the class board" in s.value for s in at.info)
    runs = board.read_board(_engine(), keys.code, keys.teacher_key).runs
    assert len(runs) == 1 and runs[0].nickname == HTML_NICK and parse_qs(runs[0].run.query)["lr"] == ["0.1"]
    assert "class" not in parse_qs(runs[0].run.query)

    teacher = _board(keys)
    assert not teacher.exception and not teacher.error
    table = teacher.dataframe[-1]  # every run, best first
    assert list(table.value["nickname"]) == [HTML_NICK]  # a table cell: text, never HTML
    assert table.value["open"][0].endswith("/?" + runs[0].run.query)
    shown = {m.label: m.value for m in teacher.metric}
    assert shown["Shared"] == "1" and shown["Diverged"] == "0"
    assert not any(HTML_NICK in m.value for m in teacher.markdown)  # nowhere as Markdown


def test_the_rate_limit_and_a_full_board_answer_in_words(monkeypatch):
    keys = _class()
    at = _share(open_app(**{"class": keys.code}), "Ada")
    at.sidebar.select_slider(key="ctl_lr").set_value(0.03).run()  # another run, at once
    at = at.button(key="share_button").click().run()
    assert "You shared a run a moment ago" in _messages(at)
    monkeypatch.setattr(rules, "RUNS_PER_CLASS_MAX", 1)
    monkeypatch.setattr(rules, "SHARE_INTERVAL_S", 0.0)  # AppTest gives every test session one Streamlit session id
    other = _share(open_app(**{"class": keys.code}), "Bo")
    assert "The class board is full (1 runs)" in _messages(other)
    empty = _share(open_app(**{"class": keys.code, "lr": "0.2"}), "   ")
    assert "Type a nickname" in _messages(empty) and not empty.exception


@pytest.mark.parametrize("who", ["no key", "wrong key", "student code only", "no class"])
def test_without_the_teacher_key_the_board_says_not_allowed_and_shows_nothing(who):
    keys = _class()
    board.share(_engine(), keys.code, "Ada", _run(), session_id="s1")
    at = {
        "no key": lambda: open_page("views/class_board.py", **{"class": keys.code}),
        "wrong key": lambda: _board(keys, key=keys.teacher_key[:-1] + ("A" if keys.teacher_key[-1] != "A" else "B")),
        "student code only": lambda: _board(keys, key=keys.code),
        "no class": lambda: _board(None),
    }[who]()
    assert not at.exception
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not at.dataframe and not at.get("download_button") and not at.button and not at.get("plotly_chart")


def test_the_board_counts_draws_clears_with_confirmation_and_offers_the_csv():
    keys = _class()
    engine = _engine()
    board.share(engine, keys.code, "Ada", _run(), session_id="s1")
    board.share(engine, keys.code, "Bo", _run(lr=2.0, diverged=True, diverged_at=7, final_loss=None), session_id="s2")
    at = _board(keys)
    shown = {m.label: m.value for m in at.metric}
    assert shown == {"Shared": "2", "Converged": "1", "Diverged": "1", "Met the challenge": "1"}
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [t.get("name", "") for t in spec["data"]]
    assert any(n.startswith("stability limit") for n in names) and any(n.startswith("best pair") for n in names)
    assert "met the challenge (1)" in names and "diverged (1)" in names
    assert at.get("download_button")
    at.button(key="board_clear").click().run()
    assert board.read_board(engine, keys.code, keys.teacher_key).runs  # not yet: it asks first
    at.button(key="board_clear_yes").click().run()
    assert not at.exception and "2 runs deleted" in _messages(at)
    assert not board.read_board(engine, keys.code, keys.teacher_key).runs
    assert "No runs yet" in _messages(at)


def test_a_malformed_class_code_is_noted_and_an_expired_one_explained():
    at = open_app(**{"class": "<img src=x>"})
    assert not at.exception and not _has(at, "share_button")
    assert any("is not a class code" in w.value for w in at.warning)
    gone = open_app(**{"class": "K7QM2XHC"})  # well formed, but no such class
    assert not gone.exception and "has expired or does not exist" in _messages(gone)
    assert gone.get("bidi_component")  # the playground itself is there


def test_the_playground_keeps_working_when_the_database_cannot_be_reached(data_dir, monkeypatch):
    keys = _class()
    blocked = data_dir / "not-a-directory"
    blocked.write_text("")
    monkeypatch.setenv(board.store.DATA_DIR_ENV, str(blocked / "sub"))  # the SQLite file cannot be made
    at = open_app(**{"class": keys.code})
    assert not at.exception and at.get("bidi_component")
    assert "Cannot reach the class board's database" in _messages(at)
    teacher = _board(keys)
    assert not teacher.exception and "Cannot reach the class board's database" in _messages(teacher)


def _has(at, key: str) -> bool:
    return any(b.key == key for b in at.button)


def _run(**changes) -> board.SharedRun:
    fields = dict(
        lr=0.1, momentum=0.5, epochs=60, method="optimizer", optimizer="sgd", batch_size=None, start="w=-1, b=-2",
        final_loss=0.3, diverged=False, steps_to_converge=25, challenge_met=True, query="lr=0.1&momentum=0.5",
    )  # fmt: skip
    return board.SharedRun(**(fields | changes))
