"""The "Overfitting & regularization" page in a real browser: it opens at /overfitting with its six charts and no
exception box, at degrees 1, 3 and 9, heavy noise, strong decay, L1 and on a phone's width; the fit animates in the
browser; a sidebar move reruns it; a hostile link is corrected with a note.

Screenshots go to test-artifacts/screenshots/overfit_*.png for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from .helpers import guarded_page, open_root_once, shot, wait_idle

CHART = '[data-testid="stPlotlyChart"]'
SLIDER_CURRENT = ".slider-container .slider-group > text"
VIEWPORT = {"width": 1400, "height": 4200}  # tall enough for the whole page in one screenshot
TITLE = "Overfitting & regularization"


@pytest.fixture(scope="module", autouse=True)
def _root_first(app_server: str, browser) -> None:
    open_root_once(browser, app_server)  # a fresh server's first deep link can meet "Page not found"


@pytest.fixture(autouse=True)
def _no_exceptions(page: Page) -> Iterator[None]:
    with guarded_page(page, VIEWPORT):
        yield


def open_overfit(page: Page, base: str, query: str = "", charts: int = 6) -> Locator:
    page.goto(f"{base}/overfitting{query}")
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    chart = page.locator(CHART)
    expect(chart).to_have_count(charts)
    for i in range(charts):
        expect(chart.nth(i).locator(".main-svg").first).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    return chart


@pytest.mark.parametrize("degree", [1, 3, 9])
def test_the_page_at_three_degrees(page: Page, app_server: str, degree: int) -> None:
    chart = open_overfit(page, app_server, f"?test_fraction=0.25&degree={degree}", charts=5 if degree == 1 else 6)
    expect(chart.nth(0)).to_contain_text("held-out points")
    expect(chart.nth(0)).to_contain_text("test loss")
    expect(chart.nth(1)).to_contain_text("this page's degree")
    shot(page, f"overfit_degree_{degree}")


def test_the_fit_animates_in_the_browser(page: Page, app_server: str) -> None:
    chart = open_overfit(page, app_server, "?test_fraction=0.25&degree=5&epochs=200")
    current = chart.nth(0).locator(SLIDER_CURRENT)
    expect(current).to_have_text(re.compile(r"^step 0$"))
    chart.nth(0).locator(".updatemenu-button").filter(has_text="Play").click()
    expect(current).not_to_have_text(re.compile(r"^step 0$"))
    expect(page.locator(CHART)).to_have_count(6)  # played in the browser, no rerun


def test_heavy_noise_strong_decay_and_l1(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?test_fraction=0.3&degree=9&noise=3&n=40")
    shot(page, "overfit_heavy_noise")
    open_overfit(page, app_server, "?test_fraction=0.25&degree=9&weight_decay=2")
    expect(page.get_by_text(re.compile(r"circles around 0"))).to_be_visible()
    shot(page, "overfit_strong_decay")
    open_overfit(page, app_server, "?test_fraction=0.25&degree=9&l1=0.2&epochs=500")
    expect(page.get_by_text(re.compile(r"changed sign \d+ times"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"proximal step"))).to_be_visible()
    shot(page, "overfit_l1_chatter")


def test_a_sidebar_move_reruns_the_page(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=3")
    degree = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Polynomial degree", exact=True))
    degree.get_by_role("slider").press("ArrowRight")
    expect(degree.get_by_test_id("stSliderThumbValue")).to_have_text("4")
    expect(page).to_have_url(re.compile(r"degree=4"))
    wait_idle(page)
    expect(page.locator(CHART)).to_have_count(6)


def test_raw_powers_diverge_and_one_click_fixes_it(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=6&powers=raw&shape=line", charts=5)  # no eigen view
    expect(page.get_by_text(re.compile(r"^The run diverged at step \d+"))).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Use a stable learning rate")).click()
    expect(page.get_by_text(re.compile(r"^The run diverged"))).to_have_count(0)
    wait_idle(page)
    shot(page, "overfit_raw_fixed")


def test_a_hostile_link_is_corrected_with_a_note(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?degree=99&l1=-3&test_fraction=<script>&powers=evil")
    expect(page.get_by_text(re.compile(r"Polynomial degree: 99 is outside 1 to 9"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^No test set: every point"))).to_be_visible()


def test_the_page_on_a_phone(page: Page, app_server: str) -> None:
    page.set_viewport_size({"width": 412, "height": 5200})
    open_overfit(page, app_server, "?test_fraction=0.25&degree=5")
    shot(page, "overfit_phone")
