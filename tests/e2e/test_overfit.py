"""The "Overfitting & regularization" page in a real browser: it opens at /overfitting with its fit player, its five
charts and no exception box, at degrees 1, 3 and 9, heavy noise, strong decay, L1 and on a phone's width; the fit
plays by itself and comes to rest; the player's Degree and Weight decay sliders redraw in the browser and the page
catches up, and so does a move of the sidebar's degree slider; a move of the sidebar's noise or learning rate is drawn
from the player's route before the page's rerun, and going back asks nothing; a teacher's lock holds in the player; a
hostile link is corrected.

Screenshots go to test-artifacts/screenshots/overfit_*.png for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from .helpers import (
    IDLE_REDRAWS_JS,
    guarded_page,
    idle_redraws,
    note_when_drawn,
    open_root_once,
    picture,
    route_requests,
    scrub_to,
    shot,
    wait_idle,
    wait_until,
    watch_summary,
)

CHART = '[data-testid="stPlotlyChart"]'
PLAYER = '[data-testid="stBidiComponentRegular"] .fp-root'
FIT_ROUTE = "/api/fit-player"
VIEWPORT = {"width": 1400, "height": 4200}  # tall enough for the whole page in one screenshot
TITLE = "Overfitting & regularization"
TAB_WORDS = {  # the closer looks' tabs, and words their chart draws
    "Which degree?": "this page's degree",
    "How much weight decay?": "weight decay (log scale)",
    "The penalty on two weights": "unregularized optimum",
    "Why high degrees train slowly": "Condition number",
    "Many parameters: the eigen-directions": "Loss on the eigen-plane",
}


@pytest.fixture(scope="module", autouse=True)
def _root_first(app_server: str, browser) -> None:
    open_root_once(browser, app_server)  # a fresh server's first deep link can meet "Page not found"


@pytest.fixture(autouse=True)
def _no_exceptions(page: Page) -> Iterator[None]:
    with guarded_page(page, VIEWPORT):
        yield


def open_overfit(page: Page, base: str, query: str = "") -> Locator:
    """The page, its player drawn and its one chart: the first of the closer looks' tabs (only the open tab's chart is
    made)."""
    page.goto(f"{base}/overfitting{query}")
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.locator(PLAYER).locator(".fp-fit .pn-svg").first).to_be_visible()
    chart = page.locator(CHART)
    expect(chart).to_have_count(1)
    expect(chart.locator(".main-svg").first).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    return chart


def player_slider(page: Page, name: str) -> Locator:
    return page.locator(PLAYER).get_by_role("slider", name=name, exact=True)


def test_the_players_panels_drawn_off_the_page_while_idle_leave_the_picture(page: Page, app_server: str) -> None:
    """As the live figure's (RunPlayer.warmUp): after its first picture the player draws its panels twice more into
    spare panels off the page when the browser is idle; here those drawings wait for the test, run, and leave the
    page's panels, picture and step as they were."""
    page.add_init_script(IDLE_REDRAWS_JS)
    open_overfit(page, app_server)
    player = page.locator(PLAYER)
    scrub_to(player, 9)
    readout = player.locator(".lf-readout")
    expect(readout).to_contain_text("Step")
    shown = readout.text_content()
    before = picture(page, PLAYER)
    assert idle_redraws(page, f"{PLAYER} .fp-fit .pn-svg") == 2
    assert page.evaluate(f"() => document.querySelector('{PLAYER}').parentElement.__fitPlayer.warm") == 0
    assert picture(page, PLAYER) == before and readout.text_content() == shown


@pytest.mark.parametrize("degree", [1, 3, 9])
def test_the_page_at_three_degrees(page: Page, app_server: str, degree: int) -> None:
    chart = open_overfit(page, app_server, f"?test_fraction=0.25&degree={degree}")
    player = page.locator(PLAYER)
    expect(player).to_contain_text("held-out points")
    expect(player).to_contain_text("test loss")
    expect(player.locator(".lf-readout")).to_contain_text("Step 60 of 60", timeout=20_000)
    expect(chart.nth(0)).to_contain_text("this page's degree")
    shot(page, f"overfit_degree_{degree}")
    # each closer look draws its own chart when its tab is picked (the eigen-directions need degree 2 or more)
    for tab, words in TAB_WORDS.items():
        page.get_by_role("tab", name=tab).click()
        if degree == 1 and tab.startswith("Many parameters"):
            expect(page.get_by_text("Degree 1 has two parameters")).to_be_visible()
            expect(chart).to_have_count(0)
            continue
        expect(chart).to_have_count(1)
        expect(chart.locator(".main-svg").first).to_be_visible()
        expect(chart).to_contain_text(words)


def test_the_fit_plays_by_itself_and_comes_to_rest(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=5&epochs=200")
    player = page.locator(PLAYER)
    readout = player.locator(".lf-readout")
    expect(readout).to_contain_text(re.compile(r"Step [1-9]\d* of 200"))  # no click
    expect(readout).to_contain_text("Step 200 of 200", timeout=20_000)
    expect(player.locator(".lf-play")).to_have_text("↺ Replay")
    expect(player.locator(".lf-panels")).to_have_attribute("aria-label", re.compile(r"Degree 5, weight decay 0: "))
    # the model's curve, the exact optimum's, and both losses so far are drawn over the panels
    assert len(player.locator(".fp-fit .lf-overlay polyline").nth(1).get_attribute("points").split()) >= 100
    assert player.locator(".fp-loss .lf-overlay polyline").count() == 4
    expect(page.locator(CHART)).to_have_count(1)  # played in the browser, no rerun


# the steps the player's readout shows, in order, from the moment this runs
STEPS_SEEN = """(player) => {
    const readout = document.querySelector(player + ' .lf-readout');
    window.__steps = [];
    new MutationObserver(() => {
        const m = /^Step (\\d+)/.exec(readout.textContent);
        if (m) window.__steps.push(Number(m[1]));
    }).observe(readout, {childList: true, characterData: true, subtree: true});
}"""


def test_a_degree_move_in_the_player_redraws_at_once_and_the_page_catches_up(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=3")
    player = page.locator(PLAYER)
    page.evaluate(f"() => {{ window.__playerNode = document.querySelector('{PLAYER}'); }}")
    model = player.locator(".fp-fit .lf-overlay polyline").nth(1)
    expect(player.locator(".lf-readout")).to_contain_text("Step 60 of 60", timeout=20_000)
    before = model.get_attribute("points")
    degree = player_slider(page, "Degree")
    expect(degree).to_have_attribute("aria-valuetext", re.compile(r"^3: test loss"))
    page.evaluate(STEPS_SEEN, PLAYER)  # every step the readout shows from here on
    degree.focus()
    degree.press("ArrowRight")
    # the degree-4 run is drawn by the browser, before any answer from the server could arrive
    expect(player.locator(".lf-summary")).to_contain_text("Degree 4, weight decay 0:", timeout=300)
    # then the page catches up (URL, sidebar, readouts) with the same player, usually while it still plays
    expect(page).to_have_url(re.compile(r"[?&]degree=4(&|$)"))
    sidebar = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Polynomial degree", exact=True))
    expect(sidebar.get_by_test_id("stSliderThumbValue")).to_have_text("4")
    wait_idle(page)
    assert page.evaluate(f"() => window.__playerNode === document.querySelector('{PLAYER}')")
    expect(player.locator(".lf-play")).to_have_text("↺ Replay", timeout=20_000)
    expect(player.locator(".lf-readout")).to_contain_text("Step 60 of 60")
    assert model.get_attribute("points") != before
    # the page's data describes the run on screen: one playback from step 0 to the end, none started again by it
    steps = page.evaluate("() => window.__steps")
    assert steps[0] == 0 and steps[-1] == 60 and steps == sorted(steps), steps
    decay = player_slider(page, "Weight decay")
    decay.focus()
    decay.press("ArrowRight")
    expect(player.locator(".lf-summary")).to_contain_text("Degree 4, weight decay 0.0001:", timeout=300)
    expect(page).to_have_url(re.compile(r"[?&]weight_decay=0\.0001(&|$)"))
    shot(page, "overfit_player_moves")


def test_a_teachers_link_to_the_page_opens_it_with_the_lock(page: Page, app_server: str) -> None:
    page.goto(f"{app_server}/lesson-link?degree=5&test_fraction=0.25")
    expect(page.get_by_role("heading", name="Make a lesson link")).to_be_visible()
    page.get_by_test_id("stRadio").get_by_text("Overfitting & regularization", exact=True).click()
    expect(page.get_by_text("A challenge is checked on the Playground")).to_be_visible()
    wait_idle(page)
    locked = page.get_by_role("combobox", name="Show but lock these controls")
    locked.click()
    locked.fill("Polynomial degree")
    page.keyboard.press("Enter")
    link = page.get_by_test_id("stCode").first
    expect(link).to_contain_text(re.compile(r"/overfitting\?.*lock=degree"))
    wait_idle(page)
    url = link.inner_text().strip()
    open_overfit(page, app_server, url.split("/overfitting", 1)[1])  # the link's query, on this test's server
    expect(player_slider(page, "Degree")).to_be_disabled()
    expect(player_slider(page, "Degree")).to_have_attribute("aria-valuetext", re.compile(r"^5: "))


def test_a_teachers_lock_and_hide_hold_in_the_player(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=3&lock=degree&hide=weight_decay")
    expect(player_slider(page, "Degree")).to_be_disabled()
    expect(page.locator(PLAYER).locator(".lf-slider[data-key=weight_decay]")).to_be_hidden()


def test_heavy_noise_strong_decay_and_l1(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?test_fraction=0.3&degree=9&noise=3&n=40")
    shot(page, "overfit_heavy_noise")
    open_overfit(page, app_server, "?test_fraction=0.25&degree=9&weight_decay=2")
    page.get_by_role("tab", name="The penalty on two weights").click()
    expect(page.get_by_text(re.compile(r"circles around 0"))).to_be_visible()
    shot(page, "overfit_strong_decay")
    open_overfit(page, app_server, "?test_fraction=0.25&degree=9&l1=0.2&epochs=500")
    expect(page.get_by_text(re.compile(r"changed sign \d+ times"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"proximal step"))).to_be_visible()
    shot(page, "overfit_l1_chatter")


def test_a_sidebar_degree_move_redraws_the_player_at_once_and_the_page_reruns(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=3")
    player = page.locator(PLAYER)
    page.evaluate(f"() => {{ window.__playerNode = document.querySelector('{PLAYER}'); }}")
    watch_summary(page, PLAYER)  # the URL when the player first drew another run
    degree = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Polynomial degree", exact=True))
    degree.get_by_role("slider").press("ArrowRight")
    # the player follows the sidebar's slider from its degree family, before the page's rerun comes back
    expect(player.locator(".lf-summary")).to_contain_text("Degree 4, weight decay 0:")
    assert "degree=3" in page.evaluate("() => window.__urlWhenDrawn")
    expect(player.locator(".lf-slider[data-key=degree] output")).to_have_text("4")
    expect(degree.get_by_test_id("stSliderThumbValue")).to_have_text("4")
    expect(page).to_have_url(re.compile(r"degree=4"))
    wait_idle(page)
    assert page.evaluate(f"() => window.__playerNode === document.querySelector('{PLAYER}')")
    expect(page.locator(CHART)).to_have_count(1)
    # three quick presses: the page reruns for each, but the player never goes back to a degree the learner left
    page.evaluate(f"""() => {{
        const summary = document.querySelector('{PLAYER} .lf-summary');
        window.__degrees = [];
        new MutationObserver(() => {{
            const m = /^Degree (\\d+),/.exec(summary.textContent);
            if (m) window.__degrees.push(Number(m[1]));
        }}).observe(summary, {{childList: true, characterData: true, subtree: true}});
    }}""")
    for _ in range(3):
        degree.get_by_role("slider").press("ArrowRight")
    expect(page).to_have_url(re.compile(r"degree=7"))
    wait_idle(page)
    degrees = page.evaluate("() => window.__degrees")
    assert degrees[-1] == 7 and degrees == sorted(degrees), degrees
    # a setting the families do not cover (the learning rate): the player fetches that run, at the degree on screen
    lr = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Learning rate", exact=True))
    with page.expect_response(re.compile(r"/api/fit-player\?.*lr=0\.07")) as answered:
        lr.get_by_role("slider").press("ArrowLeft")
    assert answered.value.ok and "degree=7" in answered.value.url
    expect(page).to_have_url(re.compile(r"[?&]lr=0\.07(&|$)"))
    wait_idle(page)
    expect(player.locator(".lf-summary")).to_contain_text("Degree 7, weight decay 0:")
    assert "lr=0.07" in player.get_attribute("data-query")


def noted_when_drawn(page: Page, points: str, drawn: bool) -> None:
    """Notes the URL (window.__urlWhenDrawn) when the player's training points first are (drawn) or stop being
    (not drawn) the points `points`."""
    page.evaluate(
        f"""([points, drawn]) => {{
        const root = document.querySelector('{PLAYER}');
        window.__urlWhenDrawn = null;
        const seen = new MutationObserver(() => {{
            const dots = root.querySelector('.fp-train-points');
            if (!dots || (dots.getAttribute('d') === points) !== drawn) return;
            window.__urlWhenDrawn = location.search;
            seen.disconnect();
        }});
        seen.observe(root, {{attributes: true, childList: true, subtree: true}});
    }}""",
        [points, drawn],
    )


def test_a_sidebar_noise_move_is_fetched_by_the_player_the_next_step_ahead_and_going_back_asks_nothing(
    page: Page, app_server: str
) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=3&noise=1")
    player = page.locator(PLAYER)
    points = player.locator(".fp-train-points")
    at_one = points.get_attribute("d")
    asked = route_requests(page, FIT_ROUTE, "noise")
    slider = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Noise level", exact=True))
    noise = slider.get_by_role("slider")
    with page.expect_response(re.compile(r"/api/fit-player\?.*noise=0\.9")) as answered:
        noise.press("ArrowLeft")
    assert answered.value.ok
    expect(points).not_to_have_attribute("d", at_one)
    expect(page).to_have_url(re.compile(r"[?&]noise=0\.9(&|$)"))
    wait_idle(page)
    assert "noise=0.9" in player.get_attribute("data-query")
    # the fetched run is the page's: the readouts are its numbers
    expect(player.locator(".lf-summary")).to_contain_text("Degree 3, weight decay 0: training loss")
    train = page.get_by_test_id("stMetric").filter(has_text="Training loss").get_by_test_id("stMetricValue")
    assert f"training loss {train.text_content()}," in player.locator(".lf-summary").text_content()
    # the learner is stepping down: the next level was asked for ahead, so the next step is drawn at once, before
    # the page's rerun comes back, and asks nothing (0.9 came in part, drawn at once, then whole)
    page.wait_for_timeout(500)
    assert asked == ["0.9", "0.9 whole", "0.8"], asked
    at_nine = points.get_attribute("d")
    noted_when_drawn(page, at_nine, drawn=False)
    noise.press("ArrowLeft")
    expect(points).not_to_have_attribute("d", at_nine)
    assert "noise=0.9" in page.evaluate("() => window.__urlWhenDrawn")
    expect(page).to_have_url(re.compile(r"[?&]noise=0\.8(&|$)"))
    wait_idle(page)
    assert asked[:4] == ["0.9", "0.9 whole", "0.8", "0.7"], asked  # and the one after, ahead
    # back up to 1: the player kept those runs, so each is drawn at once, with no request for them
    noted_when_drawn(page, at_one, drawn=True)
    noise.press("ArrowRight")
    expect(points).to_have_attribute("d", at_nine)
    noise.press("ArrowRight")
    expect(points).to_have_attribute("d", at_one)
    expect(page).to_have_url(re.compile(r"[?&]noise=1(&|$)"))
    wait_idle(page)
    assert asked.count("0.9") == 1 and "1" not in asked, asked
    shot(page, "overfit_sidebar_noise_back")


def test_resting_on_a_sidebar_slider_fetches_its_neighbours_and_the_key_draws_one_at_once(
    page: Page, app_server: str
) -> None:
    """The learning rate (a slider the player fetches runs for): resting on it fetches the runs at both neighbouring
    values; the arrow key then draws one from the key itself, before the slider shows the new value, with no
    request."""
    open_overfit(page, app_server, "?test_fraction=0.25&degree=3")
    player = page.locator(PLAYER)
    lr_slider = (
        page.get_by_test_id("stSidebar")
        .get_by_test_id("stSlider")
        .filter(has=page.get_by_text("Learning rate", exact=True))
    )
    lr = lr_slider.get_by_role("slider")
    shown = lr.get_attribute("aria-valuetext")
    asked: list[str] = []
    done: list[str] = []
    page.on("request", lambda r: asked.append(parse_qs(urlsplit(r.url).query)["lr"][0]) if FIT_ROUTE in r.url else None)
    page.on(
        "requestfinished",
        lambda r: done.append(parse_qs(urlsplit(r.url).query)["lr"][0]) if FIT_ROUTE in r.url else None,
    )
    lr.focus()
    wait_until(page, lambda: len(done) == 2, lambda: (asked, done))
    down, up = sorted(done, key=float)
    assert float(down) < float(shown) < float(up), (shown, done)
    lr_input = "document.querySelector('.st-key-ctl_lr input[type=range]')"
    note_when_drawn(page, PLAYER, f"{lr_input}.getAttribute('aria-valuetext')")
    lr.press("ArrowRight")
    expect(player).to_have_attribute("data-query", re.compile(rf"(^|&)lr={re.escape(up)}(&|$)"))
    assert page.evaluate("() => window.__whenDrawn") == shown  # drawn before the slider showed the step
    wait_idle(page)
    assert asked.count(up) == 1, asked
    expect(page).to_have_url(re.compile(rf"[?&]lr={re.escape(up)}(&|$)"))


def test_a_sidebar_radio_pick_is_fetched_by_the_player_and_picking_back_asks_nothing(
    page: Page, app_server: str
) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=3&seed=3")
    player = page.locator(PLAYER)
    summary = player.locator(".lf-summary")
    standardized = summary.text_content()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/fit-player" in r.url else None)
    powers = page.get_by_role("radiogroup", name="Powers of x")
    with page.expect_response(re.compile(r"/api/fit-player\?.*powers=raw")) as answered:
        powers.get_by_text("raw", exact=True).click()
    assert answered.value.ok
    expect(summary).not_to_have_text(standardized)
    expect(page).to_have_url(re.compile(r"[?&]powers=raw(&|$)"))
    wait_idle(page)
    assert "powers=raw" in player.get_attribute("data-query")
    # back: the player kept that run, so it is drawn at once, before the page's rerun, with no request
    watch_summary(page, PLAYER)
    powers.get_by_text("standardized", exact=True).click()
    expect(summary).to_have_text(standardized)
    assert "powers=raw" in page.evaluate("() => window.__urlWhenDrawn")
    expect(page).to_have_url(re.compile(r"[?&]powers=standardized(&|$)"))
    wait_idle(page)
    assert len(asked) == 1, asked


def test_resting_on_a_sidebar_radio_group_fetches_its_other_option_and_a_pick_draws_at_once(
    page: Page, app_server: str
) -> None:
    """The learner on the Powers of x radio buttons (their focus, a quarter of a second): the other option's run is
    fetched ahead, and the pick draws it before the page's rerun knows of it, with no request."""
    open_overfit(page, app_server, "?test_fraction=0.25&degree=3&seed=4")
    player = page.locator(PLAYER)
    asked: list[str] = []
    done: list[str] = []
    page.on(
        "request", lambda r: asked.append(parse_qs(urlsplit(r.url).query)["powers"][0]) if FIT_ROUTE in r.url else None
    )
    page.on(
        "requestfinished",
        lambda r: done.append(parse_qs(urlsplit(r.url).query)["powers"][0]) if FIT_ROUTE in r.url else None,
    )
    radio = page.locator("[data-testid=stSidebar] .st-key-ctl_powers input[type=radio][tabindex='0']")
    radio.focus()
    wait_until(page, lambda: done == ["raw"], lambda: (asked, done))
    note_when_drawn(page, PLAYER, "location.search")
    radio.press("ArrowRight")  # standardized -> raw
    expect(player).to_have_attribute("data-query", re.compile(r"(^|&)powers=raw(&|$)"))
    assert "powers=raw" not in page.evaluate("() => window.__whenDrawn")  # drawn before the page's rerun
    expect(page).to_have_url(re.compile(r"[?&]powers=raw(&|$)"))
    wait_idle(page)
    assert asked == ["raw"], asked


def test_when_the_route_fails_the_player_says_so_and_the_pages_rerun_brings_the_run(
    page: Page, app_server: str
) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=3")
    player = page.locator(PLAYER)
    page.route(
        re.compile(r"/api/fit-player\?"),
        lambda route: route.fulfill(status=503, json={"error": "The server is restarting."}),
    )
    points = player.locator(".fp-train-points")
    before = points.get_attribute("d")
    page.evaluate(
        f"""() => {{
        const summary = document.querySelector('{PLAYER} .lf-summary');
        window.__said = [];
        new MutationObserver(() => window.__said.push(summary.textContent))
            .observe(summary, {{childList: true, characterData: true, subtree: true}});
    }}"""
    )
    noise = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Noise level", exact=True))
    noise.get_by_role("slider").press("ArrowLeft")
    # the page's rerun brings the new data's run, and the player plays it
    expect(points).not_to_have_attribute("d", before)
    expect(page).to_have_url(re.compile(r"[?&]noise=0\.4(&|$)"))
    wait_idle(page)
    said = page.evaluate("() => window.__said")
    assert "This run could not be fetched (The server is restarting.); the page computes it as it reruns." in said
    expect(player.locator(".lf-summary")).to_contain_text("Degree 3, weight decay 0: training loss")


def test_raw_powers_diverge_and_one_click_fixes_it(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?test_fraction=0.25&degree=6&powers=raw&shape=line")
    expect(page.get_by_text(re.compile(r"^The run diverged at step \d+"))).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Use a stable learning rate")).click()
    expect(page.get_by_text(re.compile(r"^The run diverged"))).to_have_count(0)
    wait_idle(page)
    shot(page, "overfit_raw_fixed")


def test_a_hostile_link_is_corrected_with_a_note(page: Page, app_server: str) -> None:
    open_overfit(page, app_server, "?degree=99&l1=-3&test_fraction=<script>&powers=evil")
    expect(page.get_by_text(re.compile(r"Polynomial degree: 99 is outside 1 to 9"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^No test set: every point"))).to_be_visible()
    # nothing is held out: the player names no held-out points, test loss or early stop
    legend = page.locator(PLAYER).locator(".lf-legend")
    expect(legend.get_by_text("held-out points")).to_be_hidden()
    expect(legend.get_by_text("lowest test loss")).to_be_hidden()
    expect(legend.get_by_text("training loss")).to_be_visible()


def test_the_page_on_a_phone(page: Page, app_server: str) -> None:
    page.set_viewport_size({"width": 412, "height": 5200})
    open_overfit(page, app_server, "?test_fraction=0.25&degree=5")
    player = page.locator(PLAYER)
    fit, loss = (player.locator(f"{p}").bounding_box() for p in (".fp-fit", ".fp-loss"))
    assert loss["y"] >= fit["y"] + fit["height"] and fit["width"] >= 300  # stacked, each the full width
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 412  # nothing scrolls sideways
    shot(page, "overfit_phone")
