"""Smoke test: the app opens in a real browser and its first page draws its live figure."""

from playwright.sync_api import Page, expect

from .helpers import shot, wait_idle


def test_home_page_renders_a_chart(page: Page, app_server: str) -> None:
    page.goto(app_server)

    chart = page.locator('[data-testid="stBidiComponentRegular"] .lf-surface').first
    expect(chart).to_be_visible(timeout=60_000)
    # the figure drew its panel (components/panel.js), not only Streamlit's placeholder
    expect(chart.locator(".pn-svg").first).to_be_visible(timeout=60_000)
    wait_idle(page)

    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    shot(page, "smoke_home")
