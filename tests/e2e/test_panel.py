"""components/panel.js, the hand-drawn 2-D panels of the figures that play runs, in Chromium with no server: its
ticks, its contour lines against a circle's closed form, its axes against the marks it places, its colour bands
and a tap's coordinates. The references are closed forms and the drawn tick labels, not the panel's own mapping."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import Page

from components.assets import HERE

WIDTH, HEIGHT = 600, 400


@pytest.fixture
def panel_page(page: Page) -> Page:
    page.set_content(f'<div id="p" style="position: relative; width: {WIDTH}px; height: {HEIGHT}px"></div>')
    common = (HERE / "figure_common.js").read_text(encoding="utf-8")
    panel = (HERE / "panel.js").read_text(encoding="utf-8")
    # one classic script, so that its functions and classes are the page's globals
    page.add_script_tag(content=f"{common}\n{panel}\nwindow.PanelUnderTest = Panel;")
    page.add_style_tag(content=(HERE / "figure_common.css").read_text(encoding="utf-8"))
    return page


def test_ticks_are_round_numbers_that_cover_the_range(panel_page: Page) -> None:
    assert panel_page.evaluate("niceTicks(0, 1, 5)") == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert panel_page.evaluate("niceTicks(-3.7, 12.2, 4)") == pytest.approx([0, 5, 10])
    assert panel_page.evaluate("niceTicks(-3.7, 12.2, 8)") == pytest.approx([-2, 0, 2, 4, 6, 8, 10, 12])
    # a log axis over two decades: 1, 2 and 5 times each power of ten; over many decades: the powers only
    assert panel_page.evaluate("logTicks(-1, 1, 6).map((u) => Math.round(10 ** u * 1e6) / 1e6)") == [
        0.1, 0.2, 0.5, 1, 2, 5, 10,
    ]  # fmt: skip
    assert panel_page.evaluate("logTicks(-6.2, 2.1, 5)") == [-6, -4, -2, 0, 2]
    labels = panel_page.evaluate("[1e-5, 0.001, 0.25, 3, 12000, 2.5e6, 0].map((v) => tickText(v))")
    assert labels == ["1e-5", "0.001", "0.25", "3", "12000", "2.5e6", "0"]
    assert panel_page.evaluate("[1000, 10000, 1e6].map((v) => tickText(v, true))") == ["1000", "1e4", "1e6"]


def test_a_contour_line_of_a_paraboloid_is_its_circle(panel_page: Page) -> None:
    """z = x² + y² on a 41 x 41 grid: every point of the level-1 line lies on the unit circle, up to the error of
    linear interpolation along a cell's edge (at most h²/4 = 0.0025 here), and the line goes all the way round."""
    points = panel_page.evaluate(
        """() => {
        const g = Array.from({ length: 41 }, (_, i) => -2 + 0.1 * i);
        const z = g.map((y) => g.map((x) => x * x + y * y));
        const d = contourPath(g, g, z, 1);
        return Array.from(d.matchAll(/[ML](-?[\\d.]+),(-?[\\d.]+)/g)).map((m) => [Number(m[1]), Number(m[2])]);
    }"""
    )
    assert len(points) > 40
    radii = [math.hypot(x, y) for x, y in points]
    assert max(abs(r - 1) for r in radii) < 0.0025 + 0.05  # + the path's rounding to 0.1 (pixels there)
    angles = sorted(math.atan2(y, x) for x, y in points)
    assert max(b - a for a, b in zip(angles, angles[1:], strict=False)) < 0.2  # no gap in the circle


def test_marks_sit_where_the_drawn_axes_say(panel_page: Page) -> None:
    """The star at (2.5, -1) and a point at (0, 3): read their pixel positions back through the tick labels the
    panel drew (a straight line through the labels' positions and values), not through the panel's own mapping."""
    out = panel_page.evaluate(
        """() => {
        const p = new PanelUnderTest(document.getElementById("p"));
        p.draw({ title: "t", x: { title: "w", range: [-4, 6] }, y: { title: "b", range: [-3, 5] },
          series: [{ type: "points", symbol: "star", x: [2.5], y: [-1], color: "#000", size: 16, class: "star" },
                   { type: "points", x: [0], y: [3], color: "#000", size: 8, class: "dot" }] });
        const ticks = (cls) => Array.from(p.svg.querySelectorAll(cls)).map((t) => {
          const r = t.getBoundingClientRect();
          return [Number(t.textContent), (r.left + r.right) / 2, (r.top + r.bottom) / 2];
        });
        const centre = (cls) => {
          const r = p.svg.querySelector(cls).getBoundingClientRect();
          return [(r.left + r.right) / 2, (r.top + r.bottom) / 2];
        };
        return { x: ticks(".pn-xtick"), y: ticks(".pn-ytick"), star: centre(".star"), dot: centre(".dot") };
    }"""
    )

    def fit(ticks, pixel):  # value = a * pixel + c through the labels (least squares)
        n = len(ticks)
        px = [t[pixel] for t in ticks]
        v = [t[0] for t in ticks]
        mp, mv = sum(px) / n, sum(v) / n
        a = sum((p - mp) * (q - mv) for p, q in zip(px, v, strict=True)) / sum((p - mp) ** 2 for p in px)
        return lambda pixel_value: mv + a * (pixel_value - mp)

    to_x, to_y = fit(out["x"], 1), fit(out["y"], 2)
    assert len(out["x"]) >= 3 and len(out["y"]) >= 3
    unit_x = abs(to_x(1) - to_x(0))  # the value of one pixel
    assert to_x(out["star"][0]) == pytest.approx(2.5, abs=2 * unit_x)
    assert to_y(out["star"][1]) == pytest.approx(-1, abs=2 * abs(to_y(1) - to_y(0)))
    assert to_x(out["dot"][0]) == pytest.approx(0, abs=2 * unit_x)
    assert to_y(out["dot"][1]) == pytest.approx(3, abs=2 * abs(to_y(1) - to_y(0)))


def test_the_surface_is_darkest_at_its_minimum_and_a_tap_reads_the_axes(panel_page: Page) -> None:
    out = panel_page.evaluate(
        """() => {
        const taps = [];
        const p = new PanelUnderTest(document.getElementById("p"), { onTap: (x, y) => taps.push([x, y]) });
        const a = Array.from({ length: 48 }, (_, i) => -4 + (10 * i) / 47);
        const b = Array.from({ length: 48 }, (_, i) => -3 + (8 * i) / 47);
        const z = b.map((y) => a.map((x) => Math.log10(0.1 + (x - 1) ** 2 + 2 * (y - 0.5) ** 2)));
        p.draw({ title: "t", x: { title: "w", range: [-4, 6] }, y: { title: "b", range: [-3, 5] },
          heat: { a, b, z, title: "log10 loss" } });
        const ctx = p.canvas.getContext("2d"), box = p.box;
        const shade = (x, y) => {
          const [u, v] = p.px(x, y);
          const d = ctx.getImageData(Math.round(u - box.l), Math.round(v - box.t), 1, 1).data;
          return d[0] + d[1] + d[2];
        };
        const [cx, cy] = p.px(1, 0.5), r = p.svg.getBoundingClientRect(), frame = p.svg.querySelector(".pn-frame");
        const click = (x, y) => frame.dispatchEvent(new MouseEvent("click", { bubbles: true, clientX: x, clientY: y }));
        click(r.left + cx, r.top + cy);
        click(r.left + 2, r.top + 2);
        return { low: shade(1, 0.5), high: shade(5.8, 4.8), mid: shade(3, 2), taps, levels: p.spec.heat.levels.length,
          contour: p.svg.querySelector(".pn-contour").getAttribute("d").length };
    }"""
    )
    assert out["low"] < out["mid"] < out["high"]  # YlGnBu: the lowest loss is the darkest blue
    assert 10 <= out["levels"] <= 30 and out["contour"] > 1000
    assert len(out["taps"]) == 1  # the click in the margin is not a tap on the surface
    (x, y), unit = out["taps"][0], 10 / (WIDTH - 56 - 14 - 64)  # the plot's width in pixels (its margins)
    assert x == pytest.approx(1, abs=unit) and y == pytest.approx(0.5, abs=unit)
