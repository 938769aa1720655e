"""One browser tab talking to a Streamlit server: the HTTP handshake, the websocket, one rerun and its result.

`Session.open` gets the cookies from GET /_stcore/health (a minimal HTTP/1.1 client over asyncio streams, below)
and opens the websocket with the browser's subprotocol header; `Session.run` sends a rerun and folds every frame up
to `script_finished` into a RunResult (messages.py), remembering what the browser would: the widgets drawn, the
query string, the page, the message cache.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import websockets
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.loadtool.messages import (
    MessageCache,
    RunResult,
    absorb,
    build_rerun,
    parse_forward,
    widget_forced,
    widget_state_of,
)

HEALTH_PATH = "/_stcore/health"
STREAM_PATH = "/_stcore/stream"
XSRF_COOKIE = "_streamlit_xsrf"
XSRF_PLACEHOLDER = "undefined"  # what the browser sends when it has no cookie (XSRF protection off)


# ---------------------------------------------------------------------------------------------------- HTTP


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def cookies(self) -> dict[str, str]:
        """name -> value of every Set-Cookie header."""
        out = {}
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                cookie = parse_set_cookie(value)
                if cookie:
                    out[cookie[0]] = cookie[1]
        return out


def parse_set_cookie(header: str) -> tuple[str, str] | None:
    """(name, value) of one Set-Cookie header value, attributes dropped; None if it has no name=value."""
    first = header.split(";", 1)[0].strip()
    if "=" not in first:
        return None
    name, value = first.split("=", 1)
    name, value = name.strip(), value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return (name, value) if name else None


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def run_coroutine(coro):
    """asyncio.run, also from a thread whose event loop is already running (pytest-playwright's sync API leaves one
    running in the main thread): then the coroutine runs in a fresh thread with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def http_get(url: str, cookies: dict[str, str] | None = None, timeout: float = 30.0) -> HttpResponse:
    """A minimal HTTP/1.1 GET (Connection: close) over asyncio streams: status, headers, body."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"only http:// URLs are supported, not {url!r}")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close", "User-Agent: playground-load-test"]
    if cookies:
        lines.append(f"Cookie: {cookie_header(cookies)}")

    async def fetch() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
            return await reader.read(-1)  # to EOF: the server closes (Connection: close)
        finally:
            writer.close()

    raw = await asyncio.wait_for(fetch(), timeout)
    head, _, body = raw.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    status_parts = head_lines[0].split(" ", 2)
    if len(status_parts) < 2 or not status_parts[1].isdigit():
        raise ConnectionError(f"GET {url}: not an HTTP response: {head_lines[0]!r}")
    headers = []
    for line in head_lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    if any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in headers):
        body = _dechunk(body)
    return HttpResponse(int(status_parts[1]), headers, body)


def _dechunk(body: bytes) -> bytes:
    out, rest = b"", body
    for _ in range(100_000):  # bounded: a body has far fewer chunks
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


# ---------------------------------------------------------------------------------------------------- a session


class Session:
    """One browser tab's conversation with the server over one websocket."""

    def __init__(self, base_url: str, page_path: str = "/"):
        self.base_url = base_url.rstrip("/")
        self.page_url = self.base_url + page_path
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.widgets: dict[str, WidgetState] = {}  # id -> the value this client holds for each drawn widget
        self.query_string = ""
        self.page_script_hash = ""
        self.cache = MessageCache()
        self.session_id: str | None = None
        self.shown: dict[str, tuple[str, Element]] = {}  # label -> (id, element) of every widget on the page
        self.fragments: dict[str, str] = {}  # widget id -> its fragment's id, for widgets drawn in one
        self.fragment_id = ""  # the fragment the next rerun runs alone, if any

    async def open(self, timeout: float = 30.0, previous_session_id: str | None = None) -> None:
        """GET /_stcore/health for the cookies, then open the websocket with the browser's subprotocol header."""
        response = await http_get(self.base_url + HEALTH_PATH, self.cookies, timeout)
        if response.status != 200 or response.body.strip() != b"ok":
            raise ConnectionError(f"{HEALTH_PATH} answered {response.status} {response.body[:80]!r}")
        self.cookies.update(response.cookies())
        protocols = ["streamlit", self.cookies.get(XSRF_COOKIE, XSRF_PLACEHOLDER)]
        if previous_session_id:
            protocols.append(previous_session_id)
        parts = urlsplit(self.base_url)
        headers = {"Origin": f"{parts.scheme}://{parts.netloc}"}
        if self.cookies:
            headers["Cookie"] = cookie_header(self.cookies)
        self.ws = await websockets.connect(
            f"ws://{parts.netloc}{STREAM_PATH}",
            subprotocols=protocols,
            additional_headers=headers,
            max_size=None,  # a figure can be megabytes
            ping_interval=None,  # a browser sends no websocket pings; the server pings and we answer
            open_timeout=timeout,
            close_timeout=5,
        )

    def begin(self, changes: Iterable[WidgetState] = (), query_string: str | None = None) -> bytes:
        """The next rerun message: every widget this client holds, with these values changed."""
        if query_string is not None:
            self.query_string = query_string
        changes = list(changes)
        for state in changes:
            self.widgets[state.id] = state
        # As the browser does: a move of widgets that all sit in one fragment reruns that fragment alone.
        moved_in = {self.fragments.get(state.id, "") for state in changes}
        self.fragment_id = moved_in.pop() if len(moved_in) == 1 else ""
        return build_rerun(
            self.query_string,
            self.widgets.values(),
            self.page_script_hash,
            self.cache.hashes(),
            self.page_url,
            self.fragment_id,
        )

    def receive(self, result: RunResult, raw: bytes | str, elapsed: float = 0.0) -> None:
        """Fold one frame from the server into the run's result (ref_hash messages resolved from the cache)."""
        if isinstance(raw, str):
            raise ConnectionError("the server sent a text frame; Streamlit sends binary protobufs")
        result.bytes_received += len(raw)
        result.messages += 1
        msg = parse_forward(raw)
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            resolved = self.cache.resolve(msg)
            if resolved is None:
                result.errors.append(f"ref_hash {msg.ref_hash} is not in this client's cache")
                return
            result.ref_hits += 1
            msg, kind = resolved, resolved.WhichOneof("type")
        else:
            self.cache.add(msg)
        if kind == "session_status_changed" and msg.session_status_changed.script_is_running:
            result.t_running = result.t_running or elapsed
        elif kind == "new_session":
            if msg.new_session.HasField("initialize"):
                self.session_id = msg.new_session.initialize.session_id or self.session_id
        elif kind == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            # (a run that asked for a rerun, e.g. a fragment that needs the whole page, goes on: wait for its end)
            result.status = msg.script_finished
            result.t_finished = elapsed
        absorb(result, msg)

    def finish(self, result: RunResult) -> None:
        """After script_finished: age the message cache, keep the widgets drawn, the query string and page."""
        self.cache.finished_run()
        self._remember(result)

    async def run(
        self, changes: Iterable[WidgetState] = (), query_string: str | None = None, timeout: float = 60.0
    ) -> RunResult:
        """Send a rerun with these widget values changed; collect everything up to script_finished."""
        if self.ws is None:
            raise RuntimeError("open() the session first")
        data = self.begin(changes, query_string)
        result = RunResult()
        t0 = result.sent_at = time.perf_counter()
        await self.ws.send(data)
        deadline = t0 + timeout
        while result.status is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no script_finished within {timeout:g} s")
            raw = await asyncio.wait_for(self.ws.recv(), left)
            self.receive(result, raw, time.perf_counter() - t0)
        self.finish(result)
        return result

    def _remember(self, result: RunResult) -> None:
        """Keep the widgets this run drew (the browser unmounts the others, except after a fragment's run, which
        leaves the rest of the page as it was), the query string and the page."""
        if result.query_string is not None:
            self.query_string = result.query_string
        if result.page_script_hash:
            self.page_script_hash = result.page_script_hash
        whole_page = result.status != ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
        if not whole_page:  # what the page shows now: the fragment's widgets, and every other one as it was
            result.widgets = self.shown | result.widgets
            result.fragments = self.fragments | result.fragments
        self.shown, self.fragments = dict(result.widgets), dict(result.fragments)
        kept = {} if whole_page else dict(self.widgets)
        for widget_id, element in result.widgets.values():
            held = self.widgets.get(widget_id)
            fresh = widget_state_of(element)
            if held is not None and not widget_forced(element):
                kept[widget_id] = held
            elif fresh is not None:
                kept[widget_id] = fresh
        # a click counts for one run only, as in the browser
        self.widgets = {k: v for k, v in kept.items() if v.WhichOneof("value") != "trigger_value"}

    async def close(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            try:
                await asyncio.wait_for(ws.close(), 10)
            except (TimeoutError, websockets.WebSocketException, OSError):
                pass
