"""Click-to-picture latency of the playground in a real browser, against a trivial Streamlit app on the same machine.

    python bench/bench_latency.py              # 15 key presses per case
    python bench/bench_latency.py --n 25

Starts two servers from the repository root (so both use its .streamlit/config.toml): the playground
(`streamlit run app.py`) and a one-slider app written to a temporary file. In Chromium it then times, alternating
between the two apps, the wall time from pressing ArrowRight (or ArrowLeft) on a slider to the new content being
drawn and the app idle:
- playground-new: the learning-rate slider one notch up to a value this server has not computed yet, until the
  figure in the page holds a new run (Plotly's step labels changed) and the script state is notRunning;
- playground-cached: the same notches back down (st.cache_data has those runs and figures);
- in-chart: clicks along the rail of the family chart's slider (every learning rate at once, under the main
  figure), until its label names the picked run: the browser alone, no rerun (one would be an error);
- trivial: the one slider, until the written value shows and the app is idle.
It prints medians, p90 and max, and ratios to the trivial app (a shared machine is noisy; ratios travel better than
milliseconds), with where the time went by the page's own clock (key -> script running -> idle -> drawn), page
load times, then the JSON size of the playground figure (and its train / build / JSON times) for the default run and
for the largest runs the controls allow. Both servers are stopped at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
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
import plotly.io as pio  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

import charts  # noqa: E402
import engine  # noqa: E402
from bench import loadlib  # noqa: E402
from bench.loadlib import StreamlitServer, free_port  # noqa: E402
from tests.e2e.helpers import APP_IDLE, CHROMIUM_ARGS, chromium_executable  # noqa: E402
from ui import controls, family, runs  # noqa: E402

LR_LABEL = "Learning rate"
START_LR_INDEX = 12  # 0.001 on the ladder: the moves up stay below divergence, so every run does all its steps
SETTLE_S = 0.4  # pause before each press (not timed): Plotly may still be painting after the app reports idle
VIEWPORT = {"width": 1400, "height": 1000}

# In the page: when a key went down and when the script state changed (performance.now(), ms).
TIMELINE_JS = """
() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.__bench = {key: null, states: []};
    document.addEventListener('keydown', () => { window.__bench.key = performance.now(); }, true);
    document.addEventListener('pointerdown', () => { window.__bench.key = performance.now(); }, true);
    const state = () => app.getAttribute('data-test-script-state');
    new MutationObserver(() => window.__bench.states.push([performance.now(), state()]))
        .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}
"""
TIMELINE_RESET_JS = "() => { window.__bench.key = null; window.__bench.states = []; }"
# Script idle, exactly one chart node, its step labels (the run's numbers) differ from the old ones.
PLAYGROUND_DONE_JS = """
(a) => {
    if (!document.querySelector(a.idle)) return false;
    const charts = document.querySelectorAll('.st-key-playground_chart [data-testid="stPlotlyChart"]');
    if (charts.length !== 1) return false;
    const labels = Array.from(charts[0].querySelectorAll('.slider-container .slider-labels text'));
    const fp = labels.map(t => t.textContent).join('|');
    return fp !== '' && fp !== a.old ? {fp: fp, t: performance.now(), timeline: window.__bench} : false;
}
"""
PLAYGROUND_FINGERPRINT_JS = """
() => Array.from(document.querySelectorAll(
    '.st-key-playground_chart [data-testid="stPlotlyChart"] .slider-container .slider-labels text'
)).map(t => t.textContent).join('|')
"""
# The family chart's slider label (the picked run) differs from the old one: no rerun is involved.
FAMILY_LABEL = '.st-key-family_chart [data-testid="stPlotlyChart"] .slider-container .slider-group > text'
FAMILY_DONE_JS = """
(a) => {
    const labels = document.querySelectorAll(a.label);
    if (labels.length !== 1 || labels[0].textContent === a.old) return false;
    return {fp: labels[0].textContent, t: performance.now(), timeline: window.__bench};
}
"""
# Script idle and the written value on the page.
TRIVIAL_DONE_JS = """
(a) => !!document.querySelector(a.idle) && Array.from(
    document.querySelectorAll('[data-testid="stMarkdownContainer"]')).some(e => e.innerText.trim() === a.text)
    && {fp: a.text, t: performance.now(), timeline: window.__bench}
"""


# ---------------------------------------------------------------------------------------------------- browser


def slider_thumb(page: Page, label: str):
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
        page.locator(
            '.st-key-playground_chart [data-testid="stPlotlyChart"] .slider-container .slider-labels text'
        ).first.wait_for(state="attached", timeout=timeout_ms)

    return ready


def trivial_ready(timeout_ms: float) -> Callable[[Page], None]:
    def ready(page: Page) -> None:
        page.get_by_text("value = 0", exact=True).wait_for(timeout=timeout_ms)

    return ready


class Sample:
    """One timed key press: the wall time seen from here and the page's own timeline of it (ms)."""

    def __init__(self, wall_s: float, done: dict):
        self.wall_ms = wall_s * 1000
        timeline = done["timeline"]
        key = timeline["key"] if timeline["key"] is not None else float("nan")
        running = [t for t, state in timeline["states"] if state == "running"]
        idle = [t for t, state in timeline["states"] if state == "notRunning"]
        self.to_running = running[0] - key if running else float("nan")  # browser -> server -> first status
        self.script = idle[-1] - running[0] if running and idle else float("nan")  # the rerun, deltas included
        self.after_idle = max(0.0, done["t"] - idle[-1]) if idle else float("nan")  # drawing left after idle


class Probe:
    """Presses a slider's keys in one page and waits until the page shows the result and is idle."""

    done_js = ""

    def __init__(self, page: Page, label: str, timeout_ms: float):
        self.page, self.timeout_ms = page, timeout_ms
        self.thumb = slider_thumb(page, label)
        page.evaluate(TIMELINE_JS)

    def done_arg(self, key: str) -> dict:
        raise NotImplementedError

    def press(self, key: str) -> Sample:
        time.sleep(SETTLE_S)
        arg = {"idle": APP_IDLE, **self.done_arg(key)}
        before = self.thumb.get_attribute("aria-valuetext")
        self.page.evaluate(TIMELINE_RESET_JS)
        t0 = time.perf_counter()
        self.thumb.press(key)
        handle = self.page.wait_for_function(self.done_js, arg=arg, polling="raf", timeout=self.timeout_ms)
        wall = time.perf_counter() - t0
        done = handle.json_value()
        self.value = self.thumb.get_attribute("aria-valuetext")
        if self.value == before:
            raise RuntimeError(f"{key} did not move the slider (still {before})")
        self.fingerprint = done["fp"]
        return Sample(wall, done)


class PlaygroundProbe(Probe):
    """The learning-rate slider; done when the figure holds another run (its step labels changed)."""

    done_js = PLAYGROUND_DONE_JS

    def __init__(self, page: Page, timeout_ms: float):
        super().__init__(page, LR_LABEL, timeout_ms)
        self.fingerprint = page.evaluate(PLAYGROUND_FINGERPRINT_JS)

    def done_arg(self, key: str) -> dict:
        return {"old": self.fingerprint}


class InChartProbe:
    """Clicks on the rail of the family chart's slider (every learning rate at once): done when its label names
    another run. The browser alone does this; a rerun during it is an error."""

    def __init__(self, page: Page, timeout_ms: float):
        self.page, self.timeout_ms = page, timeout_ms
        self.chart = page.locator(".st-key-family_chart")
        self.chart.scroll_into_view_if_needed()
        page.evaluate(TIMELINE_JS)

    def click(self, fraction: float) -> Sample:
        time.sleep(SETTLE_S)
        old = self.page.locator(FAMILY_LABEL).text_content()
        rail = self.chart.locator(".slider-rail-touch-rect").bounding_box()
        self.page.evaluate(TIMELINE_RESET_JS)
        t0 = time.perf_counter()
        self.page.mouse.click(rail["x"] + rail["width"] * fraction, rail["y"] + rail["height"] / 2)
        handle = self.page.wait_for_function(
            FAMILY_DONE_JS, arg={"label": FAMILY_LABEL, "old": old}, polling="raf", timeout=self.timeout_ms
        )
        wall = time.perf_counter() - t0
        done = handle.json_value()
        if any(state == "running" for _, state in done["timeline"]["states"]):
            raise RuntimeError("a click on the family chart's slider reran the script")
        self.value = done["fp"].split(":")[0]
        return Sample(wall, done)


class TrivialProbe(Probe):
    """The one slider of the trivial app; done when the written text shows the new value."""

    done_js = TRIVIAL_DONE_JS

    def __init__(self, page: Page, timeout_ms: float):
        super().__init__(page, "Value", timeout_ms)

    def done_arg(self, key: str) -> dict:
        expected = int(self.thumb.input_value()) + (1 if key == "ArrowRight" else -1)
        return {"text": f"value = {expected}"}


# ---------------------------------------------------------------------------------------------------- figures


def figure_sizes() -> list[tuple[str, int, int, float, float, float, float, float]]:
    """(run, steps, frames, JSON kB, train s, figure s, JSON s, family JSON kB) for the default run and the largest
    allowed runs (the family: every learning rate of the ladder, the chart under the main one)."""
    n_max = controls.MAX_UI_POINTS
    cases = {
        "default (line, n=30, 60 epochs)": {},
        f"line n={n_max}, full batch, {engine.MAX_EPOCHS} epochs": {
            "n": n_max,
            "epochs": engine.MAX_EPOCHS,
            "lr": 0.01,
        },
        f"line n={n_max}, batch 200, 2000 epochs": {
            "n": n_max,
            "batch": "mini-batch",
            "batch_size": 200,
            "epochs": 2000,
            "lr": 0.01,
        },
        f"plane n={n_max}, full batch, {engine.MAX_EPOCHS} epochs": {
            "dataset": "plane",
            "n": n_max,
            "epochs": engine.MAX_EPOCHS,
            "lr": 0.01,
        },
        "line, lr=10 (diverges at once)": {"lr": 10.0},
    }

    def figure(result: runs.RunResult):
        return charts.playground_figure(result.dataset, result.history, result.surface, result.optimum, result.fit_bias)

    engine.warm_up()  # first-call costs (lazy imports of torch kernels and plotly validators) out of the timings
    pio.to_json(figure(runs.compute(controls.defaults())), validate=False)
    rows = []
    for name, changes in cases.items():
        values = {**controls.defaults(), **changes}
        t0 = time.perf_counter()
        result = runs.compute(values)
        t1 = time.perf_counter()
        fig = figure(result)
        t2 = time.perf_counter()
        size = len(pio.to_json(fig, validate=False))
        t3 = time.perf_counter()
        steps = int(result.history.steps)
        if steps > engine.MAX_STEPS:
            raise AssertionError(f"{name}: {steps} steps is over engine.MAX_STEPS")
        fam = "" if family.unavailable(values) else pio.to_json(charts.family_figure(family.build(values, "lr")))
        rows.append((name, steps, len(fig["frames"]), size / 1000, t1 - t0, t2 - t1, t3 - t2, len(fam) / 1000))
    return rows


# ---------------------------------------------------------------------------------------------------- report


def median(values) -> float:
    """Median of the known values; NaN when none is known (in-chart clicks have no server timeline)."""
    known = np.asarray(values, dtype=float)
    known = known[~np.isnan(known)]
    return float(np.median(known)) if len(known) else float("nan")


def print_report(samples: dict[str, list[Sample]], loads: dict[str, float], sizes, browser_version: str) -> None:
    trivial_median = median([s.wall_ms for s in samples["trivial"]])
    print()
    print(
        f"Latency: key press on a slider -> new content drawn and app idle, wall ms "
        f"(Chromium {browser_version}, {os.cpu_count()} CPUs, {SETTLE_S:g} s pause before each press)"
    )
    print(
        f"{'case':<19}{'n':>3}{'median':>8}{'p90':>7}{'max':>7}{'/ trivial':>11}"
        f" |{'key->running':>13}{'script':>8}{'drawn after idle':>18}"
    )
    for name, group in samples.items():
        wall = np.array([s.wall_ms for s in group])
        print(
            f"{name:<19}{len(group):>3}{np.median(wall):>8.0f}{np.percentile(wall, 90):>7.0f}{wall.max():>7.0f}"
            f"{np.median(wall) / trivial_median:>11.1f} |{median([s.to_running for s in group]):>13.0f}"
            f"{median([s.script for s in group]):>8.0f}{median([s.after_idle for s in group]):>18.0f}"
        )
    print(
        "(right of |: medians of the page's own timeline: key down -> script state 'running' -> 'notRunning' "
        "-> content drawn)"
    )
    new, cached = (median([s.wall_ms for s in samples[k]]) for k in ("playground-new", "playground-cached"))
    print(f"playground-cached / playground-new (medians): {cached / new:.2f}")
    print()
    print("Page load: goto -> content drawn and app idle")
    for name, seconds in loads.items():
        print(f"  {name:<46}{seconds * 1000:>8.0f} ms")
    print()
    print("Playground figure size: len(plotly.io.to_json(fig, validate=False)); times in this process, one run each")
    head = f"{'run':<46}{'steps':>7}{'frames':>8}{'JSON kB':>9}{'train s':>9}{'figure s':>10}{'JSON s':>8}"
    print(head + f"{'family kB':>11}")
    for name, steps, frames, kb, train_s, fig_s, json_s, family_kb in sizes:
        row = f"{name:<46}{steps:>7}{frames:>8}{kb:>9.0f}{train_s:>9.2f}{fig_s:>10.2f}{json_s:>8.2f}"
        print(row + (f"{family_kb:>11.0f}" if family_kb else f"{'(none)':>11}"))


# ---------------------------------------------------------------------------------------------------- main


def measure(
    args, playground: StreamlitServer, trivial: StreamlitServer
) -> tuple[dict[str, list[Sample]], dict[str, float], str]:
    """Open both apps, then press alternately: N notches up the learning rate (new runs), N back (cached)."""
    timeout_ms = args.timeout * 1000
    samples: dict[str, list[Sample]] = {"playground-new": [], "playground-cached": [], "in-chart": [], "trivial": []}
    loads: dict[str, float] = {}
    # seed=1: data that neither the server's warm-up (the default link) nor an earlier press has trained on.
    link = f"{playground.url}/?lr={controls.LR_GRID[START_LR_INDEX]:g}&seed=1"
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

            play, triv = PlaygroundProbe(play_page, timeout_ms), TrivialProbe(triv_page, timeout_ms)
            for key, case in (("ArrowRight", "playground-new"), ("ArrowLeft", "playground-cached")):
                for _ in range(args.n):
                    sample = play.press(key)
                    samples[case].append(sample)
                    trivial_sample = triv.press(key)
                    samples["trivial"].append(trivial_sample)
                    print(
                        f"  {case:<18} lr -> {play.value:<8}{sample.wall_ms:7.0f} ms"
                        f"   trivial -> {triv.value:<4}{trivial_sample.wall_ms:5.0f} ms"
                    )
            in_chart = InChartProbe(play_page, timeout_ms)
            for i in range(args.n):
                sample = in_chart.click(0.05 + 0.9 * ((7 * i) % args.n) / max(args.n - 1, 1))
                samples["in-chart"].append(sample)
                print(f"  {'in-chart':<18} {in_chart.value:<30}{sample.wall_ms:7.0f} ms")
            return samples, loads, browser.version
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=15, help="presses per direction (default 15)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one result (default 120)")
    args = parser.parse_args()
    if not 1 <= args.n <= len(controls.LR_GRID) - 1 - START_LR_INDEX:
        parser.error(f"--n must be 1 to {len(controls.LR_GRID) - 1 - START_LR_INDEX} (notches above lr=0.001)")

    # SIGTERM (e.g. a CI timeout) ends through the `finally` below, like Ctrl-C, so the servers stop.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory(prefix="bench_latency_") as tmp:
        tmp_dir = Path(tmp)
        trivial_script = tmp_dir / "trivial_app.py"
        trivial_script.write_text(loadlib.TRIVIAL_APP)
        playground = StreamlitServer(REPO_ROOT / "app.py", free_port(), tmp_dir / "playground.log")
        trivial = StreamlitServer(trivial_script, free_port(), tmp_dir / "trivial.log")
        servers = (playground, trivial)
        try:
            for server in servers:
                server.start()
            for server in servers:
                server.wait_healthy(timeout=120)
            print(f"Servers up: playground {playground.url}, trivial {trivial.url}; {args.n} presses each way")
            samples, loads, version = measure(args, playground, trivial)
        except BaseException:
            for server in servers:
                print(f"--- {server.script.name} log (tail) ---\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            for server in servers:
                server.stop()
    print("Figure sizes (in this process, after the servers stopped) ...")
    print_report(samples, loads, figure_sizes(), version)


if __name__ == "__main__":
    main()
