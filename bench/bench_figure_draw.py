"""What the browser spends drawing the live figure, piece by piece, in Chromium: why a move that brings new data
(noise, dataset) costs more than a move of the figure's own sliders.

    python bench/bench_figure_draw.py          # median of 5 of each

Starts the playground (`streamlit run app.py`) on a free port, opens it in Chromium, pauses the figure, then times
in the page (performance.now(), median of 5):
- a learning-rate pick in the figure (the baseline: the marks redrawn over panels that stay);
- each Plotly panel drawn again with changed data (the loss surface's contours, the data panel, the loss axis);
- all three panels drawn anew, as after a move that changes the data.
It prints milliseconds and each one's ratio to the pick. The server is stopped at the end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.loadtool.servers import StreamlitServer, free_port  # noqa: E402
from tests.e2e.helpers import APP_IDLE, CHROMIUM_ARGS, FIGURE, chromium_executable  # noqa: E402

TIMINGS = """async (n) => {
  const fig = document.querySelector('%s').parentElement.__liveFigure;
  fig.pause();
  const P = fig.Plotly, d = fig.dom.panels, out = {};
  const time = async (name, fn) => {
    const ts = [];
    for (let i = 0; i < n; i++) { const t0 = performance.now(); await fn(i); ts.push(performance.now() - t0); }
    ts.sort((a, b) => a - b);
    out[name] = ts[Math.floor(n / 2)];
  };
  const lr = fig.ladders.lr;
  await time("a learning-rate pick in the figure (baseline)", async (i) => {
    fig.pick("lr", (lr.current + 1 + (i %% 2)) %% lr.values.length); fig.pause();
    await new Promise((r) => requestAnimationFrame(r));
  });
  let s = 1;
  const scaled = (axis) => ({ ...axis, range: axis.range.map((v) => v * s) });
  await time("the loss surface's contours, new z", async () => {
    const gd = d.surface; s *= 1.01;
    const traces = gd.data.map((t) => ({ ...t }));
    traces[0].z = traces[0].z.map((row) => row.map((v) => v * s));
    await P.react(gd, traces, { ...gd.layout });
  });
  await time("the data panel, new points", async () => {
    const gd = d.data; s *= 1.01;
    const traces = gd.data.map((t) => ({ ...t }));
    traces[0].y = traces[0].y.map((v) => v * s);
    await P.react(gd, traces, { ...gd.layout, yaxis: scaled(gd.layout.yaxis) });
  });
  await time("the loss panel, new axis range", async () => {
    const gd = d.loss; s *= 1.01;
    await P.react(gd, gd.data, { ...gd.layout, yaxis: scaled(gd.layout.yaxis) });
  });
  await time("all three panels anew (new data)", async () => { fig.plotted = null; await fig.plot(); fig.pause(); });
  return out;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5, help="timings of each piece (median printed)")
    args = parser.parse_args()
    log = Path("/tmp") / "bench_figure_draw.log"
    server = StreamlitServer(REPO_ROOT / "app.py", free_port(), log)
    server.start()
    try:
        server.wait_healthy()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server.url)
            page.locator(f"{FIGURE} .lf-surface .main-svg").first.wait_for()
            page.wait_for_selector(APP_IDLE)
            page.wait_for_timeout(1500)
            out = page.evaluate(TIMINGS % FIGURE, args.n)
            print(f"Chromium {browser.version}, median of {args.n}")
            base = out["a learning-rate pick in the figure (baseline)"]
            for name, ms in out.items():
                print(f"  {name:<48}{ms:8.1f} ms {ms / base:7.1f}x")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
