"""The class board's rules without a database: keys, nicknames, what a shared run may hold, the CSV escaping."""

from __future__ import annotations

import math

import pytest

import board
from board import keys, rules
from board.export import escape_cell


def test_class_codes_are_short_and_readable_and_teacher_keys_long_and_random():
    codes = {keys.new_class_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == keys.CODE_LENGTH and set(c) <= set(keys.CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set(keys.CODE_ALPHABET)
    made = {keys.new_teacher_key() for _ in range(100)}
    assert len(made) == 100 and all(len(k) >= 43 for k in made)


def test_codes_are_read_leniently_and_rejected_when_malformed():
    code = keys.new_class_code()
    assert keys.normalize_code(f" {code[:4].lower()}-{code[4:]} ") == code
    for bad in (None, "", "SHORT", code + "X", "OOOOOOOO", 12345678, "AB CD"):
        assert keys.normalize_code(bad) is None


def test_only_the_key_itself_matches_its_digest():
    key = keys.new_teacher_key()
    digest = keys.key_digest(key)
    assert keys.key_matches(key, digest)
    assert digest != key and len(digest) == 64
    for wrong in (None, "", key[:-1], key + "x", key.upper(), 42, keys.new_teacher_key()):
        assert not keys.key_matches(wrong, digest)
    assert not keys.key_matches(key, None) and not keys.key_matches("", None)


@pytest.mark.parametrize(
    "given, stored",
    [
        ("Ada", "Ada"),
        ("  Ada   Lovelace  ", "Ada Lovelace"),
        ("Ada\tL\nove\rlace", "Ada L ove lace"),
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert"),
        ("e\u0301t\u00e9", "\u00e9t\u00e9"),  # NFC
        ("\u202eevil\u200b", "evil"),  # bidi override and zero-width space go
        ("🙂" * 30, "🙂" * rules.NICKNAME_MAX),
    ],
)
def test_nicknames_become_one_short_line_of_plain_text(given, stored):
    assert rules.clean_nickname(given) == stored
    assert len(stored) <= rules.NICKNAME_MAX


@pytest.mark.parametrize("empty", ["", "  ", "\x00\x07", "\u200b", None, 42])
def test_an_empty_nickname_is_refused_with_a_message(empty):
    with pytest.raises(board.Refused, match="nickname"):
        rules.clean_nickname(empty)


def run(**changes):
    values = dict(
        lr=0.1, momentum=0.0, epochs=50, method="optimizer", optimizer="sgd", batch_size=None, start="zeros",
        final_loss=0.3, diverged=False,
    )  # fmt: skip
    values.update(changes)
    return board.SharedRun(**values)


def test_a_run_that_blew_up_has_no_final_loss():
    assert run(final_loss=math.inf, diverged=True).final_loss is None
    assert run(final_loss=math.nan, diverged=True).final_loss is None
    assert run(lr=1, epochs=3).lr == 1.0 and isinstance(run(lr=1).lr, float)


@pytest.mark.parametrize(
    "changes",
    [
        {"lr": math.nan},
        {"lr": -0.1},
        {"lr": "0.1"},
        {"momentum": math.inf},
        {"epochs": 0},
        {"epochs": 2.5},
        {"epochs": True},
        {"method": "<script>"},
        {"optimizer": "SGD; DROP TABLE"},
        {"batch_size": 0},
        {"start": ""},
        {"start": "x" * 65},
        {"diverged": "no"},
        {"challenge_met": 1},
        {"diverged_at": -1},
        {"steps_to_converge": 10**9},
        {"query": "lr=0.1&x=<script>"},
        {"query": "a=" + "1" * rules.QUERY_MAX},
        {"final_loss": "low"},
    ],
)
def test_a_run_with_a_value_the_playground_never_makes_is_refused(changes):
    with pytest.raises(board.Refused) as refused:
        run(**changes)
    assert isinstance(refused.value, ValueError) and str(refused.value).startswith("The run's")


def test_the_same_settings_give_the_same_digest_whatever_the_outcome():
    assert run().settings_digest() == run(final_loss=9.0, diverged=True).settings_digest()
    assert run().settings_digest() != run(lr=0.2).settings_digest()


def test_the_csv_escaping_quotes_only_text_that_a_spreadsheet_would_run():
    for formula in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert escape_cell(formula) == "'" + formula
    assert escape_cell("Ada") == "Ada" and escape_cell(-1.5) == -1.5 and escape_cell(None) is None


def test_every_message_is_a_sentence_for_a_person():
    assert "teacher" in str(board.NotAllowed()) and "expired" in str(board.NoSuchClass())
    assert "wait 3 s" in str(board.TooSoon(2.6)) and "300 runs" in str(board.BoardFull(300))
    down = board.Unavailable("OperationalError: connection refused")
    assert "connection refused" not in str(down) and "playground still works" in str(down)
    assert isinstance(down, board.BoardError) and not isinstance(down, ValueError)
