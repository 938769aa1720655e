"""The Explorer pages in a real browser: each one opens at its URL path (read from app.py), draws its charts with no
exception box, at its defaults and at an extreme; the race plays by itself, comes to rest and stacks on a phone; a
sweep link opens that run in the playground.

Screenshots go to test-artifacts/screenshots/explore_*.png for a person to look at.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Locator, Page, expect

from .helpers import FIGURE, REPO_ROOT, guarded_page, open_root_once, shot, wait_idle

CHART = '[data-testid="stPlotlyChart"]'
PLAYER = '[data-testid="stBidiComponentRegular"] .rp-root'  # the race player (optimizer race, mini-batch noise)
VIEWPORT = {"width": 1400, "height": 2300}  # Streamlit scrolls inside the page: tall enough for all of it


def url_paths() -> dict[str, str]:
    """Page file -> URL path, from the st.Page(...) calls in app.py."""
    paths = {}
    for node in ast.walk(ast.parse((REPO_ROOT / "app.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page" and node.args:
            keywords = {k.arg: k.value for k in node.keywords}
            if isinstance(node.args[0], ast.Constant) and "url_path" in keywords:
                paths[node.args[0].value] = keywords["url_path"].value
    return paths


PATHS = url_paths()


@pytest.fixture(scope="module", autouse=True)
def _root_first(app_server: str, browser) -> None:
    open_root_once(browser, app_server)  # a fresh server's first deep link can meet "Page not found"


@pytest.fixture(autouse=True)
def _no_exceptions(page: Page) -> Iterator[None]:
    """Every test: a tall viewport, and neither an st.exception box nor an uncaught browser error at the end."""
    with guarded_page(page, VIEWPORT):
        yield


def open_page(page: Page, base: str, file: str, query: str = "", charts: int = 1, title: str = "") -> Locator:
    """Open a page by its URL path; wait for its title, for `charts` drawn charts and for idle."""
    page.goto(f"{base}/{PATHS[file]}{query}")
    if title:
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    chart = page.locator(CHART)
    expect(chart).to_have_count(charts)
    for i in range(charts):
        expect(chart.nth(i).locator(".main-svg").first).to_be_visible()
    wait_idle(page)
    expect(chart).to_have_count(charts)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    return chart


def open_player(page: Page, base: str, file: str, query: str = "", title: str = "") -> Locator:
    """Open a page with the race player; wait for its title, its drawn panels and idle."""
    page.goto(f"{base}/{PATHS[file]}{query}")
    if title:
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    player = page.locator(PLAYER)
    expect(player.locator(".rp-surface .pn-svg").first).to_be_visible()
    expect(player.locator(".rp-loss .pn-svg").first).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    return player


def test_the_explore_section_lists_the_four_pages(page: Page, app_server: str) -> None:
    open_page(page, app_server, "views/explore_lr.py", charts=3)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_contain_text("Explore")
    for title in ("Learning rate & momentum", "Optimizer race", "Feature scaling", "Mini-batch noise"):
        expect(nav.get_by_text(title, exact=True)).to_be_visible()


def test_learning_rate_page(page: Page, app_server: str) -> None:
    chart = open_page(page, app_server, "views/explore_lr.py", charts=3, title="Which learning rate? Which momentum?")
    expect(chart.nth(0)).to_contain_text("limit 2/λmax")
    expect(chart.nth(2)).to_contain_text("Theory: heavy-ball momentum")
    expect(chart.nth(1).locator(".hm image").first).to_be_attached()
    shot(page, "explore_lr_default")
    # clicking a dot of the sweep picks its learning rate for the link to the playground
    link = page.get_by_test_id("stLinkButton").filter(has_text="Watch lr =").first
    picker = page.get_by_test_id("stSlider").filter(has=page.get_by_text(re.compile(r"^Open this learning rate")))
    before = link.inner_text()
    chart.nth(0).locator(".scatterlayer .trace").first.locator(".points path").nth(10).click(force=True)
    expect(link).not_to_have_text(before)
    wait_idle(page)
    picked = picker.get_by_test_id("stSliderThumbValue").inner_text()
    expect(link).to_have_text(f"▶ Watch lr = {picked} in the playground")


def test_learning_rate_page_thermometer_and_its_link_to_the_playground(page: Page, app_server: str) -> None:
    open_page(page, app_server, "views/explore_lr.py", "?dataset=thermometer", charts=3)
    shot(page, "explore_lr_thermometer")
    link = page.get_by_test_id("stLinkButton").filter(has_text="Watch lr =").first.locator("a")
    href = link.get_attribute("href") or ""
    assert href.startswith("./?") and "dataset=thermometer" in href, href
    lr = re.search(r"[?&]lr=([^&]+)", href).group(1)
    page.goto(urljoin(page.url, href))  # what a click does, in this tab instead of a new one
    expect(page.get_by_role("heading", name="Watch PyTorch train a linear model")).to_be_visible()
    expect(page.locator(FIGURE).locator(".pn-svg").first).to_be_visible()  # the playground's live figure
    wait_idle(page)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    learning_rate = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Learning rate", exact=True))
    expect(learning_rate.get_by_test_id("stSliderThumbValue")).to_have_text(lr)
    expect(page.get_by_test_id("stAlert").filter(has_text="diverged")).to_have_count(0)


def test_race_page_plays_by_itself_and_comes_to_rest(page: Page, app_server: str) -> None:
    player = open_player(page, app_server, "views/race.py", title="Optimizer race")
    expect(player.locator(".rp-legend")).to_contain_text("Adam (lr")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    readout = player.locator(".lf-readout")
    expect(readout).to_contain_text(re.compile(r"Step [1-9]\d* of 60"))  # no click
    expect(readout).to_contain_text("Step 60 of 60", timeout=20_000)
    expect(player.locator(".lf-play")).to_have_text("↺ Replay")
    expect(player.locator(".lf-summary")).to_contain_text("6 optimizers from one start, 60 steps")
    # a path so far and a head per racer on the surface, a loss so far and a head per racer on the loss panel
    assert player.locator(".rp-surface .lf-overlay polyline").count() == 6
    assert len(player.locator(".rp-surface .lf-overlay polyline").first.get_attribute("points").split()) == 61
    expect(page.locator(CHART)).to_have_count(0)  # played in the browser, no rerun, no Plotly animation
    shot(page, "explore_race_default")
    scrub = player.get_by_role("slider", name="Step")
    scrub.focus()
    scrub.press("Home")
    expect(readout).to_contain_text("Step 0 of 60")


def test_race_page_tuned_on_two_features(page: Page, app_server: str) -> None:
    open_player(page, app_server, "views/race.py", "?dataset=plane")
    table = page.get_by_test_id("stDataFrame")
    page.get_by_text("tuned", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Tuned: each optimizer tried 9"))).to_be_visible()
    wait_idle(page)
    expect(page.locator(PLAYER).locator(".rp-surface .pn-svg").first).to_be_visible()
    expect(page.locator(PLAYER)).to_contain_text("w1")
    expect(table).to_be_visible()
    shot(page, "explore_race_plane_tuned")


def test_race_page_on_a_phone(page: Page, app_server: str) -> None:
    page.set_viewport_size({"width": 412, "height": 2400})
    player = open_player(page, app_server, "views/race.py")
    surface, loss = (player.locator(p).bounding_box() for p in (".rp-surface", ".rp-loss"))
    assert loss["y"] >= surface["y"] + surface["height"] and surface["width"] >= 300  # stacked, the full width
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 412  # nothing scrolls sideways
    shot(page, "explore_race_phone")


def test_scaling_page(page: Page, app_server: str) -> None:
    open_page(page, app_server, "views/scaling.py", title="Why scale the inputs?", charts=3)
    expect(page.get_by_text(re.compile(r"the loss blew up at step \d+"))).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Condition number")).to_have_count(3)
    shot(page, "explore_scaling_default")


def test_scaling_page_lab_data(page: Page, app_server: str) -> None:
    open_page(page, app_server, "views/scaling.py", charts=3)
    page.get_by_role("combobox", name="Data").click()
    page.get_by_role("option", name=re.compile(r"^Lab: y = 3x \+ 2")).click()
    expect(page.get_by_role("combobox", name="Data")).to_have_value(re.compile(r"^Lab"))
    expect(page.get_by_text(re.compile(r"^raw: lr 0.01 is .* it converges"))).to_be_visible()
    wait_idle(page)
    expect(page.locator(CHART).locator(".main-svg").first).to_be_visible()
    shot(page, "explore_scaling_lab")


def test_batch_noise_page(page: Page, app_server: str) -> None:
    player = open_player(page, app_server, "views/batch_noise.py", title="Mini-batch noise")
    expect(player.locator(".rp-legend")).to_contain_text("range over 5 seeds")
    expect(player.locator(".lf-readout")).to_contain_text("Epoch 60 of 60", timeout=20_000)
    shot(page, "explore_noise_default")


def test_batch_noise_page_diverging(page: Page, app_server: str) -> None:
    open_player(page, app_server, "views/batch_noise.py", "?dataset=thermometer&lr=0.1")
    expect(page.get_by_text(re.compile(r"diverged")).first).to_be_visible()
    shot(page, "explore_noise_thermometer")
