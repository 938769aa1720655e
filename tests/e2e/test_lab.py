"""The step-by-step lab in a real browser: Step redraws the numbers, the table and the chart; the zero_grad switch.

The figure is read from Plotly's own graph div (gd._fullData: the arrays Plotly decoded and drew), and the numbers
of each step are checked against gradient descent with momentum written out in numpy (float64).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import numpy as np
import pytest
from playwright.sync_api import Page, expect

import engine

from .helpers import (
    FIGURE,
    PAGE_NOT_FOUND,
    close_page_not_found,
    guarded_page,
    shot,
    streamlit_server,
    wait_idle,
)

CHART = '[data-testid="stPlotlyChart"]'
VIEWPORT = {"width": 1400, "height": 1700}
UPDATE_LINE = re.compile(r"^(\w+) ← (\S+) − (\S+) × (\S+) = (\S+)$")

# The lab's run, as drawn in its panels (a chart each): the path's points and the "model now" line; a list of one
# once both are drawn, else empty.
FIGURE_JS = """
() => {
    const data = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'))
        .flatMap(gd => gd._fullData || []);
    const pick = name => data.find(t => t.name === name);
    const path = pick('path'), model = pick('model now');
    if (!path || !model) return [];
    return [{path: [Array.from(path.x), Array.from(path.y)], model: [Array.from(model.x), Array.from(model.y)]}];
}
"""


@pytest.fixture(autouse=True)
def _no_exceptions(page: Page) -> Iterator[None]:
    """Every test: a tall viewport, and neither an st.exception box nor an uncaught browser error at the end."""
    with guarded_page(page, VIEWPORT):
        yield


def _numpy_run(steps: int, zero_grad: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The default lab run (line, n 30, noise 0.5, seed 0; start (-1, -2); lr 0.1; momentum 0.8) in float64:
    the parameters at every step and the direction each update multiplied by lr."""
    ds = engine.make_dataset("line", n=30, noise=0.5, seed=0)
    x, y = ds.x.double().numpy(), ds.y.double().numpy()
    big_x = np.hstack([x, np.ones_like(x)])
    p, v, total = np.array([-1.0, -2.0]), np.zeros(2), np.zeros(2)
    path, directions = [p], []
    for _ in range(steps):
        g = 2.0 / len(y) * big_x.T @ (big_x @ p - y)
        total = g if zero_grad else total + g
        v = 0.8 * v + total
        p = p - 0.1 * v
        path.append(p)
        directions.append(v)
    return np.array(path), np.array(directions)


def _step_text(page: Page, k: int):
    return page.get_by_text(re.compile(rf"^Step {k} of 60 · epoch"))


def _open_lab(page: Page, base: str) -> None:
    page.goto(f"{base}/step-by-step")
    expect(_step_text(page, 0)).to_be_visible()
    expect(page.locator(CHART).locator(".main-svg").first).to_be_visible()
    wait_idle(page)
    close_page_not_found(page)  # when this is the server's first session: a known fault, tested on its own below
    page.wait_for_function(f"() => ({FIGURE_JS})().length === 1")
    wait_idle(page)


def _figure(page: Page) -> dict:
    [figure] = page.evaluate(FIGURE_JS)
    return figure


TABLE_JS = """
() => { const t = document.querySelector('[data-testid="stDataFrame"]');
        return t ? Array.from(t.querySelectorAll('td')).map(c => c.textContent) : []; }
"""


def _forward_table(page: Page, old: list[str] | None = None) -> list[str]:
    """The cells of the forward-pass table (the dataframe's accessible table, which mirrors its canvas); with `old`,
    first wait until they differ from it (the grid redraws a moment after the script run)."""
    for _ in range(40):  # until two reads a moment apart agree (the grid can show a transient state mid-redraw)
        page.wait_for_function(
            f"(old) => {{ const c = ({TABLE_JS})(); return c.length >= 4 * 5 && JSON.stringify(c) !== old; }}",
            arg=json.dumps(old),
        )
        first = page.evaluate(TABLE_JS)
        page.wait_for_timeout(300)
        if page.evaluate(TABLE_JS) == first and first != old:
            return first
    raise AssertionError("the forward-pass table did not settle on new numbers")


def _update(page: Page) -> np.ndarray:
    """The "Update with lr × ..." block as rows (before, lr, direction, after), one per parameter (w, b)."""
    text = page.get_by_test_id("stCode").filter(has_text="Update with lr ×").inner_text()
    rows = [UPDATE_LINE.match(line.strip()) for line in text.strip().splitlines()[1:]]
    assert all(rows) and [r.group(1) for r in rows] == ["w", "b"], text
    return np.array([[float(v) for v in r.groups()[1:]] for r in rows])


def _click(page: Page, name: str) -> None:
    wait_idle(page)  # right after a rerun the page is briefly inert: a click then hits nothing
    page.get_by_role("button", name=name, exact=True).click()


def test_three_steps_redraw_the_numbers_and_the_chart(page: Page, app_server: str) -> None:
    path, directions = _numpy_run(4)
    _open_lab(page, app_server)
    before = {"figure": _figure(page), "table": _forward_table(page)}
    assert len(before["figure"]["path"][0]) == 1
    np.testing.assert_allclose(_update(page)[:, [0, 2, 3]], np.c_[path[0], directions[0], path[1]], rtol=6e-4)

    for k in (1, 2, 3):
        _click(page, "Step")
        expect(_step_text(page, k)).to_be_visible()
        page.wait_for_function(
            f"() => {{ const f = ({FIGURE_JS})(); return f.length === 1 && f[0].path[0].length === {k + 1}; }}"
        )
        wait_idle(page)
        expect(page).to_have_url(re.compile(rf"[?&]step={k}(&|$)"))

        after = {"figure": _figure(page), "table": _forward_table(page, old=before["table"])}
        assert after["figure"] != before["figure"]
        assert after["table"] != before["table"]
        # its prediction column: x w + b at the step's parameters, for the rows shown
        x, prediction = (np.array(after["table"][j::5], dtype=float) for j in (0, 2))
        np.testing.assert_allclose(prediction, x * path[k][0] + path[k][1], rtol=1e-4, atol=1e-4)
        # what is drawn: the path so far and the model line at the step's parameters
        np.testing.assert_allclose(np.array(after["figure"]["path"]).T, path[: k + 1], rtol=1e-4, atol=1e-5)
        (x0, x1), (y0, y1) = after["figure"]["model"]
        w = (y1 - y0) / (x1 - x0)
        np.testing.assert_allclose([w, y0 - w * x0], path[k], rtol=1e-4, atol=1e-5)
        # what is written: the next update, with its numbers
        np.testing.assert_allclose(_update(page)[:, [0, 2, 3]], np.c_[path[k], directions[k], path[k + 1]], rtol=6e-4)
        np.testing.assert_allclose(_update(page)[:, 1], 0.1)
        before = after

    expect(page.get_by_test_id("stAlert").filter(has_text="not zeroed")).to_have_count(0)
    shot(page, "lab_after_three_steps")


def test_switching_zero_grad_off_warns_and_piles_up_the_gradient(page: Page, app_server: str) -> None:
    path, directions = _numpy_run(3, zero_grad=False)
    _open_lab(page, app_server)
    switch = page.get_by_role("switch", name="Zero the gradient after each step")
    expect(switch).to_be_checked()
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_text("Zero the gradient after each step").click()

    warning = page.get_by_test_id("stAlert").filter(has_text="The gradient is not zeroed")
    expect(warning).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]zero_grad=false(&|$)"))
    wait_idle(page)
    expect(switch).not_to_be_checked()
    expect(_step_text(page, 0)).to_be_visible()  # another setting: another run, from its start

    for k in (1, 2):
        _click(page, "Step")
        expect(_step_text(page, k)).to_be_visible()
        wait_idle(page)
    expect(
        page.get_by_text(re.compile(r"^Not zeroed: \.grad now holds the sum of all gradients so far")).first
    ).to_be_visible()
    expect(page.get_by_test_id("stCode").filter(has_text="built from the accumulated .grad")).to_be_visible()
    np.testing.assert_allclose(_update(page)[:, [0, 2, 3]], np.c_[path[2], directions[2], path[3]], rtol=6e-4)
    expect(warning).to_be_visible()
    shot(page, "lab_zero_grad_off")


def test_opening_the_lab_from_the_playground_keeps_the_settings(page: Page, app_server: str) -> None:
    """A learner on the landing page clicks "Step by step" in the sidebar: same settings, so 60 steps at lr 0.1."""
    page.goto(app_server)
    expect(page.locator(FIGURE).locator(".pn-svg").first).to_be_visible()  # the playground's live figure
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Step by step", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Step 0 of \d+ · epoch"))).to_be_visible()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"/step-by-step\?"))
    lr = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Learning rate", exact=True))
    expect(lr.get_by_test_id("stSliderThumbValue")).to_have_text("0.1", timeout=10_000)
    expect(_step_text(page, 0)).to_be_visible()


def test_a_link_opened_first_after_a_server_start_shows_no_page_not_found(page: Page) -> None:
    """The first student after a restart who opens a lesson link must get the page, not a "Page not found" dialog
    over it (which also leaves the page inert until it is closed)."""
    with streamlit_server() as fresh:
        page.goto(f"{fresh}/step-by-step")
        expect(_step_text(page, 0)).to_be_visible()
        expect(page.locator(CHART).locator(".main-svg").first).to_be_visible()
        wait_idle(page)
        page.wait_for_timeout(1_000)  # the dialog, when it comes, comes with the first run
        expect(page.get_by_role("dialog").filter(has_text=PAGE_NOT_FOUND)).to_have_count(0, timeout=2_000)


def test_on_a_phone_the_three_panels_stack_each_the_screens_width(page: Page, app_server: str) -> None:
    """At 412 px the run's panels (the data, the loss surface, the loss per step) lie one under the other, each
    nearly the page's width, and nothing scrolls sideways."""
    page.set_viewport_size({"width": 412, "height": 2600})
    _open_lab(page, app_server)
    panels = [page.locator(f".st-key-lab_{name} {CHART}") for name in ("data", "surface", "loss")]
    for panel in panels:
        expect(panel.locator(".main-svg").first).to_be_visible()
    boxes = [panel.bounding_box() for panel in panels]
    for above, below in zip(boxes, boxes[1:], strict=False):
        assert below["y"] >= above["y"] + above["height"] - 1, boxes  # stacked
    assert all(b["width"] >= 340 for b in boxes), boxes
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 412  # nothing scrolls sideways
    shot(page, "lab_phone")
