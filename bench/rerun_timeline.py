"""Where a sidebar move's time goes: the server's messages and the browser's, on one clock, for one key press.

    python bench/rerun_timeline.py                      # the playground's "Noise level", cached (the 2nd press)
    python bench/rerun_timeline.py --label "Learning rate" --key ArrowLeft
    python bench/rerun_timeline.py --new                # a value the server has not computed yet
    python bench/rerun_timeline.py --new --rested       # the same, pressed after resting on the slider

Starts the app with Streamlit's AppSession patched to log, for every message it queues for the browser, the time
and what it is (a delta's element type), and the time each rerun request arrives, and with the figures' route
(components/live_route.py) logging when a request arrived, when the route was asked and answered, and when each part
of its answer left (in bytes, after gzip). In Chromium it presses the sidebar
slider's key (the first press only warms the cache unless --new; with --rested the slider has the focus 1.5 s
first, so the figure fetched its neighbours ahead), and records in the page the keydown (its own timeStamp), the time
each WebSocket message reached the page's main thread, the main thread's long tasks (over 50 ms) and each request to
the route (sent, first byte, last byte, from Resource Timing). It prints these against the keydown, and when the live
figure drew the result (its data panel's points or its surface's path changed). A message the server queued long
before the browser's main thread took it means the browser was busy with the messages before it. The server's and
the browser's clocks may differ by a few ms. The server is stopped at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

PAGE_JS = """
window.__msgs = [];
const Native = window.WebSocket;
window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (e) => {
        window.__msgs.push([performance.now(), e.data.size || e.data.byteLength || 0]);
    });
    return ws;
};
window.WebSocket.prototype = Native.prototype;
Object.assign(window.WebSocket, Native);
window.__long = [];
new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__long.push([e.startTime, e.duration]);
}).observe({type: 'longtask', buffered: true});
"""
ARM_JS = """(figure) => {
    window.__msgs.length = 0; window.__key = null; window.__drawn = null;
    const drawn = () => {  // the data panel's points and the surface's whole path (a learning-rate move: the path)
        const d = document.querySelector(figure + ' .lf-data .lf-points');
        const path = document.querySelector(figure + ' .lf-surface .lf-overlay polyline');
        return (d ? d.getAttribute('d') : '') + '|' + (path ? path.getAttribute('points') : '');
    };
    const before = drawn();
    document.addEventListener('keydown', (e) => { window.__key = e.timeStamp; }, {once: true, capture: true});
    const poll = () => { if (window.__key !== null && drawn() !== before) window.__drawn = performance.now();
                         else requestAnimationFrame(poll); };
    requestAnimationFrame(poll);
}"""
PAUSE_JS = "() => { const b = document.querySelector('.lf-play'); if (b && /Pause/.test(b.textContent)) b.click(); }"
SEEN_JS = """() => ({origin: performance.timeOrigin, key: window.__key, drawn: window.__drawn, msgs: window.__msgs,
    long: window.__long, routes: performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/'))
        .map((e) => [e.startTime, e.responseStart, e.responseEnd, e.name.split('?')[0]])})"""


def serve(log: str, argv: list[str]) -> None:
    """The server side: Streamlit's CLI with AppSession logging what it queues (wall clock, ms)."""
    from streamlit.runtime import app_session
    from streamlit.web import cli

    out = open(log, "a", buffering=1)  # noqa: SIM115 (open for the life of the server)
    enqueue, handle = app_session.AppSession._enqueue_forward_msg, app_session.AppSession.handle_backmsg

    def logged_enqueue(self, msg):
        kind = msg.WhichOneof("type")
        if kind == "delta":
            d = msg.delta
            kind = d.WhichOneof("type")
            if kind == "new_element":
                kind = d.new_element.WhichOneof("type")
        out.write(f"{time.time() * 1000:.1f}\tqueued {kind} ({msg.ByteSize()} B)\n")
        return enqueue(self, msg)

    def logged_handle(self, msg):
        out.write(f"{time.time() * 1000:.1f}\tgot {msg.WhichOneof('type')}\n")
        return handle(self, msg)

    app_session.AppSession._enqueue_forward_msg = logged_enqueue
    from components import live_route

    answer = live_route.answer

    def logged_answer(query, sent_token, payload=live_route.live_figure):
        out.write(f"{time.time() * 1000:.1f}\troute {payload.__name__} asked\n")
        try:
            return answer(query, sent_token, payload)
        finally:
            out.write(f"{time.time() * 1000:.1f}\troute {payload.__name__} answered\n")

    live_route.answer = logged_answer
    from server import route_first

    call = route_first.RouteFirst.__call__

    async def logged_call(self, scope, receive, send):  # a route request as it arrives, and its answer as it leaves
        if scope["type"] != "http" or not scope["path"].endswith(self.paths):
            return await call(self, scope, receive, send)
        name = scope["path"].rsplit("/", 1)[-1]
        out.write(f"{time.time() * 1000:.1f}\troute {name} request arrived\n")

        async def logged_send(message):
            if message["type"] == "http.response.body":
                last = "last" if not message.get("more_body") else "a"
                out.write(f"{time.time() * 1000:.1f}\troute {name} sent its {last} part ({len(message['body'])} B)\n")
            return await send(message)

        return await call(self, scope, receive, logged_send)

    route_first.RouteFirst.__call__ = logged_call
    app_session.AppSession.handle_backmsg = logged_handle
    sys.argv = ["streamlit", *argv]
    cli.main()


def main() -> None:
    from bench.loadtool.app_page import app_page
    from tests.e2e.helpers import APP_IDLE, FIGURE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="Noise level", help="the sidebar slider's label (default: Noise level)")
    parser.add_argument("--key", default="ArrowRight", help="the key pressed (default ArrowRight)")
    parser.add_argument("--new", action="store_true", help="time the first press (a value not computed yet)")
    parser.add_argument(
        "--rested", action="store_true", help="the slider has the focus 1.5 s before the press (its neighbours fetched)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rerun_timeline_"))
    log = work / "queued.log"
    launcher = [sys.executable, __file__, "--serve", str(log), "run", str(REPO_ROOT / "app.py")]
    with app_page(REPO_ROOT / "app.py", work / "server.log", launcher) as (server, _, page):
        page.add_init_script(PAGE_JS)
        page.goto(server.url)
        page.locator(f"{FIGURE} .lf-surface .pn-svg").first.wait_for(timeout=120_000)
        page.locator(APP_IDLE).wait_for(state="attached")
        thumb = page.get_by_test_id("stSidebar").get_by_test_id("stSlider").filter(has_text=args.label)
        thumb = thumb.get_by_role("slider")
        back = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}[args.key]
        if not args.new:  # the value computed once, then back: the timed press finds it cached
            for key in (args.key, back):
                thumb.press(key)
                page.wait_for_timeout(1500)
                page.locator(APP_IDLE).wait_for(state="attached")
        if args.rested:
            thumb.focus()
        page.wait_for_timeout(1500)
        page.evaluate(PAUSE_JS)
        page.wait_for_timeout(400)
        page.evaluate(ARM_JS, FIGURE)
        thumb.press(args.key)
        page.wait_for_function("() => window.__drawn !== null", timeout=60_000)
        page.wait_for_timeout(1000)
        seen = page.evaluate(SEEN_JS)
    key_wall = seen["origin"] + seen["key"]
    print(f"{args.label}, {args.key}, {'a new value' if args.new else 'cached'}: ms after the keydown")
    print("server (queued for the browser):")
    for line in log.read_text().splitlines():
        at, what = line.split("\t")
        if 0 <= float(at) - key_wall < 5000:
            print(f"  {float(at) - key_wall:7.1f}  {what}")
    print("browser (a message reached the page's main thread):")
    for at, size in seen["msgs"]:
        print(f"  {at - seen['key']:7.1f}  {size} B")
    print("browser (the main thread's long tasks, start and length):")
    for at, length in seen["long"]:
        if at >= seen["key"] - 50:
            print(f"  {at - seen['key']:7.1f}  {length:.0f} ms")
    print("browser (a route's request: sent, first byte, last byte):")
    for sent, first, last, name in seen["routes"]:
        if sent >= seen["key"] - 50:
            print(f"  {sent - seen['key']:7.1f}  {first - seen['key']:7.1f}  {last - seen['key']:7.1f}  {name}")
    print(f"the figure drew the result at {seen['drawn'] - seen['key']:.1f} ms")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3:])
    else:
        main()
