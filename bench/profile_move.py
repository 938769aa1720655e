"""Where the browser's main thread spends a sidebar move: a CPU profile of the page, summed by script and function.

    python bench/profile_move.py                                   # the playground's "Noise level", cached
    python bench/profile_move.py --path "/overfitting?test_fraction=0.25&degree=3" --label "Polynomial degree"

Starts the app, opens the page in Chromium, presses the sidebar slider's ArrowRight and ArrowLeft once each (the
timed value is then cached), then records a CPU profile (Chrome DevTools Protocol, 0.2 ms sampling) from one more
ArrowRight to --window ms after it. It prints the sampled time per script file (Streamlit's bundles by name, "" for
the browser's own work: layout, style, paint, idle) and the functions with the most time inside them. The playground's
figure plays each new run by itself, so its playback (tick, drawPanels) is part of what a move costs the page here.
Profiling slows the page down, so compare shares, not milliseconds with bench_latency.py. The server is stopped at the
end.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def summarize(profile: dict, top: int) -> None:
    """Print the profile's sampled ms per script file, and per function including its callees."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    parent = {c: n["id"] for n in profile["nodes"] for c in n.get("children", [])}

    def name(node: dict) -> str:
        frame = node["callFrame"]
        return f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('/', 1)[-1][:40]}:{frame['lineNumber']}"

    by_file, inclusive = collections.Counter(), collections.Counter()
    for sample, dt in zip(profile["samples"], [*profile["timeDeltas"][1:], 0], strict=True):
        node = nodes[sample]
        by_file[node["callFrame"]["url"].rsplit("/", 1)[-1][:40]] += dt / 1000
        seen, at = set(), sample
        while at is not None:  # every function on the stack, once
            label = name(nodes[at])
            if label not in seen:
                inclusive[label] += dt / 1000
                seen.add(label)
            at = parent.get(at)
    print("ms by script file:")
    for file, ms in by_file.most_common(top):
        print(f"  {ms:8.1f}  {file or '(the browser: layout, style, paint, idle, ...)'}")
    print("ms inside each function (with its callees):")
    for label, ms in inclusive.most_common(top * 2):
        print(f"  {ms:8.1f}  {label}")


def main() -> None:
    from bench.loadtool.app_page import app_page
    from tests.e2e.helpers import APP_IDLE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/", help="the page and its query (default: the playground)")
    parser.add_argument("--label", default="Noise level", help="the sidebar slider's label (default: Noise level)")
    parser.add_argument("--window", type=int, default=700, help="ms profiled after the key press (default 700)")
    parser.add_argument("--top", type=int, default=15, help="how many files and functions to print (default 15)")
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp(prefix="profile_move_")) / "server.log"
    with app_page(REPO_ROOT / "app.py", log) as (server, _, page):
        page.goto(server.url)  # a fresh server knows its pages once app.py has run
        page.locator(APP_IDLE).wait_for(state="attached", timeout=120_000)
        page.goto(server.url + args.path)
        page.wait_for_timeout(3000)
        page.locator(APP_IDLE).wait_for(state="attached", timeout=120_000)
        slider = page.get_by_test_id("stSidebar").get_by_test_id("stSlider").filter(has_text=args.label)
        thumb = slider.get_by_role("slider")
        for key in ("ArrowRight", "ArrowLeft"):  # the timed value, computed once
            thumb.press(key)
            page.wait_for_timeout(2500)
            page.locator(APP_IDLE).wait_for(state="attached", timeout=120_000)
        page.wait_for_timeout(1500)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
        cdp.send("Profiler.start")
        thumb.press("ArrowRight")
        page.wait_for_timeout(args.window)
        profile = cdp.send("Profiler.stop")["profile"]
    print(f"{args.path} {args.label!r}, ArrowRight (cached): {args.window} ms after the key press")
    summarize(profile, args.top)


if __name__ == "__main__":
    main()
