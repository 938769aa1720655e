"""A Streamlit app and one Chromium page beside it, for the benchmarks that look at a single page in the browser."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.loadtool.servers import StreamlitServer, free_port

VIEWPORT = {"width": 1400, "height": 1000}


@contextlib.contextmanager
def app_page(script: Path, log: Path, launcher: Sequence[str] | None = None) -> Iterator[tuple]:
    """Start `streamlit run script` (or `launcher`) on a free port, wait until it answers, and yield (server,
    browser, page): a 1400 x 1000 Chromium page, not yet opened on the app. Both are stopped at the end, also on an
    error."""
    from playwright.sync_api import sync_playwright  # the load tool's other modules need no browser

    from tests.e2e.helpers import CHROMIUM_ARGS, chromium_executable

    server = StreamlitServer(script, free_port(), log, launcher=launcher)
    server.start()
    try:
        server.wait_healthy()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
            try:
                yield server, browser, browser.new_page(viewport=VIEWPORT)
            finally:
                browser.close()
    finally:
        server.stop()
