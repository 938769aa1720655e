"""Check the load tool against a real browser: same messages, same latency, on the same server.

    python bench/calibrate_browser.py            # 8 learning-rate moves in Chromium, 8 by the load tool
    python bench/calibrate_browser.py --n 12

Starts the playground (`streamlit run app.py`, free port) and opens it in Chromium, recording every websocket frame
through the DevTools protocol (Network.webSocketFrameSent/Received, with the browser's own timestamps). Then,
alternating, Chromium presses ArrowRight on the learning-rate slider and one load-tool session (bench/loadtool/)
sends the same move, each on data of its own (another seed), so every run is new to the server. It prints:
- the handshake: the Sec-WebSocket-Protocol and extensions Chromium sent, and what the tool sends;
- Chromium's first and second BackMsg (query string, page hash, cached message hashes, context, every widget
  state with its value field) next to the tool's;
- latency, new value sent -> script_finished, for both (Chromium's from its frame timestamps), and bytes received.
The server is stopped at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from bench.loadtool.classroom import warm_up  # noqa: E402
from bench.loadtool.messages import parse_forward, select_slider_state  # noqa: E402
from bench.loadtool.report import percentile, summarize  # noqa: E402
from bench.loadtool.resources import proc_cpu_seconds  # noqa: E402
from bench.loadtool.servers import StreamlitServer, free_port  # noqa: E402
from bench.loadtool.session import Session  # noqa: E402
from tests.e2e.helpers import APP_IDLE, CHROMIUM_ARGS, chromium_executable  # noqa: E402

START_LR = "0.001"  # the moves up (ArrowRight) stay stable: every run trains all its steps
# the playground's live figure (components/live_figure.js) has drawn its loss surface
LIVE_FIGURE_DRAWN = '[data-testid="stBidiComponentRegular"] .lf-surface .pn-svg'


class FrameLog:
    """Websocket frames seen by Chromium's network stack, decoded, with the browser's timestamps (s)."""

    def __init__(self):
        self.sent: list[tuple[float, BackMsg]] = []
        self.received: list[tuple[float, ForwardMsg, int]] = []
        self.handshake_request: dict = {}
        self.handshake_response: dict = {}

    def attach(self, cdp) -> None:
        cdp.on("Network.webSocketFrameSent", self._sent)
        cdp.on("Network.webSocketFrameReceived", self._received)
        cdp.on("Network.webSocketWillSendHandshakeRequest", lambda e: self.handshake_request.update(e["request"]))
        cdp.on("Network.webSocketHandshakeResponseReceived", lambda e: self.handshake_response.update(e["response"]))

    @staticmethod
    def _payload(event) -> bytes:
        frame = event["response"]
        data = frame["payloadData"]
        return data.encode() if frame["opcode"] == 1 else base64.b64decode(data)

    def _sent(self, event) -> None:
        msg = BackMsg()
        msg.ParseFromString(self._payload(event))
        self.sent.append((event["timestamp"], msg))

    def _received(self, event) -> None:
        raw = self._payload(event)
        self.received.append((event["timestamp"], parse_forward(raw), len(raw)))

    def reruns(self) -> list[tuple[float, BackMsg]]:
        return [(t, m) for t, m in self.sent if m.WhichOneof("type") == "rerun_script"]

    def latency_after(self, t_sent: float) -> tuple[float, int] | None:
        """Seconds from a rerun sent at t_sent to the next script_finished, and the bytes received meanwhile."""
        size = 0
        for t, msg, n in self.received:
            if t < t_sent:
                continue
            size += n
            if msg.WhichOneof("type") == "script_finished":
                return t - t_sent, size
        return None


def describe_rerun(msg: BackMsg) -> list[str]:
    state = msg.rerun_script
    lines = [
        f"query_string: {state.query_string[:100]}{'...' if len(state.query_string) > 100 else ''}",
        f"page_script_hash: {state.page_script_hash or '(empty)'}; page_name: {state.page_name or '(empty)'}; "
        f"fragment_id: {state.fragment_id or '(none: the whole page)'}",
        f"cached_message_hashes: {len(state.cached_message_hashes)}; "
        f"context_info: {' '.join(str(state.context_info).split()) or '(none)'}",
        f"widget states: {len(state.widget_states.widgets)}",
    ]
    for w in state.widget_states.widgets:
        kind = w.WhichOneof("value")
        value = getattr(w, kind)
        shown = list(value.data) if hasattr(value, "data") else value
        lines.append(f"  {w.id.split('-')[-1]:<14} {kind:<20} {shown}")
    return lines


def browser_cpu_seconds() -> float:
    """CPU seconds used so far by the Chromium processes this script started (its descendants named chrom*)."""
    parent, comm = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
        comm[pid] = text[text.index("(") + 1 : text.rindex(")")]
        parent[pid] = int(text[text.rindex(")") + 2 :].split()[1])
    ours, total = {os.getpid()}, 0.0
    for _ in range(10):  # depth-bounded walk down the process tree
        ours |= {pid for pid, ppid in parent.items() if ppid in ours}
    for pid in ours:
        if comm.get(pid, "").startswith("chrom"):
            total += proc_cpu_seconds(pid)
    return total


class ToolThread:
    """The load tool's session on an asyncio loop of its own (Playwright's sync API owns the main thread)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sent: list[bytes] = []

    def call(self, coro, timeout: float = 120.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=8, help="learning-rate moves for each of browser and tool (8)")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between moves (2)")
    parser.add_argument("--record", type=Path, help="save Chromium's first run and its first move here (test data)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    with tempfile.TemporaryDirectory(prefix="calibrate_") as tmp:
        server = StreamlitServer(REPO_ROOT / "app.py", free_port(), Path(tmp) / "server.log")
        tool = ToolThread()
        try:
            server.start()
            server.wait_healthy(timeout=180)
            asyncio.run(warm_up([server.url], "playground", 120))
            run(args, server, tool)
        finally:
            tool.stop()
            server.stop()


def run(args, server: StreamlitServer, tool: ToolThread) -> None:
    frames = FrameLog()
    session = Session(server.url)
    original_send = None
    tool_latency: list[float] = []
    tool_bytes: list[int] = []
    cpu = {"server, browser move": [], "server, tool move": [], "Chromium, browser move": []}
    with sync_playwright() as pw:
        executable = chromium_executable()
        launch = {"args": CHROMIUM_ARGS, **({"executable_path": executable} if executable else {})}
        browser = pw.chromium.launch(**launch)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            frames.attach(cdp)
            page.goto(f"{server.url}/?lr={START_LR}&seed=101")
            page.locator(LIVE_FIGURE_DRAWN).first.wait_for(timeout=120_000)
            page.locator(APP_IDLE).wait_for(state="attached", timeout=120_000)
            thumb = (
                page.get_by_test_id("stSlider")
                .filter(has=page.get_by_test_id("stWidgetLabel").get_by_text("Learning rate", exact=True))
                .get_by_role("slider")
            )

            tool.call(session.open())
            original_send = session.ws.send

            async def recording_send(data, *a, **k):
                tool.sent.append(data)
                return await original_send(data, *a, **k)

            session.ws.send = recording_send
            first = tool.call(session.run(query_string=f"lr={START_LR}&seed=202"))
            lr_id, lr_el = first.widget("Learning rate")
            options = list(lr_el.slider.options)
            lr_index = options.index(START_LR)
            for k in range(args.n):
                page.wait_for_timeout(args.pause * 1000)
                server0, browser0 = proc_cpu_seconds(server.pid), browser_cpu_seconds()
                thumb.press("ArrowRight")
                page.wait_for_timeout(300)
                page.locator(APP_IDLE).wait_for(state="attached", timeout=120_000)
                page.wait_for_timeout(args.pause * 1000)  # Chromium may still be drawing the new figure
                cpu["server, browser move"].append(proc_cpu_seconds(server.pid) - server0)
                cpu["Chromium, browser move"].append(browser_cpu_seconds() - browser0)
                lr_index += 1
                server0 = proc_cpu_seconds(server.pid)
                result = tool.call(session.run([select_slider_state(lr_id, options[lr_index])]))
                cpu["server, tool move"].append(proc_cpu_seconds(server.pid) - server0)
                if not result.ok or not result.has_text(f"Learning rate {options[lr_index - 1]} → {options[lr_index]}"):
                    raise RuntimeError(f"the tool's move {k + 1} did not take effect: {result.exceptions}")
                tool_latency.append(result.t_finished)
                tool_bytes.append(result.bytes_received)
            page.wait_for_timeout(1000)
            version = browser.version
        finally:
            tool.call(session.close())
            browser.close()
    report(frames, tool, tool_latency, tool_bytes, version, args)
    print("\nCPU seconds per move (mean; /proc): " + ", ".join(f"{k} {sum(v) / len(v):.3f}" for k, v in cpu.items()))
    if args.record:
        record(frames, args.record)


def record(frames: FrameLog, folder: Path) -> None:
    """Chromium's first run (every frame it received, figures and the live figure's data emptied) and the rerun it
    sent for its first move, one base64 protobuf per line: the data of tests/load's check that the tool builds the
    same message."""
    reruns = frames.reruns()
    first_sent, second_sent = reruns[0][0], reruns[1][0]
    lines = []
    for t, msg, _ in frames.received:
        if first_sent <= t < second_sent:
            element = msg.delta.new_element if msg.WhichOneof("type") == "delta" else None
            kind = element.WhichOneof("type") if element is not None else None
            if kind == "plotly_chart":
                element.plotly_chart.spec = "{}"  # the hash (what the cache keys on) stays
            elif kind == "bidi_component" and element.bidi_component.WhichOneof("data") == "json":
                element.bidi_component.json = "{}"  # the live figure's payload; the hash stays too
            lines.append(base64.b64encode(msg.SerializeToString()).decode())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chromium_first_run.b64").write_text("\n".join(lines) + "\n")
    (folder / "chromium_rerun.b64").write_text(base64.b64encode(reruns[1][1].SerializeToString()).decode() + "\n")
    print(f"recorded {len(lines)} frames and one rerun into {folder}")


def report(frames: FrameLog, tool: ToolThread, tool_latency, tool_bytes, version: str, args) -> None:
    reruns = frames.reruns()
    browser_moves = [frames.latency_after(t) for t, _ in reruns[1:]]
    browser_moves = [m for m in browser_moves if m is not None]
    tool_msgs = []
    for data in tool.sent:
        msg = BackMsg()
        msg.ParseFromString(data)
        tool_msgs.append(msg)

    print(f"\nChromium {version}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("\nHandshake")
    req = {k.lower(): v for k, v in frames.handshake_request.get("headers", {}).items()}
    res = {k.lower(): v for k, v in frames.handshake_response.get("headers", {}).items()}
    print(f"  Chromium Sec-WebSocket-Protocol: {req.get('sec-websocket-protocol')}")
    print(f"  Chromium Sec-WebSocket-Extensions: {req.get('sec-websocket-extensions')}")
    print(f"  server answered: protocol {res.get('sec-websocket-protocol')}")
    print(f"  server answered: extensions {res.get('sec-websocket-extensions')} (None: no compression)")
    cookie_names = [c.split("=")[0] for c in req.get("cookie", "").split("; ")]
    print(f"  Chromium Origin: {req.get('origin')}; Cookie names: {cookie_names}")
    print("  tool: Sec-WebSocket-Protocol 'streamlit, <_streamlit_xsrf cookie>', Origin and Cookie the same way,")
    print("        permessage-deflate offered (the websockets library's default)")
    for title, msgs in (("Chromium", [m for _, m in reruns]), ("load tool", tool_msgs)):
        for i, msg in enumerate(msgs[:2]):
            print(f"\n{title}: rerun {i + 1}")
            for line in describe_rerun(msg):
                print(f"  {line}")
    print("\nLatency of a learning-rate move (new value sent -> script_finished), ms")
    b_lat = [m[0] * 1000 for m in browser_moves]
    t_lat = [t * 1000 for t in tool_latency]
    for name, lat, size in (
        ("Chromium (frame timestamps)", b_lat, [m[1] for m in browser_moves]),
        ("load tool", t_lat, tool_bytes),
    ):
        s = summarize(lat)
        mean_kb = sum(size) / len(size) / 1000 if size else float("nan")
        print(f"  {name:<28} n={s['n']:<3} p50 {s['p50']:6.0f}  max {s['max']:6.0f}  kB/move {mean_kb:6.1f}")
    if b_lat and t_lat:
        print(f"  tool p50 / Chromium p50 = {percentile(t_lat, 50) / percentile(b_lat, 50):.2f}")


if __name__ == "__main__":
    main()
