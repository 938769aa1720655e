"""Helpers shared by the real-browser tests: where things are, waiting for Streamlit, screenshots."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from playwright.sync_api import Page

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


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/NAME.png and return its path."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"screenshot name {name!r}: use letters, digits, '_', '-' and '.' only")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
