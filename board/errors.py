"""The board's error types. Every message is a sentence a page can show as it is (`st.warning(str(err))`)."""

from __future__ import annotations


class BoardError(Exception):
    """Anything the board refuses or cannot do; the message is meant for the student or the teacher."""


class Refused(BoardError, ValueError):
    """A rule said no (a bad nickname, too soon, a full board, a wrong key): acting on the message helps."""


class NotAllowed(Refused):
    """No teacher key, a wrong one, or a student's class code where the key belongs: one answer for all three."""

    def __init__(self) -> None:
        super().__init__("This class board opens only with the teacher's link (its teacher key).")


class NoSuchClass(Refused):
    """The class code names no open class: never made, deleted, or older than a day."""

    def __init__(self) -> None:
        super().__init__(
            "This class link has expired or does not exist (class boards last a day): ask your teacher for a new one."
        )


class TooSoon(Refused):
    """The same session shared a run a moment ago."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        seconds = max(1, round(wait_s))
        super().__init__(f"You shared a run a moment ago: wait {seconds} s, then share again.")


class BoardFull(Refused):
    """The class holds as many runs as a board may."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"The class board is full ({limit} runs): ask your teacher to clear it.")


class Unavailable(BoardError, RuntimeError):
    """The database did not answer (busy past the retries, or down). The playground works on without the board."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(
            "Cannot reach the class board's database right now; the playground still works. Try again soon."
        )
