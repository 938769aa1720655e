"""Optional class password: set `class_password` in .streamlit/secrets.toml and students must enter it once per
session. (Single sign-on would need Streamlit's st.login wired into app.py: it is not, today.)"""

from __future__ import annotations

import hmac

import streamlit as st

ADMITTED = "admitted"


def class_password() -> str | None:
    """The configured class password, or None when the playground is open to everyone."""
    try:
        value = st.secrets.get("class_password")
    except Exception:  # no secrets.toml at all: Streamlit raises rather than returning None
        return None
    return str(value) if value else None


def gate() -> None:
    """Stop the page behind a password form until this session has entered the class password."""
    password = class_password()
    if password is None or st.session_state.get(ADMITTED):
        return
    st.title("PyTorch training playground")
    with st.form("class_password"):
        typed = st.text_input("Class password", type="password")
        if st.form_submit_button("Enter"):
            if hmac.compare_digest(typed.encode(), password.encode()):
                st.session_state[ADMITTED] = True
                st.rerun()
            st.error("That is not the class password.")
    st.stop()
