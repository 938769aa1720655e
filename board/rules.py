"""The rules that protect students: plain-text nicknames, how often a session may share, how many runs a class holds
and how long a board lives. The numbers are here, once; `store` enforces them."""

from __future__ import annotations

import re
import unicodedata

from board.errors import Refused

NICKNAME_MAX = 24  # characters
SHARE_INTERVAL_S = 5.0  # a session shares at most once per this many seconds
RUNS_PER_CLASS_MAX = 300
BOARD_TTL_S = 24 * 3600.0  # boards older than this are deleted
QUERY_MAX = 2000  # characters of a lesson's or a run's playground query string
NAME_MAX = 32  # a method's or optimizer's name

_SPACES = re.compile(r"\s+")
_QUERY = re.compile(r"[A-Za-z0-9_.~%+&=,:;()\[\]*!'/?@$-]*")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def strip_controls(text: str) -> str:
    """Text without control, format (bidi overrides, zero-width), surrogate or unassigned characters."""
    return "".join(c for c in text if not unicodedata.category(c).startswith("C"))


def clean_nickname(nickname: object) -> str:
    """The nickname as stored: plain text, one line, spaces collapsed, at most NICKNAME_MAX characters.

    It stays text: a page shows it escaped (a table cell, `st.text`), never as HTML or Markdown."""
    if not isinstance(nickname, str):
        raise Refused("Type a nickname so that your teacher can tell the runs apart.")
    text = unicodedata.normalize("NFC", nickname)
    text = _SPACES.sub(" ", strip_controls(_SPACES.sub(" ", text))).strip()  # line breaks and tabs: a space
    text = text[:NICKNAME_MAX].rstrip()
    if not text:
        raise Refused(f"Type a nickname (up to {NICKNAME_MAX} characters) so your teacher can tell the runs apart.")
    return text


def clean_query(query: object, what: str = "link") -> str:
    """A playground query string ('lr=0.1&momentum=0.9'), checked to be one: URL characters only, and short."""
    if query is None:
        return ""
    if not isinstance(query, str):
        raise Refused(f"The {what} is not a playground link's settings.")
    text = query.strip().lstrip("?")
    if len(text) > QUERY_MAX or not _QUERY.fullmatch(text):
        raise Refused(f"The {what} is not a playground link's settings (URL characters, at most {QUERY_MAX}).")
    return text


def clean_name(name: object, what: str) -> str:
    """A method's or optimizer's name: lower-case letters, digits, '-' and '_', short."""
    if not isinstance(name, str) or len(name) > NAME_MAX or not _NAME.fullmatch(name):
        raise Refused(f"The run's {what} is not a name the playground uses.")
    return name
