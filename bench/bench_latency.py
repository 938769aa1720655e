"""Key-press-to-picture latency of the playground's live figure in a real browser, against a trivial Streamlit app.

    python bench/bench_latency.py              # 10 key presses each way per case
    python bench/bench_latency.py --n 6 --no-sizes
    python bench/bench_latency.py --n 10 --no-sizes --case "noise, new"     # one case (and the trivial app's)

Starts two servers from the repository root (so both use its .streamlit/config.toml): the playground
(`streamlit run app.py`) and a one-slider app written to a temporary file. In Chromium it then times, alternating
between the two apps (one trivial press after every playground press), the time from a key press on a slider to
the new picture, by the page's own clock: from the keydown event's timeStamp to the first animation frame that
shows the result (requestAnimationFrame polling, so "shown" means painted at the next frame; the polling starts in the
page just before the press, ARM_JS, so that it sees every frame even while a rerun keeps the page busy):
- figure lr / figure momentum: ArrowRight/ArrowLeft on the live figure's own "Learning rate" and "Momentum" range
  inputs, until the figure shows the picked run: its summary names it (".lf-summary" reads "<slider name>
  <the slider's aria-valuetext>", which the figure writes when it switches runs) and the surface's whole path
  (the faint line of the figure's SVG overlay) has been redrawn. The runs travel with the figure, so no rerun may
  happen before that (counted in the "reran" column; it should stay 0). Then, untimed for the ratio, the page
  catches up: the slider comes to rest, the figure sends the value to Python, the fragment reruns; "caught up" is
  the key press -> the URL holding the new value and the app idle.
- sidebar lr, new / cached: the sidebar's "Learning rate" select_slider one notch up to a value this server has
  not computed yet, then back down (cached), until the figure shows the run at the new value (its summary says
  "Learning rate <new>:" and its whole path was redrawn): the figure follows the sidebar's slider at once, from its
  ladder, while the page reruns (followSidebar in components/live_figure.js); "new" then only means that the page's
  rerun trains the run meanwhile, on the same two cores. Then, untimed for the ratio, the page catches up.
- noise, new / stepping on / cached: the sidebar's "Noise level" slider one notch down from START_NOISE (new data:
  the run and both ladders trained anew, for the figure's fetch from the route and for the page's whole rerun, once),
  each "new" press on a page loaded anew (untimed) with a seed no press trained on, so that nothing was fetched ahead
  (Playwright focuses the slider and presses at once); "new, rested": the same on other seeds, pressed RESTED_S after
  the slider took the focus, as a learner does (the figure fetches its two neighbouring levels ahead after 250 ms);
  "new, mouse": the same, with the mouse resting over the slider RESTED_S before the key (focused and pressed at once),
  as for a learner who reaches for the slider with the mouse (the figure fetches ahead after 250 ms over it);
  then, "stepping on", one notch further down, n times (after each step the figure fetched the next level ahead, as
  for a learner stepping with the arrow keys); then back up (kept in the browser), until the figure shows the new
  data: the data panel's points (its drawn dots) differ from before, and the surface's whole path is drawn (the
  figure draws both panels in one go; a short path may not move by the 0.1 px its points are rounded to). The signal
  comes from the figure's own drawing, not from text that could stay the same (a loss rounded alike), and the points
  move for any change of the noise (y = 2x + 1 + noise * e, with the same seed's e). Then the page catches up, untimed.
- figure noise, new / cached / ahead: the live figure's own "Noise level" slider, with no rerun of the page: the
  figure fetches the new run's payload from the server's route (components/live_route.py), until it shows the new
  data as above; then, untimed for the ratio, the page catches up as for a figure move. "new": PageUp, five levels
  up (the run and both ladders trained anew; the figure fetches ahead only the next single level); "cached":
  PageDown, back (the server has those runs); "ahead": ArrowRight, one level up, after one untimed step up (each
  next level was fetched ahead into the browser, as for a learner stepping through them).
- trivial: the one slider, until the written value shows (and, second column, the app is idle): the baseline.
Before every press (on either app) the figure's playback is paused (its Pause button), so that no animation runs
during a timing; between the presses of a figure slider the script waits for the page to catch up.

It prints medians and p95, and ratios to the trivial app's median (a shared machine is noisy: ratios travel
better than milliseconds), against the issue's targets: a figure move <= 1.0x the trivial round trip, a move that
needs the server <= 2.0x; then page load times, and (unless --no-sizes) the live figure's payload sizes
(bench/bench_rerun.py). Both servers are stopped at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from bench.loadtool.profiles import TRIVIAL_APP  # noqa: E402
from bench.loadtool.servers import StreamlitServer, free_port  # noqa: E402
from components.assets import ensure_plotly_js  # noqa: E402
from compute import family  # noqa: E402
from settings import controls  # noqa: E402
from tests.e2e.helpers import APP_IDLE, CHROMIUM_ARGS, FIGURE, chromium_executable  # noqa: E402

START_LR_INDEX = 12  # 0.001 on the ladder: the moves up stay below divergence, so every run does all its steps
START_MOMENTUM = 0.8  # the default; the figure's momentum moves go down the ladder from there and back
START_NOISE = 1.0  # the sidebar's noise moves go down from there (new data) and back, then the figure's up
RESTED_S = 1.0  # "noise, new, rested" / "mouse": the focus, or the mouse, on the slider this long first (untimed)
SETTLE_S = 0.4  # pause before each press (not timed): Plotly may still be painting after the app reports idle
VIEWPORT = {"width": 1400, "height": 1000}
FIGURE_DRAWN = f"{FIGURE} .lf-surface .pn-svg"
TARGETS = {"figure": 1.0, "server": 2.0}  # the issue's: ratio of medians to the trivial app's round trip
# --floor: the least a page with the live figure costs. The playground's learning-rate and noise sliders and its live
# figure (the same cached payload), and nothing else: no sidebar of other controls, readouts, words or downloads.
FLOOR_APP = f"""\
import sys

sys.path.insert(0, {str(REPO_ROOT)!r})
import streamlit as st

import components
from compute import cache
from settings import controls

values = controls.defaults() | {{"seed": 1, "momentum": 0.8}}
values["lr"] = st.select_slider(
    "Learning rate", controls.LR_GRID, value=controls.LR_GRID[{START_LR_INDEX}], format_func=lambda v: f"{{v:g}}"
)
values["noise"] = st.slider("Noise level", 0.0, 5.0, {START_NOISE}, 0.1)
components.live_figure(
    cache.live_figure(values, {{}}), key="fig", on_lr=None, on_momentum=None, on_epochs=None, on_start=None
)
"""
FLOOR_CASES = ("sidebar lr, new", "sidebar lr, cached", "noise, new", "noise, stepping on", "noise, cached", "trivial")

# In the page, once: when a key went down (the event's own timeStamp, on performance.now()'s clock), the script
# state's changes, and what the probes read off the live figure.
PAGE_JS = """
(a) => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.__bench = {key: null, states: [], marks: {}};
    document.addEventListener('keydown', (e) => {
        const now = performance.now();
        // e.timeStamp is when the browser took the key; fall back to now if it is on another clock
        const t = e.timeStamp > 0 && e.timeStamp <= now && now - e.timeStamp < 10000 ? e.timeStamp : now;
        if (window.__bench.key === null) window.__bench.key = t;
    }, true);
    const state = () => app.getAttribute('data-test-script-state');
    new MutationObserver(() => window.__bench.states.push([performance.now(), state()]))
        .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    const root = () => {
        const roots = document.querySelectorAll(a.figure);
        return roots.length === 1 ? roots[0] : null;  // while Streamlit re-renders, two may exist for a moment
    };
    const wholePath = (r) => {  // the surface's faint "whole path": the first polyline of its SVG overlay
        const line = r.querySelector('.lf-surface .lf-overlay polyline');
        return line ? line.getAttribute('points') || '' : '';
    };
    const points = (r) => {  // the data panel's points: one SVG path (components/panel.js)
        const dots = r.querySelector('.lf-data .lf-points');
        return dots ? dots.getAttribute('d') || '' : '';
    };
    // Asked only once the result shows, which a rerun brought: so "not running" then means that rerun ended. (A
    // quick rerun may never show "running" at all: React can render both states in one go.)
    const idle = () => !!document.querySelector(a.idle);
    window.__benchProbe = {
        state: () => {
            const r = root();
            return r ? {summary: r.querySelector('.lf-summary').textContent, path: wholePath(r), points: points(r)}
                : null;
        },
        idle: idle,
        // the figure switched to the picked run of its own slider and redrew its path
        figure: (b) => {
            const r = root();
            if (!r) return false;
            const summary = r.querySelector('.lf-summary').textContent;
            const input = r.querySelector(`.lf-slider[data-key=${b.key}] input`);
            const path = wholePath(r);
            return summary !== b.old.summary && summary === `${b.name} ${input.getAttribute('aria-valuetext')}`
                && path !== '' && path !== b.old.path;
        },
        // the figure holds the page's new run (a sidebar learning-rate move) and redrew its path
        run: (b) => {
            const r = root();
            if (!r) return false;
            const path = wholePath(r);
            return r.querySelector('.lf-summary').textContent.startsWith(b.prefix) && path !== ''
                && path !== b.old.path;
        },
        // the figure drew new data: its points moved (the surface and its path are drawn in the same task; a short
        // path may not move by the 0.1 px it is rounded to)
        data: (b) => {
            const r = root();
            if (!r) return false;
            const p = points(r);
            return p !== '' && p !== b.old.points && wholePath(r) !== '';
        },
        // the figure holds the run of a sidebar pick (the method's: the same numbers up to rounding, so nothing to
        // see move) and drew it: its data-query names the pick, its summary is the run's own
        fetched: (b) => {
            const r = root();
            return !!r && new URLSearchParams(r.dataset.query || '').get(b.param) === b.value
                && !r.querySelector('.lf-summary').textContent.includes('computing this run');
        },
        // the page caught up with a move: its URL holds the value
        url: (b) => {
            const value = new URLSearchParams(location.search).get(b.param);
            return typeof b.value === 'string' ? value === b.value : parseFloat(value) === b.value;
        },
        // the trivial app wrote the new value
        text: (b) => Array.from(document.querySelectorAll('[data-testid="stMarkdownContainer"]'))
            .some((e) => e.innerText.trim() === b.text),
    };
}
"""
RESET_JS = "() => { window.__bench.key = null; window.__bench.states = []; window.__bench.marks = {}; }"
# Polled at every animation frame: marks the first frame `kind` holds, then (with idle) the first frame after that
# the app is idle again after a run; returns the marks once it has all it waits for.
DONE_JS = """
(a) => {
    const b = window.__bench, now = performance.now(), probe = window.__benchProbe;
    if (!(a.mark in b.marks) && probe[a.kind](a)) b.marks[a.mark] = now;
    if (!(a.mark in b.marks)) return false;
    if (a.idle) {
        const idleMark = a.mark + ':idle';
        if (!(idleMark in b.marks)) {
            if (!probe.idle()) return false;
            b.marks[idleMark] = now;
        }
    }
    return {key: b.key, marks: b.marks, states: b.states};
}
"""
# Started just before a press: checks DONE_JS at every animation frame from then on (not only once Playwright's own
# polling starts: after a press that keeps the page's main thread busy, a rerun's, that could be 100 ms after the
# frame that showed the result) and keeps what it returns.
ARM_JS = f"""
(a) => {{
    const done = {DONE_JS.strip()}, token = window.__bench.armed = {{}};
    window.__bench.done = null;
    const step = () => {{
        if (window.__bench.armed !== token) return;
        const result = window.__bench.key !== null && done(a);
        if (result) window.__bench.done = result;
        else requestAnimationFrame(step);
    }};
    requestAnimationFrame(step);
}}
"""
QUIET_JS = f"""
() => {{
    const button = document.querySelector('{FIGURE} .lf-play');
    if (button && button.textContent.includes('Pause')) button.click();
}}
"""


# ---------------------------------------------------------------------------------------------------- browser


def slider_thumb(page: Page, label: str):
    """A sidebar (or the trivial app's) st.slider / st.select_slider thumb, by its label."""
    box = page.get_by_test_id("stSlider").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    )
    return box.get_by_role("slider")


def open_app(page: Page, url: str, ready: Callable[[Page], None], timeout_ms: float) -> float:
    """Load a page; wait for its content, then for idle; return the seconds it took."""
    t0 = time.perf_counter()
    page.goto(url)
    ready(page)
    page.locator(APP_IDLE).wait_for(state="attached", timeout=timeout_ms)
    return time.perf_counter() - t0


def playground_ready(timeout_ms: float) -> Callable[[Page], None]:
    def ready(page: Page) -> None:
        page.locator(FIGURE_DRAWN).first.wait_for(state="attached", timeout=timeout_ms)

    return ready


def trivial_ready(timeout_ms: float) -> Callable[[Page], None]:
    def ready(page: Page) -> None:
        page.get_by_text("value = 0", exact=True).wait_for(timeout=timeout_ms)

    return ready


class Sample:
    """One timed key press, from the page's own timeline (ms after the keydown)."""

    def __init__(self, wall_s: float, done: dict, mark: str):
        self.wall_ms = wall_s * 1000
        key, marks = done["key"], done["marks"]
        self.shown = marks[mark] - key
        self.idle = marks[f"{mark}:idle"] - key if f"{mark}:idle" in marks else math.nan
        states = [(t - key, state) for t, state in done["states"]]
        running = [t for t, state in states if state == "running"]
        idle = [t for t, state in states if state == "notRunning"]
        self.to_running = running[0] if running else math.nan  # browser -> server -> first status
        self.script = idle[-1] - running[0] if running and idle and idle[-1] > running[0] else math.nan
        self.reran = bool(running) and running[0] < self.shown  # a rerun started before the picture showed
        self.caught_up = math.nan  # for a figure move: key -> the page caught up (URL) and idle


class Probe:
    """Presses one slider's keys in a page and waits (at every animation frame) until the page shows the result."""

    def __init__(self, page: Page, thumb, timeout_ms: float, quiet: Callable[[], None]):
        self.page, self.thumb, self.timeout_ms, self.quiet = page, thumb, timeout_ms, quiet

    def state(self) -> dict:
        return self.page.evaluate("() => window.__benchProbe.state()")

    def shows(self) -> str | None:
        """What the control shows (a slider's value text)."""
        return self.thumb.get_attribute("aria-valuetext")

    def timed(self, key: str, kind: str, arg: Callable[[], dict], idle: bool) -> Sample:
        """Press `key`, wait until `kind` holds (and with idle, the app is idle again); arg() is read just before
        the press, after the pause, so that what it records as "before" is what the page shows then."""
        time.sleep(SETTLE_S)
        self.quiet()
        arg = {"kind": kind, "mark": "shown", "idle": idle, **arg()}
        before = self.shows()
        self.page.evaluate(RESET_JS)
        self.page.evaluate(ARM_JS, arg)
        t0 = time.perf_counter()
        self.thumb.press(key)
        handle = self.page.wait_for_function("() => window.__bench.done", polling="raf", timeout=self.timeout_ms)
        wall = time.perf_counter() - t0
        self.value = self.shows()
        if self.value == before:
            raise RuntimeError(f"{key} did not move the slider (still {before})")
        return Sample(wall, handle.json_value(), "shown")

    def caught_up(self, sample: Sample, setting: str, value: str | None = None) -> Sample:
        """Waits (untimed for the ratio) until the page caught up with the move: the URL holds the value (a
        number: the control's, shown; or this text) and the app is idle; notes when, on the sample."""
        value = float(self.value) if value is None else value
        handle = self.page.wait_for_function(
            DONE_JS,
            arg={"kind": "url", "mark": "caught", "idle": True, "param": setting, "value": value},
            polling="raf",
            timeout=self.timeout_ms,
        )
        done = handle.json_value()
        sample.caught_up = done["marks"]["caught:idle"] - done["key"]
        return sample


class FigureProbe(Probe):
    """One of the live figure's own sliders ("lr" or "momentum"): shown when the figure switched to the picked run;
    then waits, untimed for the ratio, for the page to catch up (the URL holds the value, the app idle)."""

    def __init__(self, page: Page, setting: str, timeout_ms: float, quiet: Callable[[], None]):
        thumb = page.locator(f"{FIGURE} .lf-slider[data-key={setting}] input[type=range]")
        super().__init__(page, thumb, timeout_ms, quiet)
        self.setting, self.name = setting, thumb.get_attribute("aria-label")

    def press(self, key: str) -> Sample:
        def arg() -> dict:
            return {"key": self.setting, "name": self.name, "old": self.state()}

        sample = self.timed(key, "figure", arg, idle=False)
        self.value = self.value.split(":")[0]  # "0.0015: converges, ..." -> "0.0015"
        return self.caught_up(sample, self.setting)


class FigureNoiseProbe(FigureProbe):
    """The live figure's own "Noise level" slider: shown when the figure drew the run it fetched from the server's
    route for the new data (its points moved), with no rerun before (the "reran" column); then the page
    catches up, untimed for the ratio."""

    def __init__(self, page: Page, timeout_ms: float, quiet: Callable[[], None]):
        super().__init__(page, "noise", timeout_ms, quiet)

    def press(self, key: str) -> Sample:
        sample = self.timed(key, "data", lambda: {"old": self.state()}, idle=False)
        return self.caught_up(sample, "noise")


class SidebarLrProbe(Probe):
    """The sidebar's learning-rate select_slider: shown when the figure shows the run at the new learning rate
    (from its ladder, before the page's rerun comes back); then, untimed for the ratio, the page catches up."""

    def __init__(self, page: Page, index: int, timeout_ms: float, quiet: Callable[[], None], floor: bool = False):
        super().__init__(page, slider_thumb(page, "Learning rate"), timeout_ms, quiet)
        self.index, self.floor = index, floor

    def press(self, key: str) -> Sample:
        self.index += 1 if key == "ArrowRight" else -1
        prefix = f"Learning rate {controls.LR_GRID[self.index]:g}:"
        # the floor page's sliders are not the playground's (no key, no URL): its figure waits for the rerun
        sample = self.timed(key, "run", lambda: {"prefix": prefix, "old": self.state()}, idle=self.floor)
        return sample if self.floor else self.caught_up(sample, "lr")


class NoiseProbe(Probe):
    """The sidebar's "Noise level" slider: shown when the figure drew the new data (its points moved: the run
    fetched from the route, or the page's rerun, whichever came first); then, untimed for the ratio, the page
    catches up."""

    def __init__(self, page: Page, timeout_ms: float, quiet: Callable[[], None], floor: bool = False):
        super().__init__(page, slider_thumb(page, "Noise level"), timeout_ms, quiet)
        self.floor = floor

    def press(self, key: str) -> Sample:
        sample = self.timed(key, "data", lambda: {"old": self.state()}, idle=self.floor)
        return sample if self.floor else self.caught_up(sample, "noise")


class ChoiceProbe(Probe):
    """A sidebar select box (the dataset's or the method's): untimed, the box opened and an option's first words typed
    to leave it alone in the list, then ArrowDown to it (the figure fetches the run of the option the learner is on,
    ahead); timed, Enter. Shown when the figure drew the picked run (the dataset's: its points and path moved; the
    method's, the same numbers up to rounding: the figure's data-query names it); then, untimed for the ratio, the
    page catches up."""

    def __init__(self, page: Page, key: str, timeout_ms: float, quiet: Callable[[], None]):
        thumb = page.locator(f"[data-testid=stSidebar] .st-key-ctl_{key} input[role=combobox]")
        super().__init__(page, thumb, timeout_ms, quiet)
        self.key = key

    def shows(self) -> str | None:
        return self.thumb.input_value()

    def pick(self, option: str) -> Sample:
        label = controls.BY_KEY[self.key].labels[option]
        self.thumb.click()
        self.thumb.fill(label[:12])
        self.page.get_by_role("option", name=label, exact=True).wait_for(timeout=self.timeout_ms)
        self.thumb.press("ArrowDown")
        kind = "data" if self.key == "dataset" else "fetched"
        sample = self.timed(
            "Enter", kind, lambda: {"old": self.state(), "param": self.key, "value": option}, idle=False
        )
        if self.value != label:
            raise RuntimeError(f"Enter picked {self.value!r}, not {label!r}")
        return self.caught_up(sample, self.key, option)


class TrivialProbe(Probe):
    """The one slider of the trivial app; shown when the written text shows the new value."""

    def __init__(self, page: Page, timeout_ms: float, quiet: Callable[[], None]):
        super().__init__(page, slider_thumb(page, "Value"), timeout_ms, quiet)
        self.count = 0

    def press(self) -> Sample:
        key = "ArrowRight" if self.count % 2 == 0 else "ArrowLeft"  # 0, 1, 0, 1, ...: never off its ends
        self.count += 1
        expected = int(self.thumb.input_value()) + (1 if key == "ArrowRight" else -1)
        return self.timed(key, "text", lambda: {"text": f"value = {expected}"}, idle=True)


# ---------------------------------------------------------------------------------------------------- report


def stat(values, fn) -> float:
    """fn of the known values; NaN when none is known."""
    known = np.asarray(values, dtype=float)
    known = known[~np.isnan(known)]
    return float(fn(known)) if len(known) else math.nan


def p50(values) -> float:
    return stat(values, np.median)


def p95(values) -> float:
    return stat(values, lambda v: np.percentile(v, 95))


def col(value: float, width: int, spec: str = ".0f") -> str:
    """A number right-aligned in `width` characters; "-" when it is unknown (NaN)."""
    return f"{'-':>{width}}" if math.isnan(value) else f"{value:>{width}{spec}}"


CASES = {  # case -> (kind of target, what it is)
    "figure lr": ("figure", "the figure's Learning rate slider (browser only)"),
    "figure momentum": ("figure", "the figure's Momentum slider (browser only)"),
    "sidebar lr, new": ("server", "sidebar Learning rate up: the figure follows, the page trains the run"),
    "sidebar lr, cached": ("server", "sidebar Learning rate, back down (cached)"),
    "noise, new": ("server", "sidebar Noise level down, a first step: new data, from the route (and the rerun)"),
    "noise, new, rested": ("server", "the same, pressed after resting on the slider (its neighbours fetched ahead)"),
    "noise, new, mouse": ("server", "the same, the mouse over the slider first (its neighbours fetched ahead)"),
    "noise, stepping on": ("server", "sidebar Noise level down again: the level fetched ahead after the step before"),
    "noise, cached": ("server", "sidebar Noise level back up (kept in the browser or cached)"),
    "figure noise, new": ("server", "the figure's Noise level 5 levels up: new data from the route, no rerun"),
    "figure noise, cached": ("server", "the figure's Noise level 5 levels back down (cached on the server)"),
    "figure noise, ahead": ("server", "the figure's Noise level a level up, that level fetched ahead"),
    "dataset, new": ("server", "sidebar Dataset picked: a run not computed yet, from the route (and the rerun)"),
    "dataset, back": ("server", "sidebar Dataset picked back (kept in the browser)"),
    "method, new": ("server", "sidebar gradient method picked: a run not computed yet, from the route"),
    "method, back": ("server", "sidebar gradient method picked back (kept in the browser)"),
    "trivial": ("", "the trivial app's slider (baseline)"),
}
TOGETHER = (
    "figure noise, new",
    "figure noise, cached",
    "figure noise, ahead",
    *(f"{c}, {w}" for c in ("dataset", "method") for w in ("new", "back")),
)
DATASETS = ("lab", "four-points", "thermometer", "wave", "single-point")  # picked in turn from "line" (2-D panels)
METHODS = ("autograd", "finite-difference", "analytic")  # picked in turn from "optimizer"


def print_report(samples: dict[str, list[Sample]], loads: dict[str, float], browser_version: str) -> None:
    base = p50([s.shown for s in samples["trivial"]])
    base_idle = p50([s.idle for s in samples["trivial"]])
    print()
    print(
        f"Latency, page clock: keydown -> first frame showing the result, ms (Chromium {browser_version}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {SETTLE_S:g} s pause before each press)"
    )
    print(
        f"{'case':<20}{'n':>3}{'median':>8}{'p95':>7}{'/ trivial':>10}{'target':>8} |{'idle':>6}{'p95':>7}"
        f"{'/ triv':>8} |{'wall':>6}{'->run':>7}{'script':>7}{'reran':>6}{'caught up':>11}"
    )
    for name, group in samples.items():
        if not group:
            continue
        kind = CASES[name][0]
        shown = [s.shown for s in group]
        idle = [s.idle for s in group]
        ratio = p50(shown) / base
        verdict = f"{'ok' if ratio <= TARGETS[kind] else 'OVER'} {TARGETS[kind]:g}" if kind else ""
        caught = [s.caught_up for s in group]
        # a sidebar move reruns first, of course; a figure move must not
        reran = sum(s.reran for s in group) if name.startswith("figure") else "-"
        print(
            f"{name:<20}{len(group):>3}{col(p50(shown), 8)}{col(p95(shown), 7)}{col(ratio, 10, '.2f')}{verdict:>8} |"
            f"{col(p50(idle), 6)}{col(p95(idle), 7)}{col(p50(idle) / base_idle, 8, '.2f')} |"
            f"{col(p50([s.wall_ms for s in group]), 6)}{col(p50([s.to_running for s in group]), 7)}"
            f"{col(p50([s.script for s in group]), 7)}{reran:>6}{col(p50(caught), 11)}"
        )
    print(
        "(median / p95: keydown -> the result shown; / trivial: ratio of medians to the trivial app's, and target: "
        "the issue's limit on it; idle: keydown -> the app idle after the rerun (none for a figure move); wall: "
        "the same press seen from Python; ->run, script: keydown -> script state 'running' -> last 'notRunning'; "
        "reran: presses where a rerun started before the result showed (a figure move must have none); caught up: "
        "a figure move -> the URL holds its value and the app is idle)"
    )
    for name, (_, what) in CASES.items():
        print(f"  {name:<20}{what}")
    print()
    print("Page load: goto -> content drawn and app idle")
    for name, seconds in loads.items():
        print(f"  {name:<46}{seconds * 1000:>8.0f} ms")


# ---------------------------------------------------------------------------------------------------- main


def measure(args, playground: StreamlitServer, trivial: StreamlitServer) -> tuple[dict, dict, str]:
    """Open both apps, then press alternately (a trivial press after each playground press), case by case."""
    timeout_ms = args.timeout * 1000
    samples: dict[str, list[Sample]] = {name: [] for name in CASES}
    loads: dict[str, float] = {}
    # seed=1: data that neither the server's warm-up (the default link) nor an earlier press has trained on.
    link = (
        f"{playground.url}/?lr={controls.LR_GRID[START_LR_INDEX]:g}&momentum={START_MOMENTUM:g}&seed=1"
        f"&noise={START_NOISE:g}"
    )
    with sync_playwright() as pw:
        executable = chromium_executable()
        launch = {"args": CHROMIUM_ARGS, **({"executable_path": executable} if executable else {})}
        browser = pw.chromium.launch(**launch)
        try:
            play_page = browser.new_context(viewport=VIEWPORT).new_page()
            loads["playground, first session (fresh server)"] = open_app(
                play_page, link, playground_ready(timeout_ms), timeout_ms
            )
            other = browser.new_context(viewport=VIEWPORT).new_page()
            loads["playground, second session, same link"] = open_app(
                other, link, playground_ready(timeout_ms), timeout_ms
            )
            other.context.close()
            triv_page = browser.new_context(viewport=VIEWPORT).new_page()
            loads["trivial, first session"] = open_app(triv_page, trivial.url, trivial_ready(timeout_ms), timeout_ms)
            for page in (play_page, triv_page):
                page.evaluate(PAGE_JS, {"figure": FIGURE, "idle": APP_IDLE})

            def quiet() -> None:
                play_page.evaluate(QUIET_JS)

            triv = TrivialProbe(triv_page, timeout_ms, quiet)

            def run(case: str, probe, key: str) -> None:
                sample = probe.pick(key) if isinstance(probe, ChoiceProbe) else probe.press(key)
                samples[case].append(sample)
                trivial_sample = triv.press()
                samples["trivial"].append(trivial_sample)
                caught = f" (caught up {sample.caught_up:5.0f})" if not math.isnan(sample.caught_up) else ""
                print(
                    f"  {case:<20} -> {probe.value:<8}{sample.shown:7.0f} ms{caught}"
                    f"   trivial -> {triv.value:<4}{trivial_sample.shown:5.0f} ms",
                    flush=True,
                )

            floor = args.floor
            sidebar_lr = SidebarLrProbe(play_page, START_LR_INDEX, timeout_ms, quiet, floor)
            for key, case in (("ArrowRight", "sidebar lr, new"), ("ArrowLeft", "sidebar lr, cached")):
                for _ in range(args.n if case in CASES else 0):  # --case: only the cases named
                    run(case, sidebar_lr, key)
            for setting, keys in (("lr", ("ArrowRight", "ArrowLeft")), ("momentum", ("ArrowLeft", "ArrowRight"))):
                if f"figure {setting}" not in CASES:  # --floor
                    continue
                probe = FigureProbe(play_page, setting, timeout_ms, quiet)
                for key in keys:
                    for _ in range(args.n):
                        run(f"figure {setting}", probe, key)
            noise = NoiseProbe(play_page, timeout_ms, quiet, floor)
            # a first step on new data, each on a page loaded anew with a seed no press trained on: pressed at once
            # (Playwright focuses the slider and presses in one go), after its focus rested, after the mouse rested
            # over it (Streamlit's track lies over its range input)
            firsts = {
                "noise, new": (11, None),
                "noise, new, rested": (31, noise.thumb.focus),
                "noise, new, mouse": (51, lambda: noise.thumb.hover(force=True)),
            }
            for case, (seed, before) in firsts.items():
                if case not in CASES:  # --floor: its figure does not follow its sliders, so fetches nothing ahead
                    continue
                for k in range(args.n):
                    open_app(
                        play_page, link.replace("seed=1", f"seed={seed + k}"), playground_ready(timeout_ms), timeout_ms
                    )
                    play_page.evaluate(PAGE_JS, {"figure": FIGURE, "idle": APP_IDLE})
                    if before:
                        before()
                        time.sleep(RESTED_S)
                    run(case, noise, "ArrowLeft")
                    play_page.mouse.move(0, 0)
            for key, case in (("ArrowLeft", "noise, stepping on"), ("ArrowRight", "noise, cached")):
                for _ in range(args.n if case in CASES else 0):
                    run(case, noise, key)
            if "figure noise, new" in CASES:  # not --floor (its page has no route to fetch from), nor --case
                figure_noise = FigureNoiseProbe(play_page, timeout_ms, quiet)
                # jumps of five levels up (never fetched ahead: the figure fetches the next single level), back down
                for key, case in (("PageUp", "figure noise, new"), ("PageDown", "figure noise, cached")):
                    for _ in range(args.n):
                        run(case, figure_noise, key)
                figure_noise.press("ArrowRight")  # untimed: the first step up, after which each next one is ahead
                for _ in range(args.n):
                    run("figure noise, ahead", figure_noise, "ArrowRight")
                dataset = ChoiceProbe(play_page, "dataset", timeout_ms, quiet)
                picks = DATASETS[: min(args.n, len(DATASETS))]
                for case, options in (("dataset, new", picks), ("dataset, back", (*picks[-2::-1], "line"))):
                    for option in options:
                        run(case, dataset, option)
                play_page.get_by_text("Method, batch, start, device", exact=True).click()  # its folded section
                play_page.locator(".st-key-ctl_method input[role=combobox]").wait_for(timeout=timeout_ms)
                play_page.locator(APP_IDLE).wait_for(state="attached", timeout=timeout_ms)
                method = ChoiceProbe(play_page, "method", timeout_ms, quiet)
                picks = METHODS[: min(args.n, len(METHODS))]
                for case, options in (("method, new", picks), ("method, back", (*picks[-2::-1], "optimizer"))):
                    for option in options:
                        run(case, method, option)
            return samples, loads, browser.version
        finally:
            browser.close()


def with_servers(args, measure, prefix: str, app_source: str | None = None):
    """Start the app (app.py, or a script with app_source beside a link to static/) and the trivial app from the
    repository root, wait until both answer, return measure(args, app_server, trivial_server); both are stopped at
    the end, also on Ctrl-C, SIGTERM or an error (then with their logs' tails)."""
    # SIGTERM (e.g. a CI timeout) ends through the `finally` below, like Ctrl-C, so the servers stop.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        tmp_dir = Path(tmp)
        trivial_script = tmp_dir / "trivial_app.py"
        trivial_script.write_text(TRIVIAL_APP)
        script = REPO_ROOT / "app.py"
        if app_source is not None:  # Streamlit serves static/ beside the script it runs: Plotly.js for the figure
            script = tmp_dir / "floor_app.py"
            script.write_text(app_source)
            (tmp_dir / "static").symlink_to(ensure_plotly_js().parent, target_is_directory=True)
        app = StreamlitServer(script, free_port(), tmp_dir / "app.log")
        trivial = StreamlitServer(trivial_script, free_port(), tmp_dir / "trivial.log")
        servers = (app, trivial)
        try:
            for server in servers:
                server.start()
            for server in servers:
                server.wait_healthy(timeout=120)
            print(f"Servers up: app {app.url}, trivial {trivial.url}; {args.n} presses each way")
            return measure(args, app, trivial)
        except BaseException:
            for server in servers:
                print(f"--- {server.script.name} log (tail) ---\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            for server in servers:
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10, help="presses each way per case (default 10)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one result (default 120)")
    parser.add_argument("--no-sizes", action="store_true", help="skip the payload sizes (bench/bench_rerun.py)")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="time the sidebar and noise moves on a page that has only those two sliders and the live figure",
    )
    parser.add_argument(
        "--case",
        action="append",
        choices=[name for name in CASES if name != "trivial"],
        help="time only this case (and the trivial app's); may be given more than once; the figure's noise, the "
        "dataset and the method cases come together (one sequence of presses)",
    )
    args = parser.parse_args()
    # the figure's momentum moves go down its ladder from START_MOMENTUM; the learning rate's go up from START_LR
    most = min(family.MOMENTUM_GRID.index(START_MOMENTUM), len(controls.LR_GRID) - 1 - START_LR_INDEX, 10)
    if not 1 <= args.n <= most:  # and the noise moves, 0.1 a press down from START_NOISE
        parser.error(f"--n must be 1 to {most} (the momentum ladder's rungs below {START_MOMENTUM:g})")

    if args.floor:
        for name in set(CASES) - set(FLOOR_CASES):
            del CASES[name]
        for name in set(FLOOR_CASES) - {"trivial"}:  # its sliders are not the playground's: the figure waits
            CASES[name] = ("server", f"{name}: the floor page's rerun")
    if args.case:
        wanted = {*args.case, "trivial"} | (set(TOGETHER) if set(TOGETHER) & set(args.case) else set())
        for name in set(CASES) - wanted:
            del CASES[name]
    samples, loads, version = with_servers(args, measure, "bench_latency_", FLOOR_APP if args.floor else None)
    print_report(samples, loads, version)
    if not args.no_sizes:
        from bench import bench_rerun  # torch and the engine: only after the servers have stopped

        bench_rerun.print_sizes(bench_rerun.payload_sizes())


if __name__ == "__main__":
    main()
