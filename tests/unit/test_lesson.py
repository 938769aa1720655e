"""Teacher links: parsing, the URL round trip, and the challenge check against the run's own loss curve."""

from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

import engine
from settings import controls, lesson


def test_parse_keeps_known_controls_and_notes_the_rest():
    parsed, notes = lesson.parse_lesson(
        {"hide": "lr, momentum,bogus", "lock": "epochs", "goal_loss": "0.5", "goal_epochs": "50"}
    )
    assert parsed.hidden == {"lr", "momentum"} and parsed.locked == {"epochs"}
    assert parsed.goal_loss == 0.5 and parsed.goal_epochs == 50
    assert notes == ["Hidden controls: ignored unknown control(s) 'bogus'."]


def test_bad_challenge_values_are_dropped_with_a_note():
    parsed, notes = lesson.parse_lesson({"goal_loss": "-3", "goal_epochs": "x"})
    assert parsed.goal_loss is None and not parsed.has_challenge
    assert notes == ["Challenge: the target loss '-3' is not a positive number; no challenge."]
    parsed, notes = lesson.parse_lesson({"goal_loss": "0.5", "goal_epochs": "99999"})
    assert parsed.goal_loss == 0.5 and parsed.goal_epochs is None and "not a whole number" in notes[0]


def test_lesson_url_round_trips_controls_and_lesson():
    values = {**controls.defaults(), "lr": 0.0123456789, "dataset": "lab"}
    made = lesson.Lesson(frozenset({"method"}), frozenset({"lr", "dataset"}), 0.25, 40)
    url = lesson.lesson_url("http://class.example:8501/", values, made)
    parsed = urlparse(url)
    assert parsed.path == "/"
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    back, notes = controls.parse_query(query)
    assert back == values and notes == []
    again, notes = lesson.parse_lesson(query)
    assert again == made and notes == []


def test_a_lesson_link_opens_the_overfitting_page_and_no_other_path():
    url = lesson.lesson_url("http://h:1/", controls.defaults(), lesson.Lesson(), "overfitting")
    assert urlparse(url).path == "/overfitting"
    with pytest.raises(ValueError):
        lesson.lesson_url("http://h:1/", controls.defaults(), lesson.Lesson(), "../evil")


def _history(losses, steps_per_epoch=1):
    losses = np.asarray(losses, dtype=float)
    return engine.History(
        params=np.zeros((len(losses), 2)),
        loss=losses,
        grads=np.zeros((len(losses) - 1, 2)),
        batch_loss=None,
        diverged=False,
        diverged_at=None,
        steps_per_epoch=steps_per_epoch,
        param_names=("w", "b"),
        device="cpu",
    )


def test_challenge_met_at_the_first_step_below_target_within_the_epochs():
    h = _history([5, 3, 1, 0.4, 0.2], steps_per_epoch=2)
    result = lesson.check_challenge(lesson.Lesson(goal_loss=0.5, goal_epochs=2), h)
    assert result.met and "step 3 (epoch 1.5)" in result.message
    late = lesson.check_challenge(lesson.Lesson(goal_loss=0.3, goal_epochs=1), h)
    assert not late.met and "best there was 1" in late.message


def test_challenge_on_a_real_run_agrees_with_its_loss_curve():
    ds = engine.make_dataset("line", n=30)
    h = engine.train(ds, engine.TrainConfig(lr=0.1, momentum=0.8, epochs=60, init=(-1.0, -2.0)))
    target = float(h.loss[20]) * 1.0001
    first = int(np.argmax(h.loss < target))
    result = lesson.check_challenge(lesson.Lesson(goal_loss=target, goal_epochs=60), h)
    assert result.met and f"at step {first} " in result.message
    assert lesson.check_challenge(lesson.Lesson(), h) is None


def test_a_class_code_in_the_link_is_read_as_the_board_makes_it_and_a_malformed_one_is_noted():
    from board import keys

    for _ in range(50):
        code = keys.new_class_code()
        assert lesson.normalize_class_code(code.lower()) == code == keys.normalize_code(code)
        assert lesson.normalize_class_code(f" {code[:4]}-{code[4:]} ") == code
    assert lesson.CLASS_CODE.pattern == f"[{keys.CODE_ALPHABET}]{{{keys.CODE_LENGTH}}}"
    parsed, notes = lesson.parse_lesson({"class": "k7qm-2xhc"})
    assert parsed.class_code == "K7QM2XHC" and not notes
    assert parsed.query()["class"] == "K7QM2XHC"
    for bad in ("<script>alert(1)</script>", "K7QM2XH0", "short", "K7QM2XHCK7QM2XHC"):
        parsed, notes = lesson.parse_lesson({"class": bad})
        assert parsed.class_code is None and len(notes) == 1 and "is not a class code" in notes[0]


def test_the_class_code_survives_the_playgrounds_url_and_the_board_link_holds_the_key():
    values = controls.parse_query({"class": "K7QM2XHC", "lr": "0.1"})[0]  # the schema ignores it, the lesson keeps it
    assert values["lr"] == 0.1
    url = lesson.lesson_url("http://h:1/", values, lesson.Lesson(class_code="K7QM2XHC"))
    assert parse_qs(urlparse(url).query)["class"] == ["K7QM2XHC"]
    board = urlparse(lesson.board_url("http://h:1", "K7QM2XHC", "s3cret-key_"))
    assert board.path == "/class-board" and parse_qs(board.query) == {"class": ["K7QM2XHC"], "key": ["s3cret-key_"]}
