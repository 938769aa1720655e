"""Key-press-to-picture latency on the Overfitting page in a real browser, against a trivial Streamlit app.

    python bench/bench_overfit_latency.py            # 4 presses each way per case
    python bench/bench_overfit_latency.py --n 3

The same method as bench/bench_latency.py (whose probes and report this reuses): two servers from the repository
root, the page (`/overfitting?test_fraction=0.25&degree=3&seed=1`) and a one-slider app, pressed alternately in
Chromium; the time from the keydown to the first animation frame that shows the result, by the page's clock.
- player degree / player weight decay: ArrowRight then ArrowLeft on the fit player's own "Degree" and "Weight decay"
  sliders, until the player shows the picked run: its summary is that run's sentence (the slider's own run, which
  the payload names) and the model's curve was redrawn. No rerun may come first ("reran" stays 0); then, untimed
  for the ratio, the page catches up (the URL holds the value, the app idle).
- degree, new / cached: the sidebar's "Polynomial degree" one notch up (the page reruns: the run, the weight-decay
  family, the figures anew; the degree sweep is cached), then back down (cached), until the player shows the run at
  the new degree (its summary starts "Degree <new>, weight decay") and its curve was redrawn: the player follows the
  sidebar's slider from its degree family (followSidebar, components/figure_common.js), before the rerun comes
  back. Then, untimed for the ratio, the page catches up.
- noise, new / stepping on / back: the sidebar's "Noise level" one notch down from 0.5 (new data, which no family
  holds: the player fetches its run from the server's route, components/live_route.py, while the page reruns), each
  "new" press on the page loaded anew (untimed) with a seed no press trained on, so that nothing was fetched ahead
  (Playwright focuses the slider and presses at once); "new, rested": the same, pressed bench_latency.RESTED_S after
  the slider took the focus (the player fetches the runs at its two neighbouring values ahead after 250 ms);
  then one notch further down, n times (after each step the player fetched the next one ahead, as for a learner
  stepping with the arrow keys); then back up (the player kept those runs: no request), until the player drew the
  new training points. Then, untimed for the ratio, the page catches up.
- learning rate, new / stepping on / back: the sidebar's "Learning rate" one rung down from 0.1, the same way,
  until the player shows the new run (its summary is the run's sentence, its curve redrawn).
- powers, new / back: the sidebar's "Powers of x" radio buttons, ArrowRight from "standardized" to "raw" on the page
  loaded anew (untimed) with a seed no press trained on (fetched from the route), then ArrowLeft back (kept in the
  browser), until the player shows the run (as for the learning rate); "new, rested": the pick on a page loaded anew,
  bench_latency.RESTED_S after the buttons took the focus (the player fetches the other option's run ahead).
- trivial: the one slider (the baseline).
Before every press the player's playback is paused. It prints medians, p95 and ratios to the trivial app's median
against the issue's targets: a move in the player <= 1.0x, a move that needs the server <= 2.0x.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from bench import bench_latency as bl  # noqa: E402
from bench.loadtool.servers import StreamlitServer  # noqa: E402

PLAYER = '[data-testid="stBidiComponentRegular"] .fp-root'
START = "/overfitting?test_fraction=0.25&degree=3&seed=1"  # seed 1: data the server's warm-up never trained on
# What the probes read off the player: its summary and the model's curve (the second polyline over its fit panel).
PLAYER_JS = """
(a) => {
    const root = () => document.querySelector(a.player);
    const curve = (r) => {
        const l = r.querySelectorAll('.fp-fit .lf-overlay polyline')[1];
        return l ? l.getAttribute('points') || '' : '';
    };
    const p = window.__benchProbe;
    p.state = () => {
        const r = root();
        return r ? {summary: r.querySelector('.lf-summary').textContent, curve: curve(r)} : null;
    };
    // the player switched to the run its slider picked (the payload's sentence for it) and redrew the curve
    p.player = (b) => { const r = root(); if (!r) return false;
        const s = r.querySelector('.lf-summary').textContent, c = curve(r);
        return s !== b.old.summary && s.startsWith(b.prefix) && c !== '' && c !== b.old.curve; };
    p.own = p.player;
    // the player drew new data: its training points moved
    p.points = (b) => { const r = root(); if (!r) return false;
        const d = r.querySelector('.fp-train-points'), now = d ? d.getAttribute('d') || '' : '';
        return now !== '' && now !== b.old.points; };
    const state = p.state;
    p.state = () => { const s = state(), r = root(), d = r && r.querySelector('.fp-train-points');
        return s && {...s, points: d ? d.getAttribute('d') || '' : ''}; };
}
"""
QUIET_JS = f"""
() => {{
    const button = document.querySelector('{PLAYER} .lf-play');
    if (button && button.textContent.includes('Pause')) button.click();
}}
"""


class PlayerProbe(bl.Probe):
    """The player's own "Degree" or "Weight decay" slider; then waits (untimed) for the page to catch up."""

    def __init__(self, page: Page, setting: str, name: str, timeout_ms: float, quiet):
        thumb = page.locator(f"{PLAYER} .lf-slider[data-key={setting}] input[type=range]")
        super().__init__(page, thumb, timeout_ms, quiet)
        self.setting, self.name = setting, name

    def press(self, key: str) -> bl.Sample:
        index = int(self.thumb.input_value()) + (1 if key == "ArrowRight" else -1)
        value, label = self.page.evaluate(
            """([sel, key, i]) => {
                const p = document.querySelector(sel).parentElement.__fitPlayer, ladder = p.ladders[key];
                return [ladder.values[i], i === ladder.current ? p.data.own.label : ladder.labels[i]];
            }""",
            [PLAYER, self.setting, index],
        )

        def arg() -> dict:
            return {"prefix": label, "old": self.state()}

        sample = self.timed(key, "player", arg, idle=False)
        self.value = f"{value:g}"
        handle = self.page.wait_for_function(
            bl.DONE_JS,
            arg={"kind": "url", "mark": "caught", "idle": True, "param": self.setting, "value": float(value)},
            polling="raf",
            timeout=self.timeout_ms,
        )
        done = handle.json_value()
        sample.caught_up = done["marks"]["caught:idle"] - done["key"]
        return sample


class SidebarDegreeProbe(bl.Probe):
    """The sidebar's "Polynomial degree": shown when the player shows the run at the new degree (it follows the
    sidebar's slider from its degree family, before the page's rerun comes back); then the page catches up, untimed."""

    def __init__(self, page: Page, timeout_ms: float, quiet):
        super().__init__(page, bl.slider_thumb(page, "Polynomial degree"), timeout_ms, quiet)

    def press(self, key: str) -> bl.Sample:
        degree = int(self.thumb.get_attribute("aria-valuetext")) + (1 if key == "ArrowRight" else -1)
        arg = {"prefix": f"Degree {degree}, weight decay", "old": self.state()}
        return self.caught_up(self.timed(key, "own", lambda: arg, idle=False), "degree")


class SidebarNoiseProbe(bl.Probe):
    """The sidebar's "Noise level" (new data, which no family holds: the player fetches its run): shown when the
    player drew the new points; then the page catches up, untimed."""

    def __init__(self, page: Page, timeout_ms: float, quiet):
        super().__init__(page, bl.slider_thumb(page, "Noise level"), timeout_ms, quiet)

    def press(self, key: str) -> bl.Sample:
        return self.caught_up(self.timed(key, "points", lambda: {"old": self.state()}, idle=False), "noise")


class SidebarRadioProbe(bl.Probe):
    """The sidebar's "Powers of x" radio buttons (a run no family holds: the player fetches it): shown when the player
    shows the new run's sentence and curve; then the page catches up, untimed."""

    def __init__(self, page: Page, timeout_ms: float, quiet):
        self.group = page.locator("[data-testid=stSidebar] .st-key-ctl_powers")
        super().__init__(page, self.group.locator("input[type=radio][tabindex='0']"), timeout_ms, quiet)

    def shows(self) -> str | None:
        return self.group.locator("label[data-selected=true]").text_content().strip()

    def press(self, key: str) -> bl.Sample:
        arg = lambda: {"prefix": "Degree ", "old": self.state()}  # noqa: E731  (read after the pause)
        sample = self.timed(key, "player", arg, idle=False)
        return self.caught_up(sample, "powers", self.value)


class SidebarLrProbe(bl.Probe):
    """The sidebar's "Learning rate" (a run no family holds: the player fetches it): shown when the player shows
    the new run's sentence and curve; then the page catches up, untimed."""

    def __init__(self, page: Page, timeout_ms: float, quiet):
        super().__init__(page, bl.slider_thumb(page, "Learning rate"), timeout_ms, quiet)

    def press(self, key: str) -> bl.Sample:
        arg = lambda: {"prefix": "Degree ", "old": self.state()}  # noqa: E731  (read after the pause)
        return self.caught_up(self.timed(key, "player", arg, idle=False), "lr")


CASES = {
    "player degree": ("figure", "the player's Degree slider (browser only)"),
    "player weight decay": ("figure", "the player's Weight decay slider (browser only)"),
    "degree, new": ("server", "sidebar Polynomial degree up: the player follows; the page reruns"),
    "degree, cached": ("server", "sidebar Polynomial degree back down (cached)"),
    "noise, new": ("server", "sidebar Noise level down, a first step: new data, fetched; the page reruns"),
    "noise, new, rested": ("server", "the same, pressed after resting on the slider (its neighbours fetched ahead)"),
    "noise, stepping on": ("server", "sidebar Noise level down again (fetched ahead after the step before)"),
    "noise, back": ("server", "sidebar Noise level back up (kept in the browser)"),
    "lr, new": ("server", "sidebar Learning rate down, a first step: fetched; the page reruns"),
    "lr, new, rested": ("server", "the same, pressed after resting on the slider (its neighbours fetched ahead)"),
    "lr, stepping on": ("server", "sidebar Learning rate down again (fetched ahead after the step before)"),
    "lr, back": ("server", "sidebar Learning rate back up (kept in the browser)"),
    "powers, new": ("server", "sidebar Powers of x, a pick: fetched; the page reruns"),
    "powers, new, rested": ("server", "the same, picked after resting on the buttons (the other fetched ahead)"),
    "powers, back": ("server", "sidebar Powers of x, picked back (kept in the browser)"),
    "trivial": ("", "the trivial app's slider (baseline)"),
}


def measure(args, page_server: StreamlitServer, trivial: StreamlitServer):
    timeout_ms = args.timeout * 1000
    samples: dict[str, list[bl.Sample]] = {name: [] for name in CASES}
    loads: dict[str, float] = {}

    def ready(page: Page) -> None:
        page.locator(f"{PLAYER} .fp-fit .pn-svg").first.wait_for(state="attached", timeout=timeout_ms)

    with sync_playwright() as pw:
        executable = bl.chromium_executable()
        browser = pw.chromium.launch(args=bl.CHROMIUM_ARGS, **({"executable_path": executable} if executable else {}))
        try:
            # a fresh server knows its pages once app.py has run: open the root first (tests/e2e/helpers.py)
            warm = browser.new_context(viewport=bl.VIEWPORT).new_page()
            bl.open_app(warm, page_server.url, lambda p: None, timeout_ms)
            warm.context.close()
            main = browser.new_context(viewport=bl.VIEWPORT).new_page()
            loads["overfitting page, first session"] = bl.open_app(main, page_server.url + START, ready, timeout_ms)
            triv_page = browser.new_context(viewport=bl.VIEWPORT).new_page()
            loads["trivial, first session"] = bl.open_app(
                triv_page, trivial.url, bl.trivial_ready(timeout_ms), timeout_ms
            )
            for page in (main, triv_page):
                page.evaluate(bl.PAGE_JS, {"figure": PLAYER, "idle": bl.APP_IDLE})
            main.evaluate(PLAYER_JS, {"player": PLAYER})

            def quiet() -> None:
                main.evaluate(QUIET_JS)

            triv = bl.TrivialProbe(triv_page, timeout_ms, quiet)

            def run(case: str, probe, key: str) -> None:
                sample = probe.press(key)
                samples[case].append(sample)
                samples["trivial"].append(triv.press())
                print(f"  {case:<24} -> {probe.value:<8}{sample.shown:7.0f} ms", flush=True)

            sidebar = SidebarDegreeProbe(main, timeout_ms, quiet)
            for key, case in (("ArrowRight", "degree, new"), ("ArrowLeft", "degree, cached")):
                for _ in range(args.n):
                    run(case, sidebar, key)
            seeds = iter(range(11, 1_000))

            def fresh() -> None:  # the page loaded anew (untimed), on data no press trained on
                bl.open_app(main, page_server.url + START.replace("seed=1", f"seed={next(seeds)}"), ready, timeout_ms)
                main.evaluate(bl.PAGE_JS, {"figure": PLAYER, "idle": bl.APP_IDLE})
                main.evaluate(PLAYER_JS, {"player": PLAYER})

            for name, probe in (
                ("noise", SidebarNoiseProbe(main, timeout_ms, quiet)),
                ("lr", SidebarLrProbe(main, timeout_ms, quiet)),
            ):
                for _ in range(args.n):  # each on a fresh page, so nothing was fetched ahead
                    fresh()
                    run(f"{name}, new", probe, "ArrowLeft")
                for _ in range(args.n):  # the same, pressed once the slider has held the focus a while
                    fresh()
                    probe.thumb.focus()
                    time.sleep(bl.RESTED_S)
                    run(f"{name}, new, rested", probe, "ArrowLeft")
                for key, case in (("ArrowLeft", f"{name}, stepping on"), ("ArrowRight", f"{name}, back")):
                    for _ in range(args.n):
                        run(case, probe, key)
            radio = SidebarRadioProbe(main, timeout_ms, quiet)
            for _ in range(args.n):  # each pick on a fresh page; then back
                fresh()
                run("powers, new", radio, "ArrowRight")
                run("powers, back", radio, "ArrowLeft")
            for _ in range(args.n):  # the same, picked once the buttons have held the focus a while
                fresh()
                radio.thumb.focus()
                time.sleep(bl.RESTED_S)
                run("powers, new, rested", radio, "ArrowRight")
            for setting, name in (("degree", "Degree"), ("weight_decay", "Weight decay")):
                probe = PlayerProbe(main, setting, name, timeout_ms, quiet)
                for key in ("ArrowRight", "ArrowLeft"):
                    for _ in range(args.n):
                        run(f"player {name.lower()}", probe, key)
            return samples, loads, browser.version
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4, help="presses each way per case (default 4, at most 5)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one result (default 120)")
    args = parser.parse_args()
    if not 1 <= args.n <= 5:  # degree 3 up by n and back; the sidebar's moves go up from 3 as far as 8
        parser.error("--n must be 1 to 5")
    samples, loads, version = bl.with_servers(args, measure, "bench_overfit_latency_")
    bl.CASES.clear()
    bl.CASES.update(CASES)
    bl.print_report(samples, loads, version)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
