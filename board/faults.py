"""A busy or absent database: retry a few times with a short back-off, then `Unavailable`.

SQLite answers "database is locked" when another writer holds it past the busy timeout; PostgreSQL refuses the
connection while it is down, and a pooled connection fails once after it restarts. All of these are transient: the
operation runs again on a fresh connection. A page gets an answer within a few seconds, either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc

from board.errors import Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

DELAYS_S = (0.1, 0.5)  # the back-off between tries: three tries (SQLite waits up to its busy timeout in each)
TRANSIENT = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError)


def with_retries(operation: Callable[[], T], what: str, delays: tuple[float, ...] = DELAYS_S) -> T:
    """`operation()`, again after each delay while the database is busy or unreachable; then `Unavailable`."""
    for attempt in range(len(delays) + 1):
        try:
            return operation()
        except TRANSIENT as err:
            if attempt == len(delays):
                log.warning("class board: %s failed after %d tries: %s", what, attempt + 1, err)
                raise Unavailable(f"{what}: {err}") from err
            time.sleep(delays[attempt])
    raise AssertionError("unreachable")
