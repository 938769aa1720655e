"""server/route_first.py: a browser's WebSocket messages (its page's rerun) wait for the route answer its figure asked
for now, then for the browser to draw it; nobody else's wait, nor for a run fetched ahead, nor for longer than
HOLD_S. Driven through ASGI with a fake route and a fake Streamlit WebSocket, on one event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from server import route_first
from server.route_first import NOW_HEADER, XSRF_COOKIE, RouteFirst

ROUTE = "api/live-figure"


def headers(browser: str | None, now: bool) -> list[tuple[bytes, bytes]]:
    cookie = f'theme="light; {XSRF_COOKIE}={browser}'  # a stray quote before it, as a hostile page might set
    h = [(b"cookie", cookie.encode())] if browser is not None else []
    return h + ([(NOW_HEADER.encode(), b"1")] if now else [])


def times(route_s: float, *, route_browser="a", socket_browser="a", now=True, fails=False, path=f"/{ROUTE}"):
    """When (loop seconds) the route's answer was sent and the WebSocket's message reached Streamlit, for a route
    request taking route_s, followed 5 ms later by a message from the browser's WebSocket."""

    async def scenario() -> dict[str, float]:
        loop = asyncio.get_running_loop()
        seen: dict[str, float] = {}

        async def streamlit(scope, receive, send):
            if scope["type"] == "http":  # the route
                await asyncio.sleep(route_s)
                if fails:
                    seen["failed"] = loop.time()
                    raise RuntimeError("the route failed")
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"{}"})
                seen["answered"] = loop.time()
            else:  # Streamlit's WebSocket: a rerun request
                await receive()
                seen["message"] = loop.time()

        async def nothing():
            return {"type": "http.request", "body": b""}

        async def rerun():
            return {"type": "websocket.receive", "bytes": b"rerun_script"}

        async def ignore(message):
            pass

        middleware = RouteFirst(streamlit, paths=(ROUTE, "api/fit-player"))
        route = asyncio.create_task(
            middleware({"type": "http", "path": path, "headers": headers(route_browser, now)}, nothing, ignore)
        )
        await asyncio.sleep(0.005)
        socket = {"type": "websocket", "path": "/_stcore/stream", "headers": headers(socket_browser, False)}
        await middleware(socket, rerun, ignore)
        try:
            await route
        except RuntimeError:
            pass
        return seen

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop of its own (the e2e tests leave one running here)
        return pool.submit(asyncio.run, scenario()).result(timeout=60)


@pytest.fixture(autouse=True)
def _short_waits(monkeypatch):
    monkeypatch.setattr(route_first, "DRAW_S", 0.03)


def test_the_browsers_rerun_waits_for_its_figures_answer_and_the_draw():
    seen = times(0.05)
    assert seen["message"] >= seen["answered"] + route_first.DRAW_S  # call_later never fires early


def test_the_fit_players_route_holds_it_too():
    seen = times(0.05, path="/class-7b/api/fit-player")
    assert seen["message"] >= seen["answered"] + route_first.DRAW_S


@pytest.mark.parametrize(
    "kind",
    [
        {"socket_browser": "b"},  # another browser (another student)
        {"now": False},  # a run fetched ahead: nothing waits for it
        {"route_browser": None, "socket_browser": None},  # no XSRF cookie: no way to tell browsers apart
        {"route_browser": "", "socket_browser": ""},  # an empty one
    ],
    ids=["another browser", "fetched ahead", "no cookie", "an empty cookie"],
)
def test_nothing_else_waits(kind):
    seen = times(0.2, **kind)
    assert seen["message"] < seen["answered"]


def test_a_slow_run_is_not_awaited_beyond_hold_s(monkeypatch):
    monkeypatch.setattr(route_first, "HOLD_S", 0.05)
    seen = times(1.0)
    assert seen["message"] < seen["answered"]


def test_a_route_that_fails_lets_the_rerun_go_at_once(monkeypatch):
    monkeypatch.setattr(route_first, "DRAW_S", 0.5)  # nothing to draw: not waited for
    monkeypatch.setattr(route_first, "HOLD_S", 1.0)
    seen = times(0.05, fails=True)
    assert "answered" not in seen
    assert seen["failed"] <= seen["message"] < seen["failed"] + route_first.DRAW_S / 2
