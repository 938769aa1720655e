"""Helpers shared by the real-browser tests: where things are, waiting for Streamlit, screenshots."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Locator, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
SCREENSHOT_DIR = ARTIFACTS_DIR / "screenshots"

# Debian's package; `bash scripts/install_browser.sh` installs it when it can.
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
DEFAULT_TIMEOUT_MS = 60_000


def app_path() -> Path:
    """The Streamlit script under test: $PLAYGROUND_APP if set, else the repository's app.py."""
    return Path(os.environ.get("PLAYGROUND_APP") or REPO_ROOT / "app.py").resolve()


def chromium_executable() -> str | None:
    """Chromium to launch: $PLAYGROUND_CHROMIUM, else /usr/bin/chromium, else None (Playwright's own)."""
    explicit = os.environ.get("PLAYGROUND_CHROMIUM")
    if explicit:
        found = shutil.which(explicit)
        if not found:
            raise FileNotFoundError(f"PLAYGROUND_CHROMIUM={explicit!r} is not an executable")
        return found
    if SYSTEM_CHROMIUM.exists():
        return str(SYSTEM_CHROMIUM)
    return None


def wait_idle(page: Page, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    """Wait until the script run has finished.

    Right after an action the app may still report idle for a moment, so wait for the expected content
    first, then call this.
    """
    page.locator(APP_IDLE).wait_for(state="attached", timeout=timeout)


def wait_until(page: Page, condition, what, timeout_s: float = 20.0) -> None:
    """Polls `condition` (something the page did on its own, no element to wait for) until it holds; the page's
    events (requests) are taken in meanwhile. On a timeout the message shows what() instead."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what()
        page.wait_for_timeout(50)


def watch_summary(page: Page, root: str) -> None:
    """Records in window.__urlWhenDrawn, when the summary of the figure at `root` next changes, the page's URL query
    then (the page writes a move's value there when its rerun comes back)."""
    page.evaluate(f"""() => {{
        const summary = document.querySelector('{root} .lf-summary'), old = summary.textContent;
        window.__urlWhenDrawn = null;
        const seen = new MutationObserver(() => {{
            if (summary.textContent === old) return;
            window.__urlWhenDrawn = location.search;
            seen.disconnect();
        }});
        seen.observe(summary, {{childList: true, characterData: true, subtree: true}});
    }}""")


def note_when_drawn(page: Page, root: str, script: str) -> None:
    """Records in window.__whenDrawn, when the figure at `root` next takes a run (its data-query changes), what
    `script` (an expression) reads then: a control's state, or the URL, before or after the control's own update."""
    page.evaluate(f"""() => {{
        const root = document.querySelector('{root}');
        window.__whenDrawn = null;
        const seen = new MutationObserver(() => {{ window.__whenDrawn = {script}; seen.disconnect(); }});
        seen.observe(root, {{attributes: true, attributeFilter: ['data-query']}});
    }}""")


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/NAME.png and return its path."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"screenshot name {name!r}: use letters, digits, '_', '-' and '.' only")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


PAGE_NOT_FOUND = "Page not found"


def close_page_not_found(page: Page) -> bool:
    """Close Streamlit's "Page not found" dialog if it is open; True when it was.

    A server's first session that opens a page by its address can get it (see tests/e2e/test_lab.py, the first-session
    test): the page under it is drawn but inert until the dialog is closed.
    """
    dialog = page.get_by_role("dialog").filter(has_text=PAGE_NOT_FOUND)
    if not dialog.count():
        return False
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="detached")
    return True


@contextmanager
def streamlit_server(timeout_s: float = 90.0, env: dict[str, str] | None = None) -> Iterator[str]:
    """A second, fresh `streamlit run` of the app on a free port (for what only a new server process shows); `env`:
    variables to add (e.g. PLAYGROUND_DATA_DIR, so that two servers in turn use one class board database)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the second Streamlit server exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the second Streamlit server did not answer within {timeout_s:.0f} s")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


EXCEPTION = '[data-testid="stException"]'
PLAYWRIGHT_EXPECT_TIMEOUT_MS = 5_000  # Playwright's own default, restored after each test


@contextmanager
def guarded_page(page: Page, viewport: dict, no_dialogs: bool = False) -> Iterator[list[str]]:
    """A test's page: a tall viewport and generous timeouts (a shared 2-core machine: reruns can take seconds); at
    the end, neither an st.exception box nor an uncaught browser error (nor, with no_dialogs, a browser dialog).
    Yields the list of dialogs the page opened (each is dismissed)."""
    page.set_viewport_size(viewport)
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if no_dialogs:

        def on_dialog(dialog) -> None:
            dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
    try:
        yield dialogs
        expect(page.locator(EXCEPTION)).to_have_count(0)
        assert not errors, f"uncaught errors in the page: {errors}"
        assert not dialogs, f"the page opened a browser dialog: {dialogs}"
    finally:
        expect.set_options(timeout=PLAYWRIGHT_EXPECT_TIMEOUT_MS)


FIGURE = '[data-testid="stBidiComponentRegular"] .lf-root'  # the playground's live figure


def open_figure(page: Page, base: str, query: str = "") -> Locator:
    """Open the playground (optionally with a query string), wait for its drawn live figure and idle; return it."""
    page.goto(f"{base}/{query}")
    figure = page.locator(FIGURE)
    expect(figure.locator(".lf-surface .pn-svg").first).to_be_visible()
    wait_idle(page)
    expect(figure).to_have_count(1)
    return figure


def query_of(page: Page) -> dict[str, str]:
    """The page's current query string as a dict (last value of each key)."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def route_requests(page: Page, path: str, key: str) -> list[str]:
    """The `key` value of each request the page makes to a figure's route (`path`), in order, as it makes them: a
    run asked for now or ahead by its value; the whole of one the route answered in part, which the figure asks for
    once it drew that part (components/live_route.py), as "<value> whole": the next request for a value asked for
    now (here every run asked for now has ladders, so it is answered in part)."""
    asked: list[str] = []
    in_part: set[str] = set()

    def seen(request) -> None:
        if path not in request.url:
            return
        value = {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}[key]
        if request.headers.get("x-playground-now"):
            in_part.add(value)
            asked.append(value)
        elif value in in_part:
            in_part.discard(value)
            asked.append(f"{value} whole")
        else:
            asked.append(value)

    page.on("request", seen)
    return asked


def open_root_once(browser, base: str) -> None:
    """Open the app's root once before deep links. A fresh server knows only the views/ folder until app.py has run
    (and called st.navigation) once: its first visitor on a deep link gets a "Page not found" dialog over the page,
    or for /playground the page without app.py around it. Tests about the pages open the root first."""
    page = browser.new_page()
    page.goto(base)
    page.locator(APP_IDLE).wait_for(timeout=DEFAULT_TIMEOUT_MS)
    page.close()


# A figure's idle-time drawings (RunPlayer.warmUp) queued for the test to run (idle_redraws); other idle callbacks run
# as ever. An init script: in place before the figure's first picture.
IDLE_REDRAWS_JS = """(() => {
  const native = window.requestIdleCallback.bind(window);
  window.__idle = [];
  window.requestIdleCallback = (fn, options) =>
    fn.toString().includes("drawPanels") ? window.__idle.push(fn) : native(fn, options);
})();"""


def idle_redraws(page: Page, panel: str) -> int:
    """Runs the figure's queued idle-time drawings (IDLE_REDRAWS_JS), and those they queue: how many there were; 0
    when the page's `panel` (an svg's selector) was drawn anew meanwhile (they draw spare panels off the page)."""
    page.evaluate(f"() => {{ window.__old = document.querySelector('{panel}').firstChild; }}")
    ran = page.evaluate("() => { let n = 0; while (window.__idle.length) { window.__idle.shift()(); n++; } return n; }")
    return ran if page.evaluate("() => window.__old.isConnected") else 0


def picture(page: Page, figure: str) -> list[str]:
    """What a figure's panels show: their markup (a draw's clip-path ids aside) and each canvas's pixels."""
    return page.evaluate(
        """(figure) => {
          const panels = document.querySelector(figure).querySelector(".lf-panels");
          const svgs = panels.innerHTML.replace(/pn-clip-[\\w-]+/g, "pn-clip");
          return [svgs, ...Array.from(panels.querySelectorAll("canvas"), (c) => c.toDataURL())];
        }""",
        figure,
    )


def scrub_to(player: Locator, step: int) -> None:
    """A figure's Step slider moved by the keyboard to `step` (from step 0): the figure pauses there."""
    scrub = player.get_by_role("slider", name="Step")
    scrub.focus()
    scrub.press("Home")
    for _ in range(step):
        scrub.press("ArrowRight")
