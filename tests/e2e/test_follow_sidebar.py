"""components/figure_common.js's reading of a sidebar slider's step from the arrow key itself (nextSliderValue), in
Chromium with no server: the value a range input goes to, checked against the browser's own stepping of the same
input (stepUp and stepDown, the HTML standard's) and against the learning-rate grid the select_slider shows
(settings/controls.py); where the step is not certain, no guess."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from components.assets import HERE
from settings import controls


@pytest.fixture
def common_page(page: Page) -> Page:
    page.set_content("<div></div>")
    page.add_script_tag(content=(HERE / "figure_common.js").read_text(encoding="utf-8"))
    return page


NEXT_JS = """([attrs, values, dir]) => {
    const input = document.createElement('input');
    input.type = 'range';
    for (const [k, v] of Object.entries(attrs)) input.setAttribute(k, v);
    document.body.append(input);
    const guess = nextSliderValue(input, values, dir);
    if (dir > 0) input.stepUp(); else input.stepDown();
    input.remove();
    return [guess === undefined ? null : guess, Number(input.value)];
}"""


def noise_slider(value: float, shown: str) -> dict:
    return {"min": "0", "max": "5", "step": "0.1", "value": str(value), "aria-valuetext": shown}


def test_a_sliders_step_is_the_browsers_own(common_page: Page) -> None:
    values = list(controls.slider_values("noise", 0.5))
    for value, shown, dir in ((0.5, "0.50", 1), (0.5, "0.50", -1), (0.1, "0.10", -1), (4.9, "4.90", 1), (3, "3.00", 1)):
        guess, stepped = common_page.evaluate(NEXT_JS, [noise_slider(value, shown), values, dir])
        assert guess == pytest.approx(stepped, abs=1e-12), (value, dir)
        assert guess in values  # one of the figure's own values, not a float near it


def test_no_guess_off_the_ends_or_off_the_steps_grid(common_page: Page) -> None:
    values = list(controls.slider_values("noise", 0.55))  # a link put 0.55 between two steps
    assert 0.55 in values
    for value, shown, dir in ((5, "5.00", 1), (0, "0.00", -1), (0.55, "0.55", 1), (0.55, "0.55", -1)):
        guess, _ = common_page.evaluate(NEXT_JS, [noise_slider(value, shown), values, dir])
        assert guess is None, (value, dir)
    # what the slider shows is not among the figure's values (another slider's): no guess
    guess, _ = common_page.evaluate(NEXT_JS, [noise_slider(0.5, "0.50"), [1.0, 2.0], 1])
    assert guess is None


def test_a_select_sliders_step_is_the_next_option(common_page: Page) -> None:
    grid = list(controls.LR_GRID)
    i = grid.index(0.1)
    attrs = {"min": "0", "max": str(len(grid) - 1), "step": "1", "value": str(i), "aria-valuetext": "0.1"}
    assert common_page.evaluate(NEXT_JS, [attrs, grid, 1])[0] == grid[i + 1]
    assert common_page.evaluate(NEXT_JS, [attrs, grid, -1])[0] == grid[i - 1]
    # the input's index and the value it shows disagree (not this grid's slider): no guess
    assert common_page.evaluate(NEXT_JS, [attrs | {"value": str(i + 2)}, grid, 1])[0] is None
