"""The class board: runs that students share with their class, and the teacher's view of them, kept in a database.

What belongs here: the board's storage and its rules (who may read, how often a student may share, how many runs
a class holds, how long a board lives), with no Streamlit and no PyTorch in it. Pages open the database with
`st.connection("board", type="sql", **board.connection_kwargs(secrets))` (the URL is a setting in
.streamlit/secrets.toml, `[connections.board] url = ...`; without one, an SQLite file in data/), call
`board.prepare(conn.engine)` once per process and hand the engine to the functions below; the tests hand them
an engine of their own, an SQLite file or a PostgreSQL server.

- `keys`: class codes (for the students' link) and teacher keys (for the teacher's link only)
- `records`: what a shared run holds (its settings, its outcome), validated
- `rules`: nicknames, the caps and their messages
- `errors`: the error types a page turns into a plain message
- `faults`: retrying a busy database, then `Unavailable`
- `export`: the board as CSV that a spreadsheet does not execute
- `store`: the tables and every operation on them
"""

from board.errors import BoardError, BoardFull, NoSuchClass, NotAllowed, Refused, TooSoon, Unavailable
from board.records import SharedRun
from board.store import (
    Board,
    BoardRun,
    ClassKeys,
    Shared,
    class_is_open,
    clear,
    connection_kwargs,
    create_class,
    default_url,
    prepare,
    purge,
    read_board,
    runs_csv,
    share,
)

__all__ = [
    "Board",
    "BoardError",
    "BoardFull",
    "BoardRun",
    "ClassKeys",
    "NoSuchClass",
    "NotAllowed",
    "Refused",
    "Shared",
    "SharedRun",
    "TooSoon",
    "Unavailable",
    "class_is_open",
    "clear",
    "connection_kwargs",
    "create_class",
    "default_url",
    "prepare",
    "purge",
    "read_board",
    "runs_csv",
    "share",
]
