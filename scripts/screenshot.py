"""Screenshots of the running app for a human to look at: python scripts/screenshot.py URL_PATH[?query] OUT.png [--play]

Expects a server on $PLAYGROUND_URL (default http://127.0.0.1:8599); uses Debian's Chromium when present. Waits for a
drawn figure: a Plotly chart (st.plotly_chart) or a panel of a figure that plays runs (components/panel.js). The
live figure plays each new run by itself: --play waits $PLAY_MS (default 7000) more for that playback before the
shot (nothing is clicked).
"""

import os
import sys

from playwright.sync_api import sync_playwright

BASE = os.environ.get("PLAYGROUND_URL", "http://127.0.0.1:8599")
# a Plotly chart, or a drawn panel of a figure that plays runs (components/panel.js; not the plane's hidden one)
DRAWN = (
    '[data-testid="stPlotlyChart"], [data-testid="stBidiComponentRegular"] .lf-root .lf-panel:not(.lf-3d-on) .pn-svg'
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    path, out = sys.argv[1], sys.argv[2]
    play = "--play" in sys.argv
    with sync_playwright() as p:
        exe = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
        browser = p.chromium.launch(executable_path=exe, args=ARGS)
        width = int(os.environ.get("SHOT_WIDTH", "1400"))  # 412 for a phone
        page = browser.new_page(viewport={"width": width, "height": int(os.environ.get("SHOT_HEIGHT", "1900"))})
        page.goto(BASE + path)
        page.wait_for_selector(DRAWN, timeout=60_000)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
        page.wait_for_timeout(1500)
        if play:  # the live figure is already playing its run: give it the time to play on
            page.wait_for_timeout(int(os.environ.get("PLAY_MS", "7000")))
        page.screenshot(path=out, full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
