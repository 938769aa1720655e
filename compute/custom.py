"""The session's own data (an upload, a paste or a sample): kept in this session's memory only.

Other pages reach it through current(); its fingerprint (a hash of the numbers and names) keys the shared run
cache, so a result can only be found again by a session that holds exactly the same data.
"""

from __future__ import annotations

import hashlib

import streamlit as st

import engine

KEY = "custom_dataset"


def store(ds: engine.Dataset) -> None:
    """Make ds the session's data (dataset "custom" in the controls)."""
    st.session_state[KEY] = ds


def current() -> engine.Dataset | None:
    """The session's data, if it has any."""
    return st.session_state.get(KEY)


def fingerprint(ds: engine.Dataset | None) -> str:
    """A short hash of the data's numbers and names ('' for none)."""
    if ds is None:
        return ""
    h = hashlib.sha256()
    h.update(ds.x.numpy().tobytes())
    h.update(ds.y.numpy().tobytes())
    h.update(repr((ds.name, ds.feature_names, ds.target_name)).encode())
    return h.hexdigest()[:24]


def for_values(values: dict) -> engine.Dataset | None:
    """The custom dataset when the controls ask for it, else None."""
    return current() if values.get("dataset") == "custom" else None
