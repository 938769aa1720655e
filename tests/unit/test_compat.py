"""The installed Streamlit is a tested release, and the behaviours of it the classroom server relies on are there."""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit
import streamlit.config

from ui import compat

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_streamlit_is_a_tested_release():
    # An upgrade lands here first: check postScriptGC, ui/nodelay.py and ui/recycle.py, then extend TESTED_STREAMLIT.
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
