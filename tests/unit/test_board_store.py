"""The class board's storage on real databases: an SQLite file and a throwaway PostgreSQL server (tests/pg.py), the
same tests on both. No mocks: concurrency with real threads and processes, a real lock, a real server stopped.

PostgreSQL that cannot start fails the PostgreSQL tests under CI (CI=true); elsewhere they skip, saying why.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, func, select

import board
from board import rules, store
from tests import pg

STUDENTS = 60


def a_run(**changes) -> board.SharedRun:
    values = dict(
        lr=0.05, momentum=0.5, epochs=100, method="optimizer", optimizer="sgd", batch_size=None, start="zeros",
        final_loss=0.251, diverged=False, diverged_at=None, steps_to_converge=42, challenge_met=True,
        query="lr=0.05&momentum=0.5&epochs=100",
    )  # fmt: skip
    values.update(changes)
    return board.SharedRun(**values)


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.PostgresServer]:
    try:
        server = pg.start_server()
    except (pg.PostgresError, OSError, subprocess.SubprocessError) as err:
        reason = f"PostgreSQL could not be started for the board's tests: {err}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    yield server
    server.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'board.sqlite'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def engine(url) -> Iterator[Engine]:
    made = create_engine(url)
    board.prepare(made)
    yield made
    made.dispose()


def count_runs(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(store.runs)).scalar_one()


# --- the tables --------------------------------------------------------------------------------------------------


def test_prepare_records_the_schema_version_and_can_run_again(engine, url):
    assert store.schema_version(engine) == store.SCHEMA_VERSION == 1
    assert board.prepare(engine) == 1
    other = create_engine(url)  # another process starting on the same database
    try:
        assert board.prepare(other) == 1
    finally:
        other.dispose()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(store.schema_table)).scalar_one() == 1


def test_a_database_from_a_newer_playground_is_refused(engine):
    with engine.begin() as conn:
        conn.execute(store.schema_table.update().values(version=99))
    with pytest.raises(board.BoardError, match="newer playground"):
        board.prepare(engine)


def test_the_sqlite_file_is_in_wal_mode(tmp_path):
    path = tmp_path / "board.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    board.prepare(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == store.SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # WAL stays with the file


def test_the_default_database_is_an_sqlite_file_in_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv(store.DATA_DIR_ENV, str(tmp_path / "data"))
    url = board.default_url()
    assert url == f"sqlite:///{tmp_path / 'data' / 'board.sqlite'}"
    engine = create_engine(url)
    try:
        board.prepare(engine)
    finally:
        engine.dispose()
    assert (tmp_path / "data" / "board.sqlite").exists()


def test_the_connection_uses_secrets_toml_when_it_names_a_database(tmp_path, monkeypatch):
    monkeypatch.setenv(store.DATA_DIR_ENV, str(tmp_path))
    default = {"url": f"sqlite:///{tmp_path / 'board.sqlite'}"}
    assert board.connection_kwargs(None) == board.connection_kwargs({}) == default
    assert board.connection_kwargs({"connections": {"other": {"url": "x"}}}) == default
    assert board.connection_kwargs({"connections": {"board": {"url": "postgresql+psycopg://h/db"}}}) == {}
    assert board.connection_kwargs({"connections": {"board": {"dialect": "postgresql", "host": "h"}}}) == {}


# --- teacher and students ------------------------------------------------------------------------------------------


def test_the_teacher_reads_what_students_shared(engine):
    keys = board.create_class(engine, "?dataset=line&lr=0.1&challenge=loss:0.3")
    assert board.class_is_open(engine, keys.code) and board.class_is_open(engine, keys.code.lower())
    good = a_run()
    blew_up = a_run(lr=1.5, final_loss=float("inf"), diverged=True, diverged_at=7, steps_to_converge=None,
                    challenge_met=False, batch_size=8, optimizer="adam")  # fmt: skip
    first = board.share(engine, keys.code, "Ada", good, session_id="s1")
    second = board.share(engine, keys.code, "Grace", blew_up, session_id="s2")
    assert not first.duplicate and not second.duplicate and first.run_id != second.run_id

    seen = board.read_board(engine, keys.code, keys.teacher_key)
    assert seen.code == keys.code and seen.lesson_query == "dataset=line&lr=0.1&challenge=loss:0.3"
    assert seen.expires_at - seen.created_at == rules.BOARD_TTL_S
    assert [(r.nickname, r.run) for r in seen.runs] == [("Ada", good), ("Grace", blew_up)]
    assert seen.runs[1].run.final_loss is None and seen.runs[1].run.diverged_at == 7
    assert abs(seen.runs[0].shared_at - time.time()) < 60


def test_clearing_empties_the_board_and_the_class_takes_runs_again(engine):
    keys = board.create_class(engine)
    for i in range(3):
        board.share(engine, keys.code, f"s{i}", a_run(lr=0.01 * (i + 1)), session_id=f"s{i}")
    assert board.clear(engine, keys.code, keys.teacher_key) == 3
    assert board.read_board(engine, keys.code, keys.teacher_key).runs == []
    board.share(engine, keys.code, "again", a_run(), session_id="s0")  # the rate limit went with the runs
    assert len(board.read_board(engine, keys.code, keys.teacher_key).runs) == 1


@pytest.mark.parametrize("wrong", [None, "", "not-the-key", "CODE", "OTHER_KEY", "KEY_PREFIX"])
def test_no_key_a_wrong_key_or_a_class_code_cannot_read_clear_or_download(engine, wrong):
    keys = board.create_class(engine)
    other = board.create_class(engine)
    board.share(engine, keys.code, "Ada", a_run(), session_id="s1")
    given = {"CODE": keys.code, "OTHER_KEY": other.teacher_key, "KEY_PREFIX": keys.teacher_key[:-1]}.get(wrong, wrong)
    answers = set()
    for action in (board.read_board, board.clear, board.runs_csv):
        with pytest.raises(board.NotAllowed) as refused:
            action(engine, keys.code, given)
        answers.add(str(refused.value))
    # An unknown class with a key gets the very same answer: nothing tells a code or key apart.
    with pytest.raises(board.NotAllowed) as unknown:
        board.read_board(engine, "ZZZZZZZZ", keys.teacher_key)
    answers.add(str(unknown.value))
    assert answers == {str(board.NotAllowed())}
    assert len(board.read_board(engine, keys.code, keys.teacher_key).runs) == 1  # nothing was cleared


def test_a_student_cannot_share_to_an_unknown_class(engine):
    for code in ("ZZZZZZZZ", "", "not a code", None):
        assert not board.class_is_open(engine, code)
        with pytest.raises(board.NoSuchClass, match="ask your teacher"):
            board.share(engine, code, "Ada", a_run(), session_id="s1")
    assert count_runs(engine) == 0


def test_html_and_script_nicknames_are_stored_as_plain_text(engine):
    keys = board.create_class(engine)
    names = {
        "s1": "<script>alert(1)</script>",
        "s2": "<b>bold</b> &amp; *md*",
        "s3": "Ada\u202e\x00\x1b[31m\nLovelace",  # a bidi override, NUL, an escape sequence, a new line
        "s4": '=HYPERLINK("http://x")',
        "s5": "x" * 100,
    }
    for session, name in names.items():
        board.share(engine, keys.code, name, a_run(), session_id=session)
    stored = [r.nickname for r in board.read_board(engine, keys.code, keys.teacher_key).runs]
    assert stored == [
        "<script>alert(1)</script>"[: rules.NICKNAME_MAX],
        "<b>bold</b> &amp; *md*",
        "Ada[31m Lovelace",
        '=HYPERLINK("http://x")',
        "x" * rules.NICKNAME_MAX,
    ]
    for empty in ("", "   ", "\x00\u200b", None):
        with pytest.raises(board.Refused, match="nickname"):
            board.share(engine, keys.code, empty, a_run(lr=0.3), session_id="s9")


def test_the_csv_download_escapes_formulas(engine):
    keys = board.create_class(engine)
    board.share(engine, keys.code, "=cmd|' /C calc'!A0", a_run(), session_id="s1")
    board.share(engine, keys.code, "@SUM(A1)", a_run(diverged=True, final_loss=None, diverged_at=3), session_id="s2")
    rows = list(csv.DictReader(io.StringIO(board.runs_csv(engine, keys.code, keys.teacher_key))))
    assert [r["nickname"] for r in rows] == ["'=cmd|' /C calc'!A0", "'@SUM(A1)"]
    assert rows[0]["lr"] == "0.05" and rows[0]["diverged"] == "no" and rows[1]["diverged"] == "yes"
    assert rows[1]["final_loss"] == "" and rows[1]["diverged_at"] == "3" and rows[0]["batch_size"] == ""
    assert rows[0]["shared_at_utc"].endswith("+00:00")


# --- the caps ----------------------------------------------------------------------------------------------------


def test_a_session_shares_at_most_once_every_few_seconds(engine):
    keys = board.create_class(engine)
    t = time.time()
    board.share(engine, keys.code, "Ada", a_run(lr=0.1), session_id="s1", now=t)
    with pytest.raises(board.TooSoon, match=r"wait \d+ s") as refused:
        board.share(engine, keys.code, "Ada", a_run(lr=0.2), session_id="s1", now=t + 1)
    assert 0 < refused.value.wait_s <= rules.SHARE_INTERVAL_S
    board.share(engine, keys.code, "Grace", a_run(lr=0.2), session_id="s2", now=t + 1)  # another student
    board.share(engine, keys.code, "Ada", a_run(lr=0.2), session_id="s1", now=t + rules.SHARE_INTERVAL_S + 0.1)
    assert len(board.read_board(engine, keys.code, keys.teacher_key).runs) == 3


@pytest.mark.slow
def test_a_full_board_says_so(engine):
    keys = board.create_class(engine)
    for i in range(rules.RUNS_PER_CLASS_MAX):
        board.share(engine, keys.code, f"s{i}", a_run(lr=0.001 * (i + 1)), session_id=f"s{i}")
    with pytest.raises(board.BoardFull, match=f"full \\({rules.RUNS_PER_CLASS_MAX} runs\\).*clear") as full:
        board.share(engine, keys.code, "late", a_run(), session_id="late")
    assert isinstance(full.value, ValueError)  # a page shows it like any learner's error
    assert count_runs(engine) == rules.RUNS_PER_CLASS_MAX


def test_a_double_submit_shares_one_run(engine):
    keys = board.create_class(engine)
    first = board.share(engine, keys.code, "Ada", a_run(), session_id="s1")
    again = board.share(engine, keys.code, "Ada", a_run(), session_id="s1")  # a double click: not "too soon"
    assert again == board.Shared(first.run_id, duplicate=True)
    # The same client token is the same share, whatever else; a new token is a new share (after the interval).
    t = time.time() + 10
    one = board.share(engine, keys.code, "Grace", a_run(lr=0.3), session_id="s2", token="tab-1", now=t)
    two = board.share(engine, keys.code, "Grace", a_run(lr=0.3), session_id="s2", token="tab-1", now=t + 0.1)
    assert two == board.Shared(one.run_id, duplicate=True)
    assert count_runs(engine) == 2


def test_many_clicks_at_once_share_one_run(engine):
    keys = board.create_class(engine)
    barrier = threading.Barrier(10)
    answers, errors = [], []

    def click() -> None:
        barrier.wait()
        try:
            answers.append(board.share(engine, keys.code, "Ada", a_run(), session_id="s1"))
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({a.run_id for a in answers}) == 1 and sum(not a.duplicate for a in answers) == 1
    assert count_runs(engine) == 1


def test_sixty_students_sharing_at_once_give_sixty_rows(engine):
    keys = board.create_class(engine)
    barrier = threading.Barrier(STUDENTS)
    answers, errors = [], []

    def student(i: int) -> None:
        barrier.wait()
        try:
            answers.append(
                board.share(engine, keys.code, f"student {i}", a_run(lr=0.001 * (i + 1)), session_id=f"s{i}")
            )
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(STUDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seen = board.read_board(engine, keys.code, keys.teacher_key).runs
    assert len(seen) == STUDENTS == len({a.run_id for a in answers})
    assert sorted(r.nickname for r in seen) == sorted(f"student {i}" for i in range(STUDENTS))


def _student_process(url: str, code: str, i: int, barrier, results) -> None:
    engine = create_engine(url)
    try:
        board.prepare(engine)
        barrier.wait(timeout=120)
        shared = board.share(engine, code, f"student {i}", a_run(lr=0.001 * (i + 1)), session_id=f"p{i}")
        results.put(("ok", shared.run_id))
    except Exception as err:  # noqa: BLE001 - reported to the parent
        results.put(("error", repr(err)))
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sixty_student_processes_sharing_at_once_on_sqlite_give_sixty_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'board.sqlite'}"
    engine = create_engine(url)
    board.prepare(engine)
    keys = board.create_class(engine)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(STUDENTS), context.Queue()
    processes = [
        context.Process(target=_student_process, args=(url, keys.code, i, barrier, results)) for i in range(STUDENTS)
    ]
    for process in processes:
        process.start()
    answers = [results.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert [a for a in answers if a[0] != "ok"] == []
    assert len({run_id for _, run_id in answers}) == STUDENTS
    seen = board.read_board(engine, keys.code, keys.teacher_key).runs
    assert sorted(r.nickname for r in seen) == sorted(f"student {i}" for i in range(STUDENTS))
    engine.dispose()


# --- a day, a restart, faults -------------------------------------------------------------------------------------


def old_board(engine: Engine, t: float) -> board.ClassKeys:
    """A board made a day and an hour before `t`, with one run."""
    old = board.create_class(engine, now=t - rules.BOARD_TTL_S - 3600)
    board.share(engine, old.code, "Ada", a_run(), session_id="s1", now=t - rules.BOARD_TTL_S - 3000)
    return old


def runs_of(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(store.runs).where(store.runs.c.class_code == code)
        return conn.execute(query).scalar_one()


def test_boards_older_than_a_day_are_deleted_with_their_runs(engine):
    t = time.time()
    old = old_board(engine, t)
    assert board.purge(engine, now=t - rules.BOARD_TTL_S - 1000) == 0  # not a day old yet, then
    # Past its day, a board is closed even before the purge runs.
    assert not board.class_is_open(engine, old.code, now=t)
    assert board.purge(engine, now=t) == 1
    assert runs_of(engine, old.code) == 0
    with engine.connect() as conn:
        assert old.code not in set(conn.execute(select(store.classes.c.code)).scalars())
    with pytest.raises(board.NotAllowed):
        board.read_board(engine, old.code, old.teacher_key)
    with pytest.raises(board.NoSuchClass):
        board.share(engine, old.code, "Ada", a_run(lr=0.9), session_id="s2")


def test_the_other_calls_delete_old_boards_too(engine):
    old = old_board(engine, time.time())
    fresh = board.create_class(engine)  # the first call of the day in this process purges
    board.share(engine, fresh.code, "Grace", a_run(), session_id="s1")
    assert runs_of(engine, old.code) == 0 and not board.class_is_open(engine, old.code)
    assert [r.nickname for r in board.read_board(engine, fresh.code, fresh.teacher_key).runs] == ["Grace"]


def test_a_restart_keeps_the_board(engine, url):
    keys = board.create_class(engine, "lr=0.1")
    board.share(engine, keys.code, "Ada", a_run(), session_id="s1")
    engine.dispose()  # the server process goes away ...
    restarted = create_engine(url)  # ... and a new one opens the same database
    try:
        assert board.prepare(restarted) == 1
        seen = board.read_board(restarted, keys.code, keys.teacher_key)
        assert seen.lesson_query == "lr=0.1" and [r.nickname for r in seen.runs] == ["Ada"]
    finally:
        restarted.dispose()


def test_a_locked_sqlite_database_is_retried_then_unavailable(tmp_path):
    path = tmp_path / "board.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    board.prepare(engine)
    keys = board.create_class(engine)
    holder = sqlite3.connect(path, timeout=0, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    try:
        started = time.monotonic()
        with pytest.raises(board.Unavailable, match="Cannot reach the class board's database") as down:
            board.share(engine, keys.code, "Ada", a_run(), session_id="s1")
        waited = time.monotonic() - started
        assert isinstance(down.value, board.BoardError) and "locked" in down.value.detail
        assert 1 < waited < 8, waited  # retried, then a plain answer within seconds
        # Released during the retries: the share goes through.
        threading.Timer(0.5, holder.rollback).start()
        assert not board.share(engine, keys.code, "Ada", a_run(), session_id="s1").duplicate
    finally:
        holder.close()
        engine.dispose()
    reopened = create_engine(f"sqlite:///{path}")
    assert len(board.read_board(reopened, keys.code, keys.teacher_key).runs) == 1
    reopened.dispose()


def test_postgresql_down_is_unavailable_and_the_board_survives_its_restart(postgres):
    url = postgres.new_database()
    engine = create_engine(url)
    board.prepare(engine)
    keys = board.create_class(engine)
    board.share(engine, keys.code, "Ada", a_run(), session_id="s1")
    postgres.stop()
    try:
        for action in (
            lambda: board.share(engine, keys.code, "Grace", a_run(), session_id="s2"),
            lambda: board.read_board(engine, keys.code, keys.teacher_key),
            lambda: board.class_is_open(engine, keys.code),
            lambda: board.create_class(engine),
        ):
            started = time.monotonic()
            with pytest.raises(board.Unavailable, match="Cannot reach"):
                action()
            assert time.monotonic() - started < 10
    finally:
        postgres.start()
    # The pooled connections died with the server; the next call reconnects.
    assert [r.nickname for r in board.read_board(engine, keys.code, keys.teacher_key).runs] == ["Ada"]
    board.share(engine, keys.code, "Grace", a_run(), session_id="s2")
    assert len(board.read_board(engine, keys.code, keys.teacher_key).runs) == 2
    engine.dispose()


def test_no_postgresql_server_at_all_is_unavailable(tmp_path):
    engine = create_engine(f"postgresql+psycopg://board@/postgres?host={tmp_path}&port=5432")
    with pytest.raises(board.Unavailable, match="Cannot reach"):
        board.prepare(engine)
    engine.dispose()
