"""The Streamlit releases this app was tested with, and what it relies on that a new release may change.

Five behaviours of Streamlit 1.67 are load-bearing on a classroom server, and none is public API:
- the hidden `runner.postScriptGC` option (.streamlit/config.toml turns it off: the post-run gc.collect(2) held
  the GIL ~165 ms after every rerun);
- connections that keep Nagle's algorithm on (server/nodelay.py turns it off, finding the sockets through gc);
- `Runtime.instance().stats_mgr`, which server/recycle.py reads to see that no student is connected;
- st.plotly_chart taking a figure's JSON from its to_dict() (charts/spec.py's Prebuilt skips plotly.py's checks);
- the name of its XSRF cookie, by which server/route_first.py knows a browser's route requests and WebSocket.
A release outside `TESTED_STREAMLIT` fails tests/unit/test_compat.py, so an upgrade is checked before a class
meets it; at run time the server logs a warning, and server/nodelay.py and server/recycle.py leave Streamlit's internals
alone (`tested()`): a page must never break over them.
"""

from __future__ import annotations

import logging

import streamlit

LOG = logging.getLogger("playground.compat")

# Minor series (major.minor) the whole suite has passed on. Add one only after checking the three behaviours above.
TESTED_STREAMLIT = ("1.67",)


def series(version: str) -> str:
    """'1.67.0' -> '1.67'."""
    return ".".join(version.split(".")[:2])


def untested_streamlit(version: str | None = None) -> str | None:
    """A warning naming what may no longer hold, or None when `version` (the installed one by default) is tested."""
    version = streamlit.__version__ if version is None else version
    if series(version) in TESTED_STREAMLIT:
        return None
    return (
        f"Streamlit {version} is not one this app was tested with ({', '.join(TESTED_STREAMLIT)}): check the hidden "
        "runner.postScriptGC option, the Nagle workaround (server/nodelay.py), the session count server/recycle.py "
        "reads and the XSRF cookie server/route_first.py reads before a class uses it"
    )


def tested() -> bool:
    """Whether the installed Streamlit is a tested release (its internals may be relied on)."""
    return untested_streamlit(streamlit.__version__) is None


def warn_if_untested() -> bool:
    """Log the warning once per server process; True when the release is a tested one."""
    message = untested_streamlit()
    if message:
        LOG.warning(message)
    return message is None
