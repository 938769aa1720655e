"""A browser's figure draws its run before its page reruns: an ASGI middleware (st.App's `middleware`).

A sidebar move on new data starts two things in the browser at once: the figure fetches the new run from its route
(components/live_route.py), and Streamlit's slider sends the page's rerun request over the WebSocket. The rerun's
first messages keep the browser's main thread busy for 100-300 ms (docs/performance.md), and the route's answer waited
behind them. So while a route answer that a figure asked for now (not ahead) is on its way to a browser, the messages
that browser sends over Streamlit's WebSocket wait, at most HOLD_S: the figure is drawn first, then the page reruns
and catches up. A browser is known by Streamlit's XSRF cookie, which its route requests and its WebSocket both carry
(all tabs of one browser share it); without that cookie nothing waits.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import cookie_parser

XSRF_COOKIE = "_streamlit_xsrf"  # Streamlit 1.67's (server/compat.py); another name: nothing waits
HOLD_S = 0.15  # the longest a browser's WebSocket message waits for its route answer (a long run is not awaited)
DRAW_S = 0.04  # after the answer left: the browser's time to read and draw it
NOW_HEADER = "x-playground-now"  # a figure's request for the run it draws now (not one fetched ahead)


def _browser(scope) -> str | None:
    """The browser a request or WebSocket comes from: its XSRF cookie's value, or None."""
    cookies = "; ".join(value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"cookie")
    return cookie_parser(cookies).get(XSRF_COOKIE) or None  # leniently, as Starlette reads Streamlit's own


class RouteFirst:
    """ASGI middleware: `paths` are the routes whose answers a browser's WebSocket messages wait for."""

    def __init__(self, app, paths: tuple[str, ...] = ()):
        self.app = app
        self.paths = paths
        self.answering: dict[str, list[asyncio.Event]] = {}  # browser -> its answers on their way (the event loop's)

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http" and scope["path"].endswith(self.paths) and self._now(scope):
            browser = _browser(scope)
            if browser:
                return await self._answer(browser, scope, receive, send)
        elif kind == "websocket":
            browser = _browser(scope)
            if browser:
                return await self.app(scope, self._waiting(browser, receive), send)
        return await self.app(scope, receive, send)

    @staticmethod
    def _now(scope) -> bool:
        return any(name == NOW_HEADER.encode() for name, _ in scope.get("headers", ()))

    async def _answer(self, browser: str, scope, receive, send):
        done = asyncio.Event()
        self.answering.setdefault(browser, []).append(done)

        def release():
            done.set()
            waits = self.answering.get(browser, [])
            if done in waits:
                waits.remove(done)
            if not waits:
                self.answering.pop(browser, None)

        try:
            await self.app(scope, receive, send)
        except BaseException:
            release()
            raise
        asyncio.get_running_loop().call_later(DRAW_S, release)  # the browser reads and draws it meanwhile

    def _waiting(self, browser: str, receive):
        async def receive_after_answers():
            message = await receive()
            if message["type"] == "websocket.receive":
                deadline = time.monotonic() + HOLD_S
                for done in list(self.answering.get(browser, ())):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        await asyncio.wait_for(done.wait(), left)
                    except TimeoutError:
                        break
            return message

        return receive_after_answers
