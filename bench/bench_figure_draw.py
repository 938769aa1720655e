"""What the browser spends drawing the live figure, piece by piece, in Chromium: why a move that brings new data
(noise, dataset) costs more than a move of the figure's own sliders.

    python bench/bench_figure_draw.py          # median of 5 of each

Starts the playground (`streamlit run app.py`) on a free port, opens it in Chromium, pauses the figure, then times
in the page (performance.now() to the next animation frame, median of 5):
- a learning-rate pick in the figure (the baseline: the marks redrawn over panels that stay);
- each panel (components/panel.js) drawn again with changed data (the loss surface, the data panel, the loss axis);
- all three panels drawn anew, as after a move that changes the data.
It prints the work's milliseconds, those to the frame that shows it, and that time's ratio to the pick's. The
server is stopped at the end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.loadtool.app_page import app_page  # noqa: E402
from tests.e2e.helpers import APP_IDLE, FIGURE  # noqa: E402

TIMINGS = """async (n) => {
  const fig = document.querySelector('%s').parentElement.__liveFigure;
  fig.pause();
  const P = fig.panels, out = {};
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  // each timing: the work itself, and from its start to the next animation frame, as a move's picture waits
  const median = (ts) => ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)];
  const time = async (name, fn) => {
    const work = [], shown = [];
    for (let i = 0; i < n; i++) {
      await frame();
      const t0 = performance.now();
      await fn(i);
      work.push(performance.now() - t0);
      await frame();
      shown.push(performance.now() - t0);
    }
    out[name] = [median(work), median(shown)];
  };
  const lr = fig.ladders.lr;
  await time("a learning-rate pick in the figure (baseline)", async (i) => {
    fig.pick("lr", (lr.current + 1 + (i %% 2)) %% lr.values.length); fig.pause();
  });
  let s = 1;
  const scaled = (axis) => ({ ...axis, range: axis.range.map((v) => v * s) });
  await time("the loss surface's contours, new z", async () => {
    const spec = P.surface.spec; s *= 1.01;
    P.surface.draw({ ...spec, heat: { ...spec.heat, z: spec.heat.z.map((row) => row.map((v) => v * s)) } });
  });
  await time("the data panel, new points", async () => {
    const spec = P.data.spec; s *= 1.01;
    const points = { ...spec.series[0], y: spec.series[0].y.map((v) => v * s) };
    P.data.draw({ ...spec, y: scaled(spec.y), series: [points, ...spec.series.slice(1)] });
  });
  await time("the loss panel, new axis range", async () => {
    const spec = P.loss.spec; s *= 1.01;
    P.loss.draw({ ...spec, y: scaled(spec.y) });
  });
  await time("all three panels anew (new data)", async () => { fig.plotted = null; await fig.plot(); fig.pause(); });
  return out;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5, help="timings of each piece (median printed)")
    args = parser.parse_args()
    with app_page(REPO_ROOT / "app.py", Path("/tmp") / "bench_figure_draw.log") as (server, browser, page):
        page.goto(server.url)
        page.locator(f"{FIGURE} .lf-surface .pn-svg").first.wait_for()
        page.wait_for_selector(APP_IDLE)
        page.wait_for_timeout(1500)
        out = page.evaluate(TIMINGS % FIGURE, args.n)
        print(f"Chromium {browser.version}, median of {args.n}")
    base = out["a learning-rate pick in the figure (baseline)"][1]
    print(f"  {'piece':<48}{'work ms':>9}{'to frame ms':>13}{'/ pick':>8}")
    for name, (work, shown) in out.items():
        print(f"  {name:<48}{work:9.1f}{shown:13.1f}{shown / base:7.1f}x")


if __name__ == "__main__":
    main()
