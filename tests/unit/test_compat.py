"""The installed Streamlit is a tested release, and the behaviours of it the classroom server relies on are there."""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit
import streamlit.config

from server import compat

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_streamlit_is_a_tested_release():
    # An upgrade lands here first: check postScriptGC, server/nodelay.py and server/recycle.py, then extend
    # TESTED_STREAMLIT.
    assert compat.untested_streamlit() is None, compat.untested_streamlit()


def test_an_untested_release_is_named_with_what_to_check():
    assert compat.untested_streamlit("1.67.3") is None
    message = compat.untested_streamlit("1.68.0")
    assert message is not None and "1.68.0" in message and "postScriptGC" in message
    assert compat.untested_streamlit("2.0.1") is not None
    assert compat.series("1.67.0") == "1.67"


def test_the_hidden_post_script_gc_option_exists_and_the_config_turns_it_off():
    option = streamlit.config._config_options_template.get("runner.postScriptGC")
    assert option is not None, "Streamlit no longer has runner.postScriptGC: every rerun pays a full gc.collect again"
    assert option.default_val is True  # on by default: why the config must say so
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_the_session_gauge_recycling_reads_is_there():
    from streamlit.runtime import Runtime

    assert isinstance(Runtime.__dict__.get("stats_mgr"), property)


def test_the_requirements_lower_bound_of_streamlit_is_a_tested_release():
    line = next(ln for ln in (ROOT / "requirements.in").read_text().splitlines() if ln.startswith("streamlit"))
    lower = line.split(">=")[1].split(",")[0].strip()
    assert compat.series(lower) in compat.TESTED_STREAMLIT, line
    assert compat.series(streamlit.__version__) in compat.TESTED_STREAMLIT


def test_under_an_untested_release_the_internals_are_left_alone(monkeypatch):
    from server import nodelay, recycle

    monkeypatch.setattr(streamlit, "__version__", "1.99.0")
    assert not compat.tested()
    monkeypatch.setattr(nodelay, "_sockets", lambda: (_ for _ in ()).throw(AssertionError("gc was searched")))
    assert nodelay.enable() == 0
    assert recycle.connected_sessions() is None  # recycling stays off rather than read an unknown API


def test_st_plotly_chart_takes_a_prebuilt_figure_s_json_as_it_is():
    """charts.Prebuilt hands st.plotly_chart ready JSON through to_dict(): the chart must carry exactly it."""
    from streamlit.testing.v1 import AppTest

    script = (
        "import streamlit as st\n"
        "import charts\n"
        "spec = {'data': [{'type': 'scatter', 'x': [1, 2], 'y': [3, 4], 'name': 'probe'}], 'layout': {'title': "
        "{'text': 'prebuilt'}}}\n"
        "st.plotly_chart(charts.Prebuilt(spec), key='probe')\n"
    )
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception
    import json

    shown = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert shown["data"][0]["name"] == "probe" and shown["layout"]["title"]["text"] == "prebuilt"


def test_the_xsrf_cookie_route_first_knows_a_browser_by_is_streamlits():
    from streamlit.web.server.starlette.starlette_server_config import XSRF_COOKIE_NAME

    from server import route_first

    assert route_first.XSRF_COOKIE == XSRF_COOKIE_NAME
