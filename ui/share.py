"""The playground's "Share with the class" control: shown when the student's link carries the code of an open class
(a lesson link made with a class on the Lesson link page).

A share holds a nickname (plain text, 24 characters at most), the run's settings and outcome, and its link; nothing
else about the student. A double click shares one run (a token per run and session); the board's rules answer with
a plain message (too soon, full, expired); a database that does not answer costs the playground nothing but this
control's message.
"""

from __future__ import annotations

import secrets
import time

import streamlit as st

import board
from board.rules import NICKNAME_MAX
from compute import classboard, runs
from settings import lesson

NICKNAME = "share_nickname"
SESSION_TOKEN = "share_session_token"
OPEN = "share_class_open"  # {class code: time it was found open}
SHARED = "share_done"  # {token: run id}: the runs this session put on the board
CHECK_EVERY_S = 60.0  # how long a class found open is taken to stay open before asking the database again


def _session_id() -> str:
    """This browser session's id (Streamlit's), for the board's rate limit; the board keeps only a digest."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return getattr(ctx, "session_id", None) or st.session_state.setdefault(SESSION_TOKEN, secrets.token_hex(16))


def _token(run: board.SharedRun) -> str:
    """One token per run and session: a double click, or the same run shared again, is the same share."""
    session = st.session_state.setdefault(SESSION_TOKEN, secrets.token_hex(16))
    return f"{session}:{run.settings_digest()}"


def _class_open(code: str) -> bool:
    """Is the class open? Asked once a minute per session (board.Unavailable when the database does not answer)."""
    found = st.session_state.setdefault(OPEN, {})
    if time.monotonic() - found.get(code, -CHECK_EVERY_S) < CHECK_EVERY_S:
        return True
    is_open = classboard.class_is_open(code)
    if is_open:
        found[code] = time.monotonic()
    return is_open


def offer(result: runs.RunResult, values: dict, lesson_: lesson.Lesson) -> None:
    """The share control under the run, when this session's link names an open class; else nothing, or why not."""
    code = lesson_.class_code
    if code is None:
        return
    try:
        if not _class_open(code):
            st.warning(str(board.NoSuchClass()), icon="📣")
            return
        run = classboard.shared_run(result, values, lesson_)
    except board.BoardError as err:  # the database is down, or this run cannot be shared: the playground goes on
        st.caption(f"📣 Sharing with the class: {err}")
        return
    token = _token(run)
    done = st.session_state.setdefault(SHARED, {})
    with st.container(border=True):
        st.markdown(
            f"**📣 Share this run with class {code}**: your nickname, these settings and the result go on the "
            "teacher's board (nothing else about you)."
        )
        left, right = st.columns([3, 2], vertical_alignment="bottom")
        nickname = left.text_input(
            "Nickname", max_chars=NICKNAME_MAX, key=NICKNAME, placeholder="e.g. Ada", help="Plain text, for your class"
        )
        clicked = right.button("Share with the class", key="share_button", type="primary", width="stretch")
        if clicked:
            try:
                shared = classboard.share(code, nickname, run, _session_id(), token)
            except board.BoardError as err:  # too soon, full, expired, a bad nickname, the database down
                if isinstance(err, board.NoSuchClass):
                    st.session_state[OPEN].pop(code, None)
                st.warning(str(err), icon="📣")
                return
            done[token] = shared.run_id
            if shared.duplicate:
                st.info("This run is already on the class board.", icon="📣")
            else:
                st.success("Shared: your run is on the class board.", icon="📣")
        elif token in done:
            st.caption("You shared this run. Change a setting to try another.")
