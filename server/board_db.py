"""The class board's database, opened once per process through Streamlit's SQL connection.

`st.connection("board", type="sql")` reads `[connections.board]` in .streamlit/secrets.toml (a PostgreSQL URL when
several processes or machines serve a class); without it, the SQLite file in $PLAYGROUND_DATA_DIR (default data/).
`board.prepare` makes the tables once per process. When the database does not answer, the process stops asking it
for `DOWN_PAUSE_S` seconds: every call in that time raises `board.Unavailable` at once, so a page that offers the
board (the playground's share control) never waits on a dead database more than once in a while.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st
from sqlalchemy import Engine

import board

T = TypeVar("T")
log = logging.getLogger(__name__)
DOWN_PAUSE_S = 30.0  # after the database failed to answer, how long this process answers "unavailable" at once
_down_until = 0.0
_lock = threading.Lock()


def _secrets() -> dict:
    """st.secrets as a dict; {} when there is no secrets.toml (Streamlit raises then)."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:
        return {}


@st.cache_resource(show_spinner=False)
def _prepared(kwargs: tuple[tuple[str, str], ...]) -> Engine:
    """The connection's engine with the board's tables ready (once per process and database; a failure is not
    cached). `kwargs`: board.connection_kwargs, as a cache key (the default SQLite file's URL follows
    $PLAYGROUND_DATA_DIR)."""
    conn = st.connection("board", type="sql", **dict(kwargs))
    board.prepare(conn.engine)
    return conn.engine


def engine() -> Engine:
    """The board's database engine, ready (`board.Unavailable`, or Streamlit's error for a bad configuration)."""
    return _prepared(tuple(sorted(board.connection_kwargs(_secrets()).items())))


def _mark_down() -> None:
    global _down_until
    with _lock:
        _down_until = time.monotonic() + DOWN_PAUSE_S


def is_paused() -> bool:
    """Has the database failed within the last DOWN_PAUSE_S seconds (so calls answer `Unavailable` at once)?"""
    return time.monotonic() < _down_until


def resume() -> None:
    """Forget a recent failure (tests; an operator's fix): the next call asks the database again."""
    global _down_until
    with _lock:
        _down_until = 0.0


def call(operation: Callable[..., T], *args, **kwargs) -> T:
    """`operation(engine, *args, **kwargs)` on the board's database (a `board` function). Raises `board.Unavailable`
    when the database does not answer (and then at once for DOWN_PAUSE_S), `board.Refused` when a rule says no."""
    if is_paused():
        raise board.Unavailable("paused after a recent failure")
    try:
        return operation(engine(), *args, **kwargs)
    except board.Unavailable:
        _mark_down()
        raise
    except board.BoardError:
        raise
    except Exception as err:  # a URL that names no database, a driver that is not installed: the board is off
        log.warning("class board: the database cannot be opened: %s: %s", type(err).__name__, err)
        _mark_down()
        raise board.Unavailable(f"{type(err).__name__}: {err}") from err
