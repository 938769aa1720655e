"""The board's tables and every operation on them, through SQLAlchemy: the same functions on an SQLite file and on
PostgreSQL. Each function takes an `Engine` (a page passes `st.connection("board", type="sql").engine`).

- `prepare(engine)` once per engine: SQLite's settings (WAL, busy timeout), the tables, the schema version.
- Teacher: `create_class` -> code and key; `read_board`, `clear`, `runs_csv` need both.
- Student: `class_is_open(code)`, `share(code, nickname, run, session_id=...)`: append only.
- `purge`: boards older than a day go (also done by the other calls, at most once a minute).

Busy or unreachable: retried (board.faults), then `board.Unavailable`. A rule says no: `board.Refused`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Double,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    event,
    exc,
    func,
    insert,
    select,
    text,
    update,
)

from board import keys, rules
from board.errors import BoardError, BoardFull, NoSuchClass, NotAllowed, Refused, TooSoon
from board.export import runs_to_csv
from board.faults import TRANSIENT, with_retries
from board.records import OUTCOME, SETTINGS, SharedRun

SCHEMA_VERSION = 1
REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR_ENV = "PLAYGROUND_DATA_DIR"
SQLITE_BUSY_TIMEOUT_MS = 1000  # a writer waits this long for another; then board.faults retries
PURGE_EVERY_S = 60.0
log = logging.getLogger(__name__)
_PG_LOCK_KEY = 0x626F617264  # pg_advisory_xact_lock: one process at a time creates or migrates the tables

metadata = MetaData()

schema_table = Table(
    "board_schema",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one row
    Column("version", Integer, nullable=False),
    Column("migrated_at", Double, nullable=False),
)
classes = Table(
    "board_classes",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("key_digest", String(64), nullable=False),
    Column("lesson_query", String(rules.QUERY_MAX), nullable=False, default=""),
    Column("created_at", Double, nullable=False, index=True),
    Column("last_shared_at", Double),
)
runs = Table(
    "board_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("class_code", String(16), ForeignKey("board_classes.code", ondelete="CASCADE"), nullable=False),
    Column("idem_key", String(64), nullable=False),
    Column("nickname", String(64), nullable=False),
    Column("shared_at", Double, nullable=False),
    Column("lr", Double, nullable=False),
    Column("momentum", Double, nullable=False),
    Column("epochs", Integer, nullable=False),
    Column("method", String(rules.NAME_MAX), nullable=False),
    Column("optimizer", String(rules.NAME_MAX), nullable=False),
    Column("batch_size", Integer),
    Column("start", String(64), nullable=False),
    Column("query", String(rules.QUERY_MAX), nullable=False),
    Column("final_loss", Double),
    Column("diverged", Boolean, nullable=False),
    Column("diverged_at", Integer),
    Column("steps_to_converge", Integer),
    Column("challenge_met", Boolean),
    UniqueConstraint("class_code", "idem_key", name="board_runs_once"),
    Index("board_runs_by_class", "class_code", "id"),
)
share_times = Table(
    "board_share_times",
    metadata,
    Column("class_code", String(16), ForeignKey("board_classes.code", ondelete="CASCADE"), primary_key=True),
    Column("session", String(64), primary_key=True),  # a digest of the Streamlit session id, for the rate limit
    Column("last_at", Double, nullable=False),
)

# Migrations: MIGRATIONS[n](connection) turns schema n into n + 1 (none yet: version 1 is the first).
MIGRATIONS: dict[int, object] = {}


@dataclass(frozen=True)
class ClassKeys:
    """A new class: `code` for the students' link, `teacher_key` for the teacher's link only."""

    code: str
    teacher_key: str


@dataclass(frozen=True)
class Shared:
    """A share's answer: the run's row id; `duplicate` when the same run had been shared already (a double click)."""

    run_id: int
    duplicate: bool


@dataclass(frozen=True)
class BoardRun:
    """One row of the board: who (a nickname), when (epoch seconds), what (the run)."""

    run_id: int
    nickname: str
    shared_at: float
    run: SharedRun


@dataclass(frozen=True)
class Board:
    """What the teacher's page shows: the class, its lesson's query string, and its runs in the order shared."""

    code: str
    lesson_query: str
    created_at: float
    expires_at: float
    runs: list[BoardRun]


def default_url() -> str:
    """The SQLite file used when secrets.toml sets no URL: $PLAYGROUND_DATA_DIR/board.sqlite (default data/)."""
    data_dir = Path(os.environ.get(DATA_DIR_ENV) or REPO_ROOT / "data")
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'board.sqlite').resolve()}"


def connection_kwargs(secrets: Mapping[str, Any] | None) -> dict[str, str]:
    """Keyword arguments for `st.connection("board", type="sql", **kwargs)`: none when `secrets` (st.secrets as a
    dict; {} without a secrets.toml) has `[connections.board]` with a `url` or a `dialect`, else the default
    SQLite file's URL. (A `url` keyword would win over secrets.toml, so it is passed only when nothing is set.)"""
    section = ((secrets or {}).get("connections") or {}).get("board") or {}
    return {} if ("url" in section or "dialect" in section) else {"url": default_url()}


def _sqlite_settings(dbapi_connection, _record) -> None:
    """Every new SQLite connection: WAL (readers never wait for the writer), a busy timeout, foreign keys."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # a no-op for an in-memory database
        cursor.execute("PRAGMA synchronous = NORMAL")  # WAL's usual pairing: durable across a crash of the app
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _install_sqlite_settings(engine: Engine) -> None:
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_settings):
        event.listen(engine, "connect", _sqlite_settings)
        engine.dispose()  # connections opened before the listener would lack the settings


def prepare(engine: Engine) -> int:
    """Make the engine ready for the board: SQLite's settings, the tables, the schema version (migrated if older).
    Idempotent, safe for several processes at once. Returns the schema version."""
    _install_sqlite_settings(engine)
    for attempt in range(3):
        try:
            version = with_retries(lambda: _prepare_once(engine), "preparing the board's tables")
            break
        except exc.IntegrityError:  # another process inserted the version row first: look again
            if attempt == 2:
                raise
    purge(engine)
    return version


def _prepare_once(engine: Engine) -> int:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        metadata.create_all(conn, checkfirst=True)
        version = conn.execute(select(schema_table.c.version).where(schema_table.c.id == 1)).scalar()
        if version is None:
            conn.execute(insert(schema_table).values(id=1, version=SCHEMA_VERSION, migrated_at=time.time()))
            return SCHEMA_VERSION
        if version > SCHEMA_VERSION:
            raise BoardError(
                f"The class board's database was made by a newer playground (schema {version}; this one knows "
                f"{SCHEMA_VERSION}). Update the playground, or point it at another database."
            )
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](conn)  # type: ignore[operator]
            version += 1
            conn.execute(update(schema_table).values(version=version, migrated_at=time.time()))
        return version


def schema_version(engine: Engine) -> int | None:
    """The version recorded in the database (None before `prepare`)."""
    with engine.connect() as conn:
        return conn.execute(select(schema_table.c.version).where(schema_table.c.id == 1)).scalar()


def _now(now: float | None) -> float:
    return time.time() if now is None else float(now)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def create_class(engine: Engine, lesson_query: str = "", *, now: float | None = None) -> ClassKeys:
    """A new class for a lesson (its playground query string): a fresh class code and teacher key."""
    lesson = rules.clean_query(lesson_query, "lesson link")
    t = _now(now)
    _maybe_purge(engine, t)
    for _ in range(5):
        made = ClassKeys(keys.new_class_code(), keys.new_teacher_key())
        row = {"code": made.code, "key_digest": keys.key_digest(made.teacher_key), "lesson_query": lesson}

        def add(row=row) -> None:
            with engine.begin() as conn:
                conn.execute(insert(classes).values(**row, created_at=t))

        try:
            with_retries(add, "creating a class")
            return made
        except exc.IntegrityError:  # that code is taken (about one chance in 10**11): draw another
            continue
    raise BoardError("Could not make a new class code; try again.")


def class_is_open(engine: Engine, code: str, *, now: float | None = None) -> bool:
    """Does the code name a class whose board takes runs (made, not deleted, less than a day old)?"""
    found = keys.normalize_code(code)
    if found is None:
        return False
    t = _now(now)

    def look() -> bool:
        with engine.connect() as conn:
            query = select(classes.c.code).where(classes.c.code == found, classes.c.created_at > t - rules.BOARD_TTL_S)
            return conn.execute(query).first() is not None

    return with_retries(look, "looking up a class")


def share(
    engine: Engine,
    code: str,
    nickname: str,
    run: SharedRun,
    *,
    session_id: str,
    token: str | None = None,
    now: float | None = None,
) -> Shared:
    """Add a student's run to the class board (append only).

    `session_id`: the caller's session (Streamlit's), for the rate limit; only its digest is stored. `token`: a
    client token that makes a resubmission the same share; without it, the same session sharing the same settings
    again is the same share. Raises `NoSuchClass`, `TooSoon`, `BoardFull`, `Refused` (a bad nickname or run),
    `Unavailable`."""
    found = keys.normalize_code(code)
    if found is None:
        raise NoSuchClass()
    if not isinstance(run, SharedRun):
        raise TypeError("share() takes a board.SharedRun")
    if not isinstance(session_id, str) or not session_id:
        raise ValueError("share() needs the caller's session id")
    nick = rules.clean_nickname(nickname)
    session = _digest("session", session_id)
    idem_key = _digest("token", token) if token else _digest("run", session_id, run.settings_digest())
    t = _now(now)
    _maybe_purge(engine, t)
    for attempt in range(2):
        try:
            return with_retries(lambda: _share_once(engine, found, nick, run, session, idem_key, t), "sharing a run")
        except exc.IntegrityError:  # a concurrent twin got in first: the second try sees it
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


def _share_once(engine: Engine, code: str, nick: str, run: SharedRun, session: str, idem_key: str, t: float) -> Shared:
    with engine.begin() as conn:
        # First a write to the class's row: it locks that row (PostgreSQL) or the database (SQLite) until the commit,
        # so the checks below and the insert are one step for every share of this class.
        touched = conn.execute(
            update(classes)
            .where(classes.c.code == code, classes.c.created_at > t - rules.BOARD_TTL_S)
            .values(last_shared_at=t)
        ).rowcount
        if touched != 1:
            raise NoSuchClass()
        twin = conn.execute(select(runs.c.id).where(runs.c.class_code == code, runs.c.idem_key == idem_key)).scalar()
        if twin is not None:
            return Shared(int(twin), duplicate=True)
        last = conn.execute(
            select(share_times.c.last_at).where(share_times.c.class_code == code, share_times.c.session == session)
        ).scalar()
        if last is not None and t - last < rules.SHARE_INTERVAL_S:
            raise TooSoon(min(rules.SHARE_INTERVAL_S, rules.SHARE_INTERVAL_S - (t - last)))
        held = conn.execute(select(func.count()).select_from(runs).where(runs.c.class_code == code)).scalar_one()
        if held >= rules.RUNS_PER_CLASS_MAX:
            raise BoardFull(rules.RUNS_PER_CLASS_MAX)
        if last is None:
            conn.execute(insert(share_times).values(class_code=code, session=session, last_at=t))
        else:
            conn.execute(
                update(share_times)
                .where(share_times.c.class_code == code, share_times.c.session == session)
                .values(last_at=t)
            )
        added = conn.execute(
            insert(runs).values(class_code=code, idem_key=idem_key, nickname=nick, shared_at=t, **run.fields())
        )
        return Shared(int(added.inserted_primary_key[0]), duplicate=False)


def _authorize(conn: Connection, code: str, teacher_key: str, t: float) -> tuple[str, object]:
    """The class's row when the teacher key opens it; `NotAllowed` otherwise (the same for every reason)."""
    found = keys.normalize_code(code)
    row = None
    if found is not None:
        row = conn.execute(
            select(classes).where(classes.c.code == found, classes.c.created_at > t - rules.BOARD_TTL_S)
        ).first()
    if not keys.key_matches(teacher_key, row.key_digest if row is not None else None):
        raise NotAllowed()
    return found, row


def read_board(engine: Engine, code: str, teacher_key: str, *, now: float | None = None) -> Board:
    """The class's board for its teacher: the lesson and every run, oldest first. `NotAllowed` without the key."""
    t = _now(now)
    _maybe_purge(engine, t)

    def read() -> Board:
        with engine.connect() as conn:
            found, row = _authorize(conn, code, teacher_key, t)
            rows = conn.execute(select(runs).where(runs.c.class_code == found).order_by(runs.c.id)).all()
        entries = [BoardRun(r.id, r.nickname, r.shared_at, _run_of(r)) for r in rows]
        return Board(found, row.lesson_query, row.created_at, row.created_at + rules.BOARD_TTL_S, entries)

    return with_retries(read, "reading the class board")


def _run_of(row) -> SharedRun:
    return SharedRun(**{name: getattr(row, name) for name in SETTINGS + OUTCOME})


def clear(engine: Engine, code: str, teacher_key: str, *, now: float | None = None) -> int:
    """Delete every run of the class (the class stays open). Returns how many. `NotAllowed` without the key."""
    t = _now(now)

    def wipe() -> int:
        with engine.begin() as conn:
            found, _ = _authorize(conn, code, teacher_key, t)
            conn.execute(delete(share_times).where(share_times.c.class_code == found))
            return conn.execute(delete(runs).where(runs.c.class_code == found)).rowcount

    return with_retries(wipe, "clearing the class board")


def runs_csv(engine: Engine, code: str, teacher_key: str, *, now: float | None = None) -> str:
    """The board as CSV text for the teacher's download (cells escaped for spreadsheets)."""
    return runs_to_csv(read_board(engine, code, teacher_key, now=now).runs)


def purge(engine: Engine, *, now: float | None = None) -> int:
    """Delete the boards older than a day, with their runs. Returns how many boards went."""
    return with_retries(lambda: _purge_once(engine, _now(now)), "deleting old class boards")


def _purge_once(engine: Engine, t: float) -> int:
    cutoff = t - rules.BOARD_TTL_S
    with engine.begin() as conn:
        old = select(classes.c.code).where(classes.c.created_at <= cutoff)
        conn.execute(delete(runs).where(runs.c.class_code.in_(old)))
        conn.execute(delete(share_times).where(share_times.c.class_code.in_(old)))
        return conn.execute(delete(classes).where(classes.c.created_at <= cutoff)).rowcount


_last_purge: dict[str, float] = {}
_purge_lock = threading.Lock()


def _maybe_purge(engine: Engine, t: float) -> None:
    """`purge`, at most once a minute per database in this process; one try, and a busy database skips it (the
    call that asked goes on: old boards are closed anyway, and the next minute deletes them)."""
    key = engine.url.render_as_string(hide_password=True)
    with _purge_lock:
        last = _last_purge.get(key)
        if last is not None and 0 <= t - last < PURGE_EVERY_S:
            return
        _last_purge[key] = t
    try:
        _purge_once(engine, t)
    except TRANSIENT as err:
        log.info("class board: old boards not deleted this time: %s", err)


__all__ = [
    "Board",
    "BoardRun",
    "ClassKeys",
    "Refused",
    "Shared",
    "class_is_open",
    "clear",
    "connection_kwargs",
    "create_class",
    "default_url",
    "prepare",
    "purge",
    "read_board",
    "runs_csv",
    "schema_version",
    "share",
]
