"""The playground page in a real browser: links round-trip, divergences explain themselves and their fixes work.
(The live figure's own behaviour: test_live_figure.py.)

Each test opens its own page (a fresh Streamlit session) against the one server of the test session. After an
action a test first waits for the content it expects, then for the script to be idle (right after
an action the app may still report idle).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from .helpers import FIGURE, guarded_page, open_figure, query_of, shot, wait_idle

VIEWPORT = {"width": 1400, "height": 1700}  # tall enough that a screenshot shows the whole figure


@pytest.fixture(autouse=True)
def _no_exceptions(page: Page) -> Iterator[None]:
    """Every test: a tall viewport, and neither an st.exception box nor an uncaught browser error at the end."""
    with guarded_page(page, VIEWPORT):
        yield


def metric(page: Page, label: str) -> Locator:
    """The value of the st.metric with this label."""
    box = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return box.get_by_test_id("stMetricValue")


def slider(page: Page, label: str) -> Locator:
    """The Streamlit slider (or select_slider) whose label is exactly this text."""
    return page.get_by_test_id("stSlider").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    )


def thumb(page: Page, label: str) -> Locator:
    """A slider's thumb, the element that takes the keys (its accessible name repeats the label, so match here)."""
    return slider(page, label).get_by_role("slider")


def slider_value(page: Page, label: str) -> Locator:
    """The thumb-value readout of the Streamlit slider with this label."""
    return slider(page, label).get_by_test_id("stSliderThumbValue")


def diverged_alert(page: Page) -> Locator:
    return page.get_by_test_id("stAlert").filter(has_text="diverged")


def test_shared_link_sets_every_widget(page: Page, app_server: str) -> None:
    link = {"lr": "0.03", "momentum": "0.5", "epochs": "100", "dataset": "lab", "scaling": "standardize"}
    open_figure(page, app_server, "?" + "&".join(f"{k}={v}" for k, v in link.items()))

    expect(slider_value(page, "Learning rate")).to_have_text("0.03")
    expect(slider_value(page, "Momentum")).to_have_text("0.50")
    expect(slider_value(page, "Epochs")).to_have_text("100")
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value(re.compile(r"^Lab: y = 3x \+ 2"))
    expect(page.get_by_role("radio", name="standardize")).to_be_checked()
    # Lab data is fixed: the synthetic-data controls are hidden.
    expect(slider(page, "Number of points")).to_have_count(0)
    expect(metric(page, "Steps")).to_have_text("100")  # full batch: one step per epoch

    query = query_of(page)
    assert {k: query.get(k) for k in link} == link, query
    shot(page, "playground_shared_link")


def test_divergence_shows_an_error_and_a_one_click_fix(page: Page, app_server: str) -> None:
    open_figure(page, app_server)
    lr_thumb = thumb(page, "Learning rate")
    lr_thumb.press("End")  # the top of the ladder
    top = lr_thumb.get_attribute("aria-valuetext")

    expect(diverged_alert(page)).to_be_visible()
    fix = page.get_by_role("button", name=re.compile(r"^Use a stable learning rate \("))
    expect(fix).to_be_visible()
    wait_idle(page)
    assert query_of(page)["lr"] == top, (top, page.url)
    expect(page.get_by_test_id("stAlert").filter(has_text="diverged")).to_contain_text(f"learning rate {top}")
    shot(page, "playground_diverged")

    safe = re.search(r"\(([^)]+)\)", fix.inner_text()).group(1)
    assert float(safe) < float(top)
    fix.click()
    expect(diverged_alert(page)).to_have_count(0)
    expect(slider_value(page, "Learning rate")).to_have_text(safe)
    expect(page).to_have_url(re.compile(rf"[?&]lr={re.escape(safe)}(&|$)"))
    wait_idle(page)
    expect(diverged_alert(page)).to_have_count(0)
    expect(fix).to_have_count(0)
    expect(page.locator(FIGURE).locator(".pn-svg").first).to_be_visible()
    shot(page, "playground_fixed")


def test_the_standardize_fix_redraws_the_whole_page(page: Page, app_server: str) -> None:
    """The fix buttons sit in the run's own section (an st.fragment, which a learning-rate move reruns alone).
    Standardizing changes a sidebar control outside it, so that click must rerun the whole page: the sidebar then
    shows the new scaling."""
    open_figure(page, app_server, "?dataset=thermometer&lr=0.5")
    expect(diverged_alert(page)).to_be_visible()
    fix = page.get_by_role("button", name="Standardize the inputs")
    fix.click()
    expect(page.get_by_role("radio", name="standardize")).to_be_checked()
    expect(page).to_have_url(re.compile(r"[?&]scaling=standardize(&|$)"))
    wait_idle(page)
    expect(fix).to_have_count(0)
    expect(page.get_by_role("radio", name="standardize")).to_be_checked()
    shot(page, "playground_standardized")


def test_diverging_link_shows_the_error(page: Page, app_server: str) -> None:
    open_figure(page, app_server, "?lr=2")
    expect(diverged_alert(page)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Use a stable learning rate \("))).to_be_visible()


def test_two_features_draw_a_3d_scene(page: Page, app_server: str) -> None:
    figure = open_figure(page, app_server, "?dataset=plane&momentum=0.5")
    chart = figure.locator(".lf-data")
    expect(chart.locator(".gl-container #scene canvas")).to_have_count(1)
    expect(chart.locator(".gl-container #scene")).to_be_visible()
    expect(chart).not_to_contain_text("WebGL")  # plotly.js says "WebGL is not supported" when it cannot draw
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator(".g-gtitle").filter(has_text="fitted plane")).to_have_count(1)
    assert query_of(page)["dataset"] == "plane"
    shot(page, "playground_plane")


def test_bad_link_is_corrected_and_still_draws(page: Page, app_server: str) -> None:
    open_figure(page, app_server, "?lr=abc&epochs=-3")
    warning = page.get_by_test_id("stAlert").filter(has_text="Link corrected")
    expect(warning).to_have_count(2)  # one note per corrected value
    expect(warning.filter(has_text="Learning rate")).to_be_visible()
    expect(warning.filter(has_text="Epochs")).to_be_visible()
    expect(slider_value(page, "Epochs")).to_have_text("1")
    query = query_of(page)
    assert (query["lr"], query["epochs"]) == ("0.1", "1"), page.url
    shot(page, "playground_bad_link")
