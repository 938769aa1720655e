"""The playground's live figure in a real browser: it plays by itself and comes to rest, its learning-rate and
momentum sliders redraw in the browser and the page catches up without rebuilding it, a tap on the surface sets
the start, it stacks on a phone, and a teacher's link hides or locks its sliders as well."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from .helpers import (
    FIGURE,
    IDLE_REDRAWS_JS,
    guarded_page,
    idle_redraws,
    note_when_drawn,
    open_figure,
    picture,
    query_of,
    route_requests,
    scrub_to,
    shot,
    wait_idle,
    wait_until,
    watch_summary,
)

VIEWPORT = {"width": 1400, "height": 1700}


@pytest.fixture(autouse=True)
def _no_exceptions(page: Page) -> Iterator[None]:
    with guarded_page(page, VIEWPORT):
        yield


def query_of_url(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def step_shown(figure: Locator) -> int:
    return int(re.match(r"Step (\d+)", figure.locator(".lf-readout").inner_text()).group(1))


def figure_slider(figure: Locator, name: str) -> Locator:
    return figure.get_by_role("slider", name=name, exact=True)


def test_a_new_run_plays_by_itself_and_comes_to_rest_on_its_last_step(page: Page, app_server: str) -> None:
    figure = open_figure(page, app_server)
    expect(figure.locator(".lf-readout")).to_contain_text(re.compile(r"Step [1-9]\d* of 60"))  # no click
    shot(page, "live_mid_animation")
    expect(figure.locator(".lf-readout")).to_contain_text("Step 60 of 60", timeout=20_000)
    expect(figure.locator(".lf-play")).to_have_text("↺ Replay")
    page.wait_for_timeout(500)
    assert step_shown(figure) == 60  # it rests there
    expect(figure.locator(".lf-summary")).to_contain_text("converges")
    expect(figure.locator(".lf-panels")).to_have_attribute("aria-label", re.compile(r"converges.*loss 0\.3039"))
    # the whole path is drawn faintly from the start, and the path so far over it
    whole = figure.locator(".lf-surface .lf-overlay polyline").first.get_attribute("points")
    assert len(whole.split()) == 61  # a point per step, drawn before the dot gets there
    # scrubbing shows any step
    scrub = figure.get_by_role("slider", name="Step")
    scrub.focus()
    scrub.press("Home")
    expect(figure.locator(".lf-readout")).to_contain_text("Step 0 of 60")
    shot(page, "live_defaults")


def test_a_learning_rate_move_in_the_figure_redraws_at_once_and_the_page_catches_up(
    page: Page, app_server: str
) -> None:
    figure = open_figure(page, app_server)
    page.evaluate(f"() => {{ window.__figureNode = document.querySelector('{FIGURE}'); }}")
    lr = figure_slider(figure, "Learning rate")
    expect(lr).to_have_attribute("aria-valuetext", re.compile(r"^0\.1: converges"))
    lr.focus()
    lr.press("ArrowRight")
    # the new run is drawn by the browser, before any answer from the server could arrive
    expect(figure.locator(".lf-summary")).to_contain_text("Learning rate 0.15", timeout=300)
    expect(figure.locator(".lf-slider[data-key=lr] output")).to_have_text("0.15")
    # then the page catches up: the URL, the sidebar's slider, the readouts; the figure is the same node
    expect(page).to_have_url(re.compile(r"[?&]lr=0\.15(&|$)"))
    sidebar = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Learning rate", exact=True))
    expect(sidebar.get_by_test_id("stSliderThumbValue")).to_have_text("0.15")
    wait_idle(page)
    assert page.evaluate(f"() => window.__figureNode === document.querySelector('{FIGURE}')")
    expect(lr).to_be_focused()
    mom = figure_slider(figure, "Momentum")
    mom.focus()
    mom.press("ArrowLeft")
    expect(figure.locator(".lf-summary")).to_contain_text("Momentum 0.75", timeout=300)
    expect(page).to_have_url(re.compile(r"[?&]momentum=0\.75(&|$)"))
    shot(page, "live_after_moves")


def test_fewer_epochs_in_the_figure_replay_at_once_and_more_are_fetched(page: Page, app_server: str) -> None:
    figure = open_figure(page, app_server)
    page.evaluate(f"() => {{ window.__figureNode = document.querySelector('{FIGURE}'); }}")
    epochs = figure_slider(figure, "Epochs")
    expect(epochs).to_have_attribute("aria-valuetext", "60 epochs")
    epochs.focus()
    epochs.press("ArrowLeft")  # 50: the first 50 steps of the shipped run, drawn by the browser
    expect(figure.locator(".lf-summary")).to_contain_text(
        re.compile(r"50 epochs: loss [\d.]+ after 50 steps"), timeout=300
    )
    expect(figure.locator(".lf-readout")).to_contain_text("of 50", timeout=300)
    expect(figure.locator(".lf-readout")).to_contain_text("Step 50 of 50", timeout=20_000)
    # the page catches up (URL, sidebar) without a new figure; the summary is then the run's own
    expect(page).to_have_url(re.compile(r"[?&]epochs=50(&|$)"))
    wait_idle(page)
    assert page.evaluate(f"() => window.__figureNode === document.querySelector('{FIGURE}')")
    expect(figure.locator(".lf-summary")).to_contain_text("converges")
    epochs.focus()
    # 75: longer than shipped, so the figure fetches that run from the server's route and plays it anew; the page
    # catches up without a new figure
    with page.expect_response(re.compile(r"/api/live-figure\?.*epochs=75")) as answered:
        epochs.press("ArrowRight")
        epochs.press("ArrowRight")
    assert answered.value.ok
    expect(figure.locator(".lf-readout")).to_contain_text(re.compile(r"Step \d+ of 75"))
    expect(page).to_have_url(re.compile(r"[?&]epochs=75(&|$)"))
    expect(figure.locator(".lf-readout")).to_contain_text("Step 75 of 75", timeout=20_000)
    wait_idle(page)
    assert page.evaluate(f"() => window.__figureNode === document.querySelector('{FIGURE}')")
    expect(figure.locator(".lf-summary")).to_contain_text("converges")
    ticks = figure.locator(".lf-loss .pn-xtick").evaluate_all("els => els.map((e) => e.textContent)")
    assert max(float(v) for v in ticks if v) >= 70, ticks  # the loss axis spans the longer run
    shot(page, "live_epochs")


def test_a_noise_move_in_the_figure_draws_new_data_with_no_rerun_and_the_page_catches_up(
    page: Page, app_server: str
) -> None:
    figure = open_figure(page, app_server)
    page.evaluate(f"""() => {{
        window.__figureNode = document.querySelector('{FIGURE}');
        const app = document.querySelector('[data-testid="stApp"]');
        window.__reruns = 0;  // a script run starting shows as the state "running"
        const ran = () => {{ if (app.getAttribute('data-test-script-state') === 'running') window.__reruns++; }};
        new MutationObserver(ran)
            .observe(app, {{attributes: true, attributeFilter: ['data-test-script-state']}});
    }}""")
    points = figure.locator(".lf-data .lf-points")
    before = points.get_attribute("d")
    noise = figure_slider(figure, "Noise level")
    expect(noise).to_have_attribute("aria-valuetext", "0.5")
    # dragged and still held: the slider has not come to rest, so the page has not been told; the figure fetched
    # the new data's run from the server's route and plays it
    noise.scroll_into_view_if_needed()
    box = noise.bounding_box()
    with page.expect_response(re.compile(r"/api/live-figure\?.*noise=")) as answered:
        page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2, steps=4)
    assert answered.value.ok
    expect(points).not_to_have_attribute("d", before)
    value = noise.get_attribute("aria-valuetext")
    assert float(value) > 0.5
    expect(figure.locator(".lf-readout")).to_contain_text(re.compile(r"Step [1-9]\d* of 60"))  # it plays
    expect(figure.locator(".lf-summary")).to_contain_text("converges")
    assert page.evaluate("() => window.__reruns") == 0
    assert figure.locator(".lf-note").is_hidden()
    # let go: the page catches up (URL, sidebar) without a new figure
    page.mouse.up()
    expect(page).to_have_url(re.compile(rf"[?&]noise={re.escape(value)}(&|$)"))
    wait_idle(page)
    sidebar = page.get_by_test_id("stSlider").filter(has=page.get_by_text("Noise level", exact=True))
    expect(sidebar.get_by_test_id("stSliderThumbValue")).to_have_text(f"{float(value):.2f}")
    assert page.evaluate(f"() => window.__figureNode === document.querySelector('{FIGURE}')")
    assert points.get_attribute("d") != before
    shot(page, "live_noise_fetched")


def test_stepping_through_noise_levels_the_next_is_fetched_ahead_and_one_just_left_is_kept(
    page: Page, app_server: str
) -> None:
    asked = route_requests(page, "/api/live-figure", "noise")  # the noise level of each request, in order
    figure = open_figure(page, app_server, "?noise=1")
    page.wait_for_timeout(500)
    assert asked == []  # nothing is fetched for a learner who has not moved the figure's noise slider
    points = figure.locator(".lf-data .lf-points")
    noise = figure_slider(figure, "Noise level")
    noise.focus()
    noise.press("ArrowRight")  # 1.1: fetched (in part, then whole, once drawn); then 1.2 fetched ahead
    expect(page).to_have_url(re.compile(r"[?&]noise=1\.1(&|$)"))
    wait_idle(page)
    wait_until(page, lambda: asked == ["1.1", "1.1 whole", "1.2"], lambda: asked)
    before = points.get_attribute("d")
    noise.press("ArrowRight")  # 1.2: already in the browser, drawn without asking again; 1.3 fetched ahead
    expect(points).not_to_have_attribute("d", before)
    expect(page).to_have_url(re.compile(r"[?&]noise=1\.2(&|$)"))
    wait_until(page, lambda: asked == ["1.1", "1.1 whole", "1.2", "1.3"], lambda: asked)
    wait_idle(page)
    before = points.get_attribute("d")
    noise.press("ArrowLeft")  # 1.1: back to a level the figure held (whole), drawn from the browser; so is 1.0
    expect(points).not_to_have_attribute("d", before)
    expect(page).to_have_url(re.compile(r"[?&]noise=1\.1(&|$)"))
    wait_idle(page)
    assert asked == ["1.1", "1.1 whole", "1.2", "1.3"]


def test_a_run_asked_for_now_is_drawn_from_its_first_part_and_its_ladders_follow(page: Page, app_server: str) -> None:
    """The route answers a run the figure draws now in part (components/live_route.py: its ladders without their
    steps), and the figure asks for the whole once it drew that. Here the page cannot rerun (its messages to the
    server are held) and the whole waits until the learner picked a learning rate in the figure: until the steps
    come, the figure shows the run it holds; then it plays the picked one, at the new noise level. Then the page
    catches up with both of the learner's moves, which came to rest within moments of each other."""
    held: list = []  # the page's WebSocket messages to the server while `hold` is set
    hold = [False]

    def route_socket(ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: held.append(message) if hold[0] else server.send(message))
        held.append(server)  # the first item: where the held messages go

    page.route_web_socket(re.compile(r"/_stcore/stream"), route_socket)
    figure = open_figure(page, app_server, "?noise=1&seed=7")
    wholes: list = []  # the requests for the whole run at noise 1.1, held (the next level, asked ahead, goes)

    def route_figure(route) -> None:
        whole = "noise=1.1&" in route.request.url and not route.request.headers.get("x-playground-now")
        wholes.append(route) if whole else route.continue_()

    page.route(re.compile(r"/api/live-figure\?"), route_figure)
    hold[0] = True
    points = figure.locator(".lf-data .lf-points")
    before = points.get_attribute("d")
    with page.expect_response(re.compile(r"/api/live-figure\?.*noise=1\.1")) as answered:
        figure_slider(figure, "Noise level").press("ArrowRight")
    first = answered.value.json()
    assert first["partial"] is True and {"params", "grad", "mom"}.isdisjoint(first["ladders"]["lr"])
    assert len(first["ladders"]["lr"]["values"]) == len(first["ladders"]["lr"]["labels"]) > 10
    expect(points).not_to_have_attribute("d", before)  # drawn from the first part
    expect(figure.locator(".lf-summary")).to_contain_text("Learning rate 0.1: converges")
    wait_until(page, lambda: len(wholes) == 1, lambda: wholes)  # then the whole is asked for (and held here)
    lr = figure_slider(figure, "Learning rate")
    lr.focus()
    lr.press("ArrowRight")  # before the ladders' steps came: the figure shows the run it holds
    expect(figure.locator(".lf-slider[data-key=lr] output")).to_have_text("0.15")
    expect(figure.locator(".lf-summary")).to_contain_text("Learning rate 0.1: converges")
    wholes[0].continue_()  # the steps come: the picked run plays, at noise 1.1 (the page has not rerun)
    expect(figure.locator(".lf-summary")).to_contain_text("Learning rate 0.15:")
    expect(figure).to_have_attribute("data-query", re.compile(r"(^|&)noise=1\.1(&|$)"))
    expect(figure.locator(".lf-readout")).to_contain_text(re.compile(r"Step \d+ of 60"))
    assert "noise=1" in page.url and "noise=1.1" not in page.url
    hold[0] = False  # the page's messages go, one rerun at a time (the figure's two moves, each its own)
    server, *messages = held
    for message in messages:
        server.send(message)
        page.wait_for_timeout(500)
        wait_idle(page)
    expect(page).to_have_url(re.compile(r"[?&]noise=1\.1(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]lr=0\.15(&|$)"))
    wait_idle(page)
    expect(figure.locator(".lf-summary")).to_contain_text("Learning rate 0.15:")


def test_a_new_run_drawn_now_is_its_ladders_until_the_whole_brings_engine_trains(page: Page, app_server: str) -> None:
    """Not computed yet, a run the figure draws now comes from its ladders alone (compute/live.first): the page's run
    as its learning-rate ladder has it, engine.train's path to float32 rounding. The whole, asked for next, brings
    engine.train's own, which takes its place at the step on screen: no replay. The page's rerun is held here, so
    only the figure's own requests bring it."""
    hold = [True]
    page.route_web_socket(re.compile(r"/_stcore/stream"), lambda ws: _held_socket(ws, hold))
    hold[0] = False
    figure = open_figure(page, app_server, "?noise=1&seed=17")
    wholes: list = []

    def route_figure(route) -> None:
        whole = "noise=1.1&" in route.request.url and not route.request.headers.get("x-playground-now")
        wholes.append(route) if whole else route.continue_()

    page.route(re.compile(r"/api/live-figure\?"), route_figure)
    hold[0] = True
    own = f"() => document.querySelector('{FIGURE}').parentElement.__liveFigure.data.own.params.bdata"
    with page.expect_response(re.compile(r"/api/live-figure\?.*noise=1\.1")) as answered:
        figure_slider(figure, "Noise level").press("ArrowRight")
    first = answered.value.json()
    assert first["partial"] is True and page.evaluate(own) == first["own"]["params"]["bdata"]
    wait_until(page, lambda: len(wholes) == 1, lambda: wholes)
    scrub_to(figure, 5)
    expect(figure.locator(".lf-readout")).to_contain_text("Step 5 of 60")
    with page.expect_response(lambda r: "noise=1.1&" in r.url and "x-playground-now" not in r.request.headers) as got:
        wholes[0].continue_()
    whole = got.value.json()
    assert "partial" not in whole and whole["own"]["label"] == first["own"]["label"]
    assert whole["own"]["params"]["bdata"] != first["own"]["params"]["bdata"]  # trained: engine.train's rounding
    wait_until(page, lambda: page.evaluate(own) == whole["own"]["params"]["bdata"], lambda: "the whole not taken")
    expect(figure.locator(".lf-readout")).to_contain_text("Step 5 of 60")  # where it was
    expect(figure.locator(".lf-play")).to_have_text("▶ Play")
    assert "noise=1.1" not in page.url  # the figure's own doing: the page has not rerun


def _held_socket(ws, hold: list) -> None:
    """Streamlit's WebSocket through Playwright: the page's messages to the server are dropped while hold[0]."""
    server = ws.connect_to_server()
    ws.on_message(lambda message: None if hold[0] else server.send(message))


def test_the_panels_drawn_off_the_page_while_the_browser_is_idle_leave_the_picture(page: Page, app_server: str) -> None:
    """After its first picture the figure draws its panels twice more, each when the browser is idle, into spare
    panels off the page (RunPlayer.warmUp: V8 then runs the drawing code fast for the learner's first move on new
    data). Here those drawings wait for the test: both run, and the page's panels, picture and step stay as they
    were (a tap or a test holding one of their elements meanwhile finds it still there)."""
    page.add_init_script(IDLE_REDRAWS_JS)
    figure = open_figure(page, app_server)
    scrub_to(figure, 7)
    expect(figure.locator(".lf-readout")).to_contain_text("Step 7 of 60")
    before = picture(page, FIGURE)
    assert idle_redraws(page, f"{FIGURE} .lf-surface .pn-svg") == 2
    assert page.evaluate(f"() => document.querySelector('{FIGURE}').parentElement.__liveFigure.warm") == 0
    assert picture(page, FIGURE) == before
    expect(figure.locator(".lf-readout")).to_contain_text("Step 7 of 60")


def sidebar_slider(page: Page, setting: str) -> Locator:
    """The sidebar's own slider of a setting (Streamlit's, keyed ctl_<setting>): its range input."""
    return page.locator(f"[data-testid=stSidebar] .st-key-ctl_{setting} input[type=range]")


def test_a_sidebar_slider_moves_the_figure_before_the_pages_rerun_comes_back(page: Page, app_server: str) -> None:
    asked: list[dict[str, str]] = []
    page.on("request", lambda r: asked.append(query_of_url(r.url)) if "/api/live-figure" in r.url else None)
    figure = open_figure(page, app_server)
    page.evaluate(f"() => {{ window.__figureNode = document.querySelector('{FIGURE}'); }}")
    lr = sidebar_slider(page, "lr")
    watch_summary(page, FIGURE)
    lr.focus()
    lr.press("ArrowRight")  # 0.15: a run of the figure's learning-rate ladder
    expect(figure.locator(".lf-summary")).to_contain_text("Learning rate 0.15: converges")
    expect(figure.locator(".lf-slider[data-key=lr] output")).to_have_text("0.15")
    assert "lr=0.1&" in page.evaluate("() => window.__urlWhenDrawn") + "&"  # drawn before the page knew
    expect(page).to_have_url(re.compile(r"[?&]lr=0\.15(&|$)"))
    wait_idle(page)
    assert page.evaluate(f"() => window.__figureNode === document.querySelector('{FIGURE}')")
    assert asked == []  # the ladder had it
    # a momentum off the figure's ladder (0.81): the figure asks the route for that run while the page reruns
    mom = sidebar_slider(page, "momentum")
    with page.expect_response(re.compile(r"/api/live-figure\?.*momentum=0\.81")) as answered:
        mom.focus()
        mom.press("ArrowRight")
    assert answered.value.ok and asked[-1]["lr"] == "0.15"
    expect(figure.locator(".lf-slider[data-key=momentum] output")).to_have_text("0.81")
    expect(page).to_have_url(re.compile(r"[?&]momentum=0\.81(&|$)"))
    wait_idle(page)
    assert page.evaluate(f"() => window.__figureNode === document.querySelector('{FIGURE}')")
    expect(figure.locator(".lf-summary")).to_contain_text("Learning rate 0.15: converges")
    # four quick presses: the page reruns for each, but the figure never goes back to a value the learner has left
    page.evaluate(f"""() => {{
        const summary = document.querySelector('{FIGURE} .lf-summary');
        window.__rates = [];
        new MutationObserver(() => {{
            const m = /^Learning rate ([\\d.e-]+):/.exec(summary.textContent);
            if (m) window.__rates.push(Number(m[1]));
        }}).observe(summary, {{childList: true, characterData: true, subtree: true}});
    }}""")
    lr.focus()
    for _ in range(4):
        lr.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"[?&]lr=0\.7(&|$)"))
    wait_idle(page)
    rates = page.evaluate("() => window.__rates")
    assert rates[-1] == 0.7 and rates == sorted(rates), rates
    expect(figure.locator(".lf-summary")).to_contain_text("Learning rate 0.7:")
    # fewer epochs: the first steps of the run the figure holds, at once
    watch_summary(page, FIGURE)
    epochs = sidebar_slider(page, "epochs")
    epochs.focus()
    epochs.press("ArrowLeft")
    expect(figure.locator(".lf-summary")).to_contain_text(re.compile(r"50 epochs: loss [\d.]+ after 50 steps"))
    assert "epochs=60" in page.evaluate("() => window.__urlWhenDrawn")
    expect(page).to_have_url(re.compile(r"[?&]epochs=50(&|$)"))
    wait_idle(page)


def test_a_sidebar_noise_move_draws_the_new_data_from_the_route(page: Page, app_server: str) -> None:
    figure = open_figure(page, app_server, "?noise=1")
    points = figure.locator(".lf-data .lf-points")
    before = points.get_attribute("d")
    noise = sidebar_slider(page, "noise")
    with page.expect_response(re.compile(r"/api/live-figure\?.*noise=0\.9")) as answered:
        noise.focus()
        noise.press("ArrowLeft")
    assert answered.value.ok
    expect(points).not_to_have_attribute("d", before)
    expect(figure.locator(".lf-slider[data-key=noise] output")).to_have_text("0.9")
    expect(page).to_have_url(re.compile(r"[?&]noise=0\.9(&|$)"))
    wait_idle(page)
    expect(figure.locator(".lf-readout")).to_contain_text("Step 60 of 60", timeout=20_000)  # it played
    assert figure.locator(".lf-note").is_hidden()


def test_resting_on_the_sidebars_noise_slider_fetches_its_neighbours_and_the_key_draws_one_at_once(
    page: Page, app_server: str
) -> None:
    """A learner on the sidebar's noise slider (its focus, a quarter of a second) has both neighbouring levels fetched
    ahead; the arrow key then draws the new data from the key itself, with no request: before the slider's own
    update shows the new value."""
    asked: list[str] = []
    done: list[str] = []
    figure = open_figure(page, app_server, "?noise=1")
    page.on("request", lambda r: asked.append(query_of_url(r.url)["noise"]) if "/api/live-figure" in r.url else None)
    page.on(
        "requestfinished", lambda r: done.append(query_of_url(r.url)["noise"]) if "/api/live-figure" in r.url else None
    )
    points = figure.locator(".lf-data .lf-points")
    before = points.get_attribute("d")
    noise = sidebar_slider(page, "noise")
    noise.focus()
    wait_until(page, lambda: sorted(done) == ["0.9", "1.1"], lambda: (asked, done))
    assert points.get_attribute("d") == before  # fetched, not drawn
    noise_input = "document.querySelector('.st-key-ctl_noise input[type=range]')"
    note_when_drawn(page, FIGURE, f"{noise_input}.getAttribute('aria-valuetext')")
    noise.press("ArrowLeft")
    expect(points).not_to_have_attribute("d", before)
    assert page.evaluate("() => window.__whenDrawn") == "1.00"  # the slider did not show 0.90 yet
    assert "noise=0.9" in figure.get_attribute("data-query")
    expect(page).to_have_url(re.compile(r"[?&]noise=0\.9(&|$)"))
    wait_idle(page)
    assert asked.count("0.9") == 1, asked  # the one ahead
    expect(figure.locator(".lf-slider[data-key=noise] output")).to_have_text("0.9")
    # a learner passing over the slider with the Tab key asks for nothing
    page.get_by_role("slider", name="Learning rate").first.focus()
    page.wait_for_timeout(500)
    count = len(asked)
    noise.focus()
    page.keyboard.press("Shift+Tab")
    page.wait_for_timeout(500)
    assert len(asked) == count, asked


def test_a_first_step_on_new_data_is_drawn_before_the_pages_rerun_starts(page: Page, app_server: str) -> None:
    """A sidebar noise step nobody fetched ahead: the figure asks the route for the run and the slider asks the
    page to rerun, at once; the server holds the browser's rerun until the figure's answer has left and been drawn
    (server/route_first.py), so the browser is not busy with the rerun when the answer comes."""
    figure = open_figure(page, app_server, "?noise=1&seed=5")
    note_when_drawn(page, FIGURE, "document.querySelector('[data-testid=stApp]').dataset.testScriptState")
    with page.expect_response(re.compile(r"/api/live-figure\?.*noise=0\.9")) as answered:
        sidebar_slider(page, "noise").press("ArrowLeft")  # focused and pressed at once: nothing fetched ahead
    assert answered.value.ok
    assert answered.value.request.headers.get("x-playground-now") == "1"
    expect(figure).to_have_attribute("data-query", re.compile(r"(^|&)noise=0\.9(&|$)"))
    assert page.evaluate("() => window.__whenDrawn") == "notRunning"
    expect(page).to_have_url(re.compile(r"[?&]noise=0\.9(&|$)"))  # then the page reruns and catches up
    wait_idle(page)


def test_the_mouse_resting_on_a_noise_slider_or_a_touch_on_it_fetches_its_neighbours(
    page: Page, app_server: str
) -> None:
    """A learner about to move a noise slider (the sidebar's or the figure's own) with the mouse or a finger has both
    neighbouring levels fetched before it moves: the mouse resting over it, or a press on it (a touch has no hover;
    a drag's first step follows the press)."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(query_of_url(r.url)["noise"]) if "/api/live-figure" in r.url else None)
    page.mouse.move(1, 1)
    figure = open_figure(page, app_server, "?noise=1")
    points = figure.locator(".lf-data .lf-points")
    before = points.get_attribute("d")
    page.wait_for_timeout(500)
    assert asked == []  # nothing is fetched for a learner who has not come near the slider
    page.locator("[data-testid=stSidebar] .st-key-ctl_noise [data-testid=stSlider]").hover()
    wait_until(page, lambda: sorted(asked) == ["0.9", "1.1"], lambda: asked)
    page.wait_for_timeout(300)
    assert points.get_attribute("d") == before  # fetched, not drawn

    page.mouse.move(1, 1)
    asked.clear()
    figure = open_figure(page, app_server, "?noise=0.5")
    own = figure.locator(".lf-slider[data-key=noise] input")
    own.dispatch_event("pointerdown", {"pointerType": "touch", "isPrimary": True})
    wait_until(page, lambda: sorted(asked) == ["0.4", "0.6"], lambda: asked)
    expect(figure.locator(".lf-slider[data-key=noise] output")).to_have_text("0.5")  # fetched, not moved


def test_a_dataset_picked_in_the_sidebar_is_fetched_by_the_figure_and_ahead_from_the_keyboard(
    page: Page, app_server: str
) -> None:
    figure = open_figure(page, app_server)
    page.evaluate(f"() => {{ window.__figureNode = document.querySelector('{FIGURE}'); }}")
    points = figure.locator(".lf-data .lf-points")
    before = points.get_attribute("d")
    page.locator("[data-testid=stSidebar] .st-key-ctl_dataset input[role=combobox]").click()
    with page.expect_response(re.compile(r"/api/live-figure\?dataset=lab&")) as answered:
        page.get_by_role("option", name=re.compile(r"^Lab: y = 3x \+ 2")).click()
    assert answered.value.ok
    expect(points).not_to_have_attribute("d", before)
    expect(page).to_have_url(re.compile(r"[?&]dataset=lab(&|$)"))
    wait_idle(page)
    assert page.evaluate(f"() => window.__figureNode === document.querySelector('{FIGURE}')")
    assert len(points.get_attribute("d").split("M")) - 1 == 10  # the lab's ten points
    assert figure.locator(".lf-note").is_hidden()
    expect(figure.locator(".lf-summary")).not_to_contain_text("computing")
    # from the keyboard: the option the learner rests on is fetched ahead, and the pick draws it with no request
    asked: list[str] = []
    done: list[str] = []
    page.on("request", lambda r: asked.append(query_of_url(r.url)["dataset"]) if "/api/live-figure" in r.url else None)
    page.on(
        "requestfinished",
        lambda r: done.append(query_of_url(r.url)["dataset"]) if "/api/live-figure" in r.url else None,
    )
    box = page.locator("[data-testid=stSidebar] .st-key-ctl_dataset input[role=combobox]")
    box.click()
    box.fill("A batch")
    box.press("ArrowDown")
    wait_until(page, lambda: done == ["four-points"], lambda: (asked, done))
    before = points.get_attribute("d")
    box_input = "document.querySelector('[data-testid=stSidebar] .st-key-ctl_dataset input')"
    note_when_drawn(page, FIGURE, f"{box_input}.getAttribute('aria-expanded')")
    box.press("Enter")
    expect(points).not_to_have_attribute("d", before)
    assert page.evaluate("() => window.__whenDrawn") == "true"  # drawn from the key, before the list closed
    assert len(points.get_attribute("d").split("M")) - 1 == 4
    expect(figure.locator(".lf-panels")).to_have_attribute("aria-label", re.compile("converges"))
    expect(page).to_have_url(re.compile(r"[?&]dataset=four-points(&|$)"))
    wait_idle(page)
    assert asked == ["four-points"]
    assert "dataset=four-points" in figure.get_attribute("data-query")


def test_when_the_route_fails_the_figure_says_so_and_the_page_computes_the_run(page: Page, app_server: str) -> None:
    figure = open_figure(page, app_server)
    page.route(
        re.compile(r"/api/live-figure\?"),
        lambda route: route.fulfill(status=503, json={"error": "The server is restarting."}),
    )
    before = figure.locator(".lf-data .lf-points").get_attribute("d")
    noise = figure_slider(figure, "Noise level")
    noise.focus()
    noise.press("ArrowRight")
    expect(figure.locator(".lf-note")).to_have_text(
        "This run could not be fetched (The server is restarting.); the page computes it when the slider comes to rest."
    )
    # the slider rests: the page computes the new data's run, and the figure plays it
    expect(page).to_have_url(re.compile(r"[?&]noise=0\.6(&|$)"))
    wait_idle(page)
    expect(figure.locator(".lf-data .lf-points")).not_to_have_attribute("d", before)
    expect(figure.locator(".lf-note")).to_be_hidden()


def test_the_figures_route_answers_a_bad_query_with_a_sentence(page: Page, app_server: str) -> None:
    answer = page.request.get(f"{app_server}/api/live-figure?noise=loud")
    assert answer.status == 400 and answer.json() == {
        "error": "Noise level: 'loud' is not a number; using the default 0.5."
    }
    assert page.request.get(f"{app_server}/api/live-figure?noise=0.3").json()["own"]["noise"] == 0.3


def test_a_tap_on_the_surface_starts_the_run_there(page: Page, app_server: str) -> None:
    figure = open_figure(page, app_server)
    area = figure.locator(".lf-surface .pn-frame").first
    box = area.bounding_box()
    before = query_of(page)
    area.click(position={"x": box["width"] * 0.8, "y": box["height"] * 0.2})
    expect(page).not_to_have_url(re.compile(rf"[?&]w0={re.escape(before['w0'])}&"))
    wait_idle(page)
    after = query_of(page)
    assert float(after["w0"]) > float(before["w0"]) and float(after["b0"]) > float(before["b0"]), after
    # the sidebar's start fields follow: their folded section opens by itself, the start being off its default
    start_w = page.get_by_test_id("stNumberInput").filter(has_text="Start w (w1)").locator("input")
    expect(start_w).to_have_value(after["w0"])
    expect(figure.locator(".lf-readout")).to_contain_text("Step")
    shot(page, "live_tapped_start")


@pytest.mark.parametrize("width, height", [(412, 915), (768, 1024)])
def test_on_a_phone_or_tablet_the_panels_stack_and_nothing_scrolls_sideways(
    page: Page, app_server: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    figure = open_figure(page, app_server)
    boxes = {name: figure.locator(f".lf-{name}").bounding_box() for name in ("data", "surface", "loss")}
    if width < 500:  # a phone: one panel a row, each the figure's full width
        assert abs(boxes["data"]["x"] - boxes["surface"]["x"]) < 2 and boxes["surface"]["y"] > boxes["data"]["y"]
        assert boxes["data"]["width"] > 0.9 * figure.bounding_box()["width"]
    assert min(b["width"] for b in boxes.values()) >= 300  # readable on a tablet side by side too
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    lr = figure_slider(figure, "Learning rate")
    lr.focus()
    lr.press("ArrowLeft")
    expect(figure.locator(".lf-summary")).to_contain_text("Learning rate 0.07")
    figure.scroll_into_view_if_needed()
    shot(page, f"live_{width}px")


def test_a_lesson_link_hides_and_locks_the_figures_sliders(page: Page, app_server: str) -> None:
    figure = open_figure(page, app_server, "?hide=lr&lock=momentum,epochs")
    expect(figure.locator(".lf-slider[data-key=lr]")).to_be_hidden()
    expect(figure_slider(figure, "Momentum")).to_be_disabled()
    expect(figure_slider(figure, "Epochs")).to_be_disabled()
    expect(figure_slider(figure, "Noise level")).to_be_enabled()
    figure = open_figure(page, app_server, "?hide=noise")
    expect(figure.locator(".lf-slider[data-key=noise]")).to_be_hidden()
    figure = open_figure(page, app_server, "?lock=noise")
    expect(figure_slider(figure, "Noise level")).to_be_disabled()
    shot(page, "live_lesson_link")
    # a locked slider cannot move: the mouse resting on it fetches nothing ahead, the figure's or the sidebar's
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/live-figure" in r.url else None)
    figure.locator(".lf-slider[data-key=noise]").hover()
    page.wait_for_timeout(500)
    expect(sidebar_slider(page, "noise")).to_be_disabled()
    page.locator("[data-testid=stSidebar] .st-key-ctl_noise [data-testid=stSlider]").hover()
    page.wait_for_timeout(500)
    assert asked == []


def test_diverging_plane_and_single_point_draw(page: Page, app_server: str) -> None:
    figure = open_figure(page, app_server, "?lr=2")
    expect(figure.locator(".lf-summary")).to_contain_text("diverges at step")
    expect(figure.locator(".lf-readout")).to_contain_text("blown up here", timeout=20_000)
    expect(figure.locator(".lf-play")).to_have_text("↺ Replay")
    shot(page, "live_diverging")
    figure = open_figure(page, app_server, "?dataset=single-point&lr=0.05&momentum=0")
    expect(figure.locator(".lf-surface .pn-title")).to_contain_text("Loss curve")
    expect(figure.locator(".lf-readout")).to_contain_text("Step 60 of 60", timeout=20_000)
    shot(page, "live_single_point")
    figure = open_figure(page, app_server, "?dataset=plane&momentum=0.5")
    expect(figure.locator(".lf-data .gl-container #scene canvas")).to_have_count(1)
    shot(page, "live_plane")


def test_on_a_touch_screen_a_tap_sets_the_start_and_the_sliders_move(browser, app_server: str) -> None:
    """A phone: touch events only (has_touch, is_mobile), 412 px wide."""
    context = browser.new_context(viewport={"width": 412, "height": 915}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        with guarded_page(page, {"width": 412, "height": 915}):
            figure = open_figure(page, app_server)
            before = query_of(page)
            area = figure.locator(".lf-surface .pn-frame").first
            area.scroll_into_view_if_needed()
            box = area.bounding_box()
            area.tap(position={"x": box["width"] * 0.75, "y": box["height"] * 0.25})
            expect(page).not_to_have_url(re.compile(rf"[?&]w0={re.escape(before['w0'])}&"))
            wait_idle(page)
            assert float(query_of(page)["w0"]) > float(before["w0"])
            lr = figure_slider(figure, "Learning rate")
            lr.scroll_into_view_if_needed()
            lr_box = lr.bounding_box()
            lr.tap(position={"x": lr_box["width"] * 0.95, "y": lr_box["height"] / 2})  # near the top of the ladder
            expect(figure.locator(".lf-summary")).not_to_contain_text("Learning rate 0.1:")
            shot(page, "live_touch")
    finally:
        context.close()
