"""Protocol-level load testing of a Streamlit app: simulated students talk to the server the way a browser does.

A student: GET /_stcore/health (the `_streamlit_xsrf` cookie, and a proxy's sticky cookie), a websocket on
/_stcore/stream with `Sec-WebSocket-Protocol: streamlit, <xsrf>`, a first `BackMsg.rerun_script` carrying the page's
query string, then, after a think time, a new widget value and the wait for `script_finished`. Each rerun sends the
state of every widget the last run drew (as the browser's WidgetStateManager does), the query string and page hash
the server last reported, and the hashes of the cacheable messages it holds (the browser's ForwardMsg cache).
Checked against a recorded Chromium session: see deploy/README.md.

Traffic goes only where the caller points it; every loop is bounded by a count or a deadline. Nothing here imports
the playground: the tool works against any Streamlit app that shows the widgets a profile names.
"""

from __future__ import annotations

import asyncio
import bisect
import concurrent.futures
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

REPO_ROOT = Path(__file__).resolve().parents[1]
HEALTH_PATH = "/_stcore/health"
STREAM_PATH = "/_stcore/stream"
XSRF_COOKIE = "_streamlit_xsrf"
XSRF_PLACEHOLDER = "undefined"  # what the browser sends when it has no cookie (XSRF protection off)
MAX_CACHED_MESSAGE_AGE = 2  # Streamlit's global.maxCachedMessageAge: runs a cached message survives unused

TRIVIAL_APP = """\
import streamlit as st

value = st.slider("Value", 0, 1000, 0)
st.write(f"value = {value}")
"""

# The same app with the playground's fix for Streamlit's connections (Nagle's algorithm off, ui/nodelay.py): the
# floor of a rerun without the ~40 ms delayed-ACK stalls plain Streamlit has on Linux.
TRIVIAL_NODELAY_APP = f"""\
import sys

import streamlit as st

sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from ui import nodelay  # noqa: E402

st.cache_resource(nodelay.enable)()
{TRIVIAL_APP.split(chr(10), 2)[2]}"""


# ---------------------------------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between order statistics (numpy's default); nan if
    empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0 to 100")
    data = sorted(float(v) for v in values)
    if not data:
        return math.nan
    pos = (len(data) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summarize(values: Sequence[float]) -> dict[str, float]:
    """Count, p50, p95, p99, max and mean of a sample (nan where it is empty)."""
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
        "mean": sum(values) / len(values) if values else math.nan,
    }


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


def health_ok(base_url: str, timeout: float = 2.0) -> bool:
    """Does GET /_stcore/health answer 'ok'? (blocking; for start-up polling)"""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + HEALTH_PATH, timeout=timeout) as response:
            return response.read().decode(errors="replace").strip() == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------------- messages


def context_info(page_url: str) -> ContextInfo:
    """The browser context Chromium sends with every rerun (recorded from a real session)."""
    return ContextInfo(
        timezone="UTC", timezone_offset=0, locale="en-US", url=page_url, is_embedded=False, color_scheme="light"
    )


def build_rerun(
    query_string: str = "",
    widgets: Iterable[WidgetState] = (),
    page_script_hash: str = "",
    cached_hashes: Iterable[str] = (),
    page_url: str = "",
    fragment_id: str = "",
) -> bytes:
    """One serialized BackMsg(rerun_script=ClientState(...)), as the browser sends it (with the fragment's id when
    the widgets moved are in an st.fragment: only that fragment then runs)."""
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = query_string
    state.page_script_hash = page_script_hash
    state.fragment_id = fragment_id
    state.widget_states.widgets.extend(widgets)
    state.cached_message_hashes.extend(cached_hashes)
    if page_url:
        state.context_info.CopyFrom(context_info(page_url))
    return msg.SerializeToString()


def parse_forward(data: bytes) -> ForwardMsg:
    msg = ForwardMsg()
    msg.ParseFromString(data)
    return msg


def select_slider_state(widget_id: str, option: str) -> WidgetState:
    """A select_slider's value: Streamlit 1.67 sends the formatted option text, in string_array_value."""
    state = WidgetState(id=widget_id)
    state.string_array_value.data.append(option)
    return state


def slider_state(widget_id: str, *values: float) -> WidgetState:
    """A numeric slider's value (one number, or two for a range) in double_array_value."""
    state = WidgetState(id=widget_id)
    state.double_array_value.data.extend(float(v) for v in values)
    return state


def widget_label(element: Element) -> tuple[str, str, str] | None:
    """(element type, widget id, label) of a widget element; None for anything without an id."""
    kind = element.WhichOneof("type")
    if kind is None:
        return None
    proto = getattr(element, kind)
    if "id" not in proto.DESCRIPTOR.fields_by_name or not proto.id:
        return None
    label = proto.label if "label" in proto.DESCRIPTOR.fields_by_name else ""
    return kind, proto.id, label


def widget_state_of(element: Element) -> WidgetState | None:
    """The state the browser reports for a freshly drawn widget (its server-set value, else its default).

    Covers the kinds the playground and the trivial app draw; buttons and others report nothing until used.
    """
    kind = element.WhichOneof("type")
    if kind == "slider":
        s = element.slider
        if s.type == Slider.SELECT_SLIDER:
            state = WidgetState(id=s.id)
            texts = list(s.raw_value) or [s.options[int(i)] for i in (s.value or s.default)]
            state.string_array_value.data.extend(texts)
            return state
        return slider_state(s.id, *(s.value or s.default))
    if kind == "checkbox":
        c = element.checkbox
        return WidgetState(id=c.id, bool_value=c.value if c.set_value else c.default)
    if kind in ("selectbox", "radio"):
        s = getattr(element, kind)
        if s.HasField("raw_value"):
            return WidgetState(id=s.id, string_value=s.raw_value)
        if s.HasField("default") and 0 <= s.default < len(s.options):
            return WidgetState(id=s.id, string_value=s.options[s.default])
        return None
    if kind == "number_input":
        n = element.number_input
        value = n.value if n.HasField("value") else (n.default if n.HasField("default") else None)
        if value is None:
            return None
        if n.data_type == NumberInput.INT:
            return WidgetState(id=n.id, int_value=int(value))
        return WidgetState(id=n.id, double_value=value)
    return None


def widget_forced(element: Element) -> bool:
    """Whether the server sets this widget's value (set_value), overriding what the browser holds."""
    kind = element.WhichOneof("type")
    proto = getattr(element, kind) if kind else None
    return bool(proto is not None and "set_value" in proto.DESCRIPTOR.fields_by_name and proto.set_value)


# how a run of the whole page, and a run of one fragment, end when nothing went wrong
FINISHED_OK = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


class MessageCache:
    """The browser's ForwardMsg cache: cacheable messages by hash, dropped after MAX_CACHED_MESSAGE_AGE unused
    runs; the client lists the hashes it holds and the server may answer with a `ref_hash` instead."""

    def __init__(self, max_age: int = MAX_CACHED_MESSAGE_AGE):
        self.max_age = max_age
        self.run = 0
        self._entries: dict[str, tuple[ForwardMsg, int]] = {}

    def hashes(self) -> list[str]:
        return list(self._entries)

    def add(self, msg: ForwardMsg) -> None:
        if msg.metadata.cacheable and msg.hash:
            self._entries[msg.hash] = (msg, self.run)

    def resolve(self, ref: ForwardMsg) -> ForwardMsg | None:
        """The cached message a `ref_hash` points to (with the reference's metadata), or None if unknown."""
        entry = self._entries.get(ref.ref_hash)
        if entry is None:
            return None
        self._entries[ref.ref_hash] = (entry[0], self.run)
        msg = ForwardMsg()
        msg.CopyFrom(entry[0])
        msg.metadata.CopyFrom(ref.metadata)
        return msg

    def finished_run(self) -> None:
        self.run += 1
        self._entries = {h: e for h, e in self._entries.items() if self.run - e[1] <= self.max_age}


@dataclass
class RunResult:
    """What one script run sent back, reduced to what the load test checks."""

    status: int | None = None  # ForwardMsg.ScriptFinishedStatus; None if the run never finished
    texts: list[str] = field(default_factory=list)  # markdown, captions, headings, alerts, metric labels+values
    metrics: dict[str, str] = field(default_factory=dict)  # metric label -> shown value
    widgets: dict[str, tuple[str, Element]] = field(default_factory=dict)  # label -> (widget id, element)
    fragments: dict[str, str] = field(default_factory=dict)  # widget id -> the st.fragment it was drawn in, if any
    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # protocol problems (unknown ref_hash, ...)
    query_string: str | None = None
    page_script_hash: str | None = None
    bytes_received: int = 0
    messages: int = 0
    ref_hits: int = 0
    t_running: float | None = None  # seconds from send to the first session_status_changed(running)
    t_finished: float | None = None  # seconds from send to script_finished
    sent_at: float = math.nan  # time.perf_counter() when the rerun was sent (to see which moves overlapped)

    @property
    def ok(self) -> bool:
        return self.status in FINISHED_OK and not self.exceptions and not self.errors

    def has_text(self, needle: str) -> bool:
        return any(needle in t for t in self.texts)

    def widget(self, label: str) -> tuple[str, Element]:
        """(id, element) of the widget with this label; KeyError naming the labels seen if there is none."""
        try:
            return self.widgets[label]
        except KeyError:
            raise KeyError(f"no widget labelled {label!r} in this run; seen: {sorted(self.widgets)}") from None


def absorb(result: RunResult, msg: ForwardMsg) -> None:
    """Fold one (resolved) ForwardMsg into a run's result."""
    kind = msg.WhichOneof("type")
    if kind == "page_info_changed":
        result.query_string = msg.page_info_changed.query_string
    elif kind == "new_session":
        result.page_script_hash = result.page_script_hash or msg.new_session.page_script_hash
    elif kind == "navigation":
        if msg.navigation.page_script_hash:
            result.page_script_hash = msg.navigation.page_script_hash
    elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
        element = msg.delta.new_element
        etype = element.WhichOneof("type")
        if etype == "exception":
            e = element.exception
            result.exceptions.append(f"{e.type}: {e.message}".strip(": "))
        elif etype == "markdown":
            result.texts.append(element.markdown.body)
        elif etype == "heading":
            result.texts.append(element.heading.body)
        elif etype == "alert":
            result.texts.append(element.alert.body)
        elif etype == "text":
            result.texts.append(element.text.body)
        elif etype == "metric":
            result.metrics[element.metric.label] = element.metric.body
            result.texts.append(f"{element.metric.label}: {element.metric.body}")
        found = widget_label(element)
        if found and found[2]:
            result.widgets[found[2]] = (found[1], element)
            if msg.delta.fragment_id:
                result.fragments[found[1]] = msg.delta.fragment_id


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
        self.widgets = kept

    async def close(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            try:
                await asyncio.wait_for(ws.close(), 10)
            except (TimeoutError, websockets.WebSocketException, OSError):
                pass


# ---------------------------------------------------------------------------------------------------- what students do


@dataclass
class Change:
    """One interaction: the widget states to send and the texts the next run must show if it took effect."""

    states: list[WidgetState]
    expect: list[str]
    description: str
    kind: str = "move"  # which controls it moves (the report gives latency per kind too)


class Profile:
    """What a student of one app does: the page it opens, which widget it moves, how success shows."""

    name = ""
    labels: tuple[str, ...] = ()

    def query(self, student: int, seed_base: int) -> str:
        return ""

    def start(self, first: RunResult) -> None:
        for label in self.labels:
            first.widget(label)  # KeyError naming the widgets seen if the page lacks one

    def next_change(self, result: RunResult, rng: random.Random, held: dict[str, WidgetState] | None = None) -> Change:
        """The next interaction; `held` is the widget values the client holds (what it last sent)."""
        raise NotImplementedError

    def check(self, change: Change, result: RunResult) -> str | None:
        """None if the change took effect, else why not."""
        missing = [e for e in change.expect if not result.has_text(e)]
        return f"{change.description}: not shown: {missing}" if missing else None


def _fmt(value: float) -> str:
    return f"{value:g}"


class PlaygroundProfile(Profile):
    """The playground: every interaction moves one slider, as a browser does, to a run this student has not seen:
    the learning rate, and every third time the momentum instead. It took effect when the page says "Learning rate
    OLD → NEW" (or "Momentum OLD → NEW") and shows a Final loss."""

    name = "playground"
    LR_LABEL, MOMENTUM_LABEL = "Learning rate", "Momentum"
    labels = (LR_LABEL, MOMENTUM_LABEL)
    LR_RANGE = (1e-3, 1.0)  # stable with the default data: every run trains all its steps
    MOMENTA = tuple(round(0.05 * k, 2) for k in range(20))  # 0 ... 0.95

    def __init__(self, shared_link: bool = False, cached: bool = False) -> None:
        self.turn = 0
        self.visited: set[tuple[str, float]] = set()
        self.shared_link = shared_link or cached
        self.cached = cached  # the learning rate only, on the shared link: every run is in st.cache_data already

    def query(self, student: int, seed_base: int) -> str:
        # A seed of its own per student: the server's st.cache_data cannot hand one student another's run.
        # With a shared link (the teacher's, default data) students often ask for a run another one computed.
        return "lr=0.1" if self.shared_link else f"lr=0.1&seed={(seed_base + student) % 100_000}"

    def start(self, first: RunResult) -> None:
        super().start(first)
        self.visited.add((self.current_lr(first), self.current_momentum(first)))

    def current_lr(self, result: RunResult, held: WidgetState | None = None) -> str:
        if held is not None:
            return held.string_array_value.data[0]
        s = result.widget(self.LR_LABEL)[1].slider
        return list(s.raw_value)[0] if s.raw_value else s.options[int((s.value or s.default)[0])]

    def current_momentum(self, result: RunResult, held: WidgetState | None = None) -> float:
        if held is not None:
            return held.double_array_value.data[0]
        s = result.widget(self.MOMENTUM_LABEL)[1].slider
        return (s.value or s.default)[0]

    def lr_options(self, lr_element: Element) -> list[str]:
        """The learning rates a student picks from (the slider's options within LR_RANGE)."""
        return [o for o in lr_element.slider.options if self.LR_RANGE[0] <= float(o) <= self.LR_RANGE[1]]

    def next_change(self, result: RunResult, rng: random.Random, held: dict[str, WidgetState] | None = None) -> Change:
        held = held or {}
        lr_id, lr_el = result.widget(self.LR_LABEL)
        m_id, _ = result.widget(self.MOMENTUM_LABEL)
        lr_old = self.current_lr(result, held.get(lr_id))
        m_old = self.current_momentum(result, held.get(m_id))
        self.turn += 1
        if self.turn % 3 == 0 and not self.cached:  # the momentum, to a value not run with this learning rate
            momenta = [m for m in self.MOMENTA if abs(m - m_old) > 1e-9]
            fresh = [m for m in momenta if (lr_old, m) not in self.visited]
            m_new = rng.choice(fresh or momenta)  # all tried: a repeat (st.cache_data answers it)
            self.visited.add((lr_old, m_new))
            return Change(
                [slider_state(m_id, m_new)],
                [f"{self.MOMENTUM_LABEL} {_fmt(m_old)} → {_fmt(m_new)}", "Final loss: "],
                f"momentum {m_old:g} -> {m_new:g}",
                "momentum",
            )
        options = [lr for lr in self.lr_options(lr_el) if lr != lr_old]
        fresh = [lr for lr in options if (lr, m_old) not in self.visited]
        lr_new = rng.choice(fresh or options)
        self.visited.add((lr_new, m_old))
        return Change(
            [select_slider_state(lr_id, lr_new)],
            [f"{self.LR_LABEL} {lr_old} → {lr_new}", "Final loss: "],
            f"lr {lr_old} -> {lr_new}",
            "lr",
        )


class TrivialProfile(Profile):
    """The one-slider app: a new integer each time; it took effect when the page writes "value = N"."""

    name = "trivial"
    LABEL = "Value"
    labels = (LABEL,)

    def next_change(self, result: RunResult, rng: random.Random, held: dict[str, WidgetState] | None = None) -> Change:
        widget_id, element = result.widget(self.LABEL)
        state = (held or {}).get(widget_id)
        old = int(state.double_array_value.data[0]) if state else int((element.slider.value or [0])[0])
        new = rng.choice([v for v in range(0, 1001) if v != old])
        return Change([slider_state(widget_id, new)], [f"value = {new}"], f"value {old} -> {new}")


PROFILES = {"playground": PlaygroundProfile, "trivial": TrivialProfile, "trivial-nodelay": TrivialProfile}


# ---------------------------------------------------------------------------------------------------- the load


@dataclass
class Interaction:
    student: int
    latency: float
    to_running: float | None
    bytes_received: int
    applied: bool
    final_loss_changed: bool | None = None
    kind: str = "move"
    sent_at: float = math.nan  # time.perf_counter() when it was sent


@dataclass
class StudentLog:
    interactions: list[Interaction] = field(default_factory=list)
    load_latency: float | None = None
    errors: list[str] = field(default_factory=list)  # exceptions, protocol errors, timeouts, websocket errors
    not_applied: list[str] = field(default_factory=list)


async def student(
    index: int,
    base_url: str,
    profile: Profile,
    start_at: float,
    deadline: float,
    rng: random.Random,
    think: tuple[float, float],
    timeout: float,
    seed_base: int,
) -> StudentLog:
    """One simulated student: open the page, then move a widget after each think time until the deadline."""
    log = StudentLog()
    session = Session(base_url)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    try:
        await session.open(timeout)
        first = await session.run(query_string=profile.query(index, seed_base), timeout=timeout)
        log.load_latency = first.t_finished
        _record_errors(log, first, "page load")
        if not first.ok:
            return log
        profile.start(first)
        result = first
        for _ in range(100_000):  # bounded; the deadline ends it long before
            pause = rng.uniform(*think)
            if time.monotonic() + pause >= deadline:
                break
            await asyncio.sleep(pause)
            change = profile.next_change(result, rng, session.widgets)
            before = result.metrics.get("Final loss")
            new = await session.run(change.states, timeout=timeout)
            _record_errors(log, new, change.description)
            problem = profile.check(change, new) if new.ok else "the run failed"
            if problem:
                log.not_applied.append(problem)
            after = new.metrics.get("Final loss")
            log.interactions.append(
                Interaction(
                    index,
                    new.t_finished or math.nan,
                    new.t_running,
                    new.bytes_received,
                    problem is None,
                    None if before is None or after is None else before != after,
                    change.kind,
                    new.sent_at,
                )
            )
            if not new.ok:
                break
            result = new
    except TimeoutError as exc:
        log.errors.append(f"timeout: {exc}")
    except (websockets.WebSocketException, OSError, ConnectionError) as exc:
        log.errors.append(f"{type(exc).__name__}: {exc}")
    except KeyError as exc:
        log.errors.append(f"widget not found: {exc}")
    finally:
        await session.close()
    return log


def _record_errors(log: StudentLog, result: RunResult, what: str) -> None:
    log.errors += [f"{what}: exception in the page: {e}" for e in result.exceptions]
    log.errors += [f"{what}: {e}" for e in result.errors]
    if result.status not in (None, *FINISHED_OK):
        log.errors.append(f"{what}: script_finished status {ForwardMsg.ScriptFinishedStatus.Name(result.status)}")


# ---------------------------------------------------------------------------------------------------- /proc


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS in /proc/<pid>/status); 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (/proc/<pid>/stat fields 14 and 15); 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def system_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used, summed over cores (/proc/stat: all but idle, iowait)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLK_TCK


def with_descendants(pids: Sequence[int]) -> list[int]:
    """These processes and every process below them (the playground's training workers, ui/worker.py), from the
    parent ids in /proc/<pid>/stat."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent_of[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found, todo = list(pids), list(pids)
    while todo:
        parent = todo.pop()
        children = [pid for pid, ppid in parent_of.items() if ppid == parent and pid not in found]
        found += children
        todo += children
    return found


def total_rss(pids: Sequence[int]) -> int:
    """Resident memory of these processes and every process below them (their workers), in bytes."""
    return sum(map(proc_rss_bytes, with_descendants(pids)))


@dataclass
class ProcSample:
    t: float
    rss: int  # bytes, summed over the processes
    cpu: float  # CPU seconds, summed


class ProcSampler:
    """Samples RSS and CPU time of the server processes, their workers included, once a second while the load
    runs."""

    def __init__(self, pids: Sequence[int], interval: float = 1.0):
        self.pids, self.interval = list(pids), interval
        self.samples: list[ProcSample] = []
        self._task: asyncio.Task | None = None

    def sample(self) -> ProcSample:
        pids = with_descendants(self.pids)
        s = ProcSample(time.monotonic(), sum(map(proc_rss_bytes, pids)), sum(map(proc_cpu_seconds, pids)))
        self.samples.append(s)
        return s

    async def _loop(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self, deadline: float) -> None:
        self._task = asyncio.create_task(self._loop(deadline))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


# ---------------------------------------------------------------------------------------------------- a report


@dataclass
class LoadReport:
    label: str
    app: str
    processes: int
    students: int
    duration: float
    logs: list[StudentLog]
    rss_baseline: int = 0
    rss_peak: int = 0
    rss_end: int = 0
    rss_settled: int | None = None
    server_cpu: float = 0.0  # CPU seconds used by the servers during the load
    client_cpu: float = 0.0  # CPU seconds used by this load tool during the load
    other_cpu: float = 0.0  # CPU seconds used by everything else on the machine meanwhile (a shared machine)
    wall: float = 0.0
    loadavg: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def interactions(self) -> list[Interaction]:
        return [i for log in self.logs for i in log.interactions]

    @property
    def errors(self) -> list[str]:
        return [e for log in self.logs for e in log.errors]

    @property
    def not_applied(self) -> list[str]:
        return [e for log in self.logs for e in log.not_applied]

    def latency(self) -> dict[str, float]:
        return summarize([i.latency for i in self.interactions if math.isfinite(i.latency)])

    def latency_by_kind(self) -> dict[str, dict[str, float]]:
        """Latency per kind of move (the playground: the learning rate alone, or with the momentum)."""
        kinds = sorted({i.kind for i in self.interactions})
        return {
            k: summarize([i.latency for i in self.interactions if i.kind == k and math.isfinite(i.latency)])
            for k in kinds
        }

    def overlaps(self) -> list[int]:
        """For each interaction (in self.interactions' order), how many other moves were under way at some moment
        of it: the moves it shared the server with (a student's own moves follow each other, so they are other
        students'). Tells a tail that comes from moves waiting for each other (the latency grows with the
        overlap) from one that comes from the machine (it does not)."""
        spans = [(i.sent_at, i.sent_at + i.latency) for i in self.interactions]
        known = [(s, e) for s, e in spans if math.isfinite(s) and math.isfinite(e)]
        starts, ends = sorted(s for s, _ in known), sorted(e for _, e in known)
        # the moves that started before this one ended, less those that had ended by the time it started, less itself
        return [
            bisect.bisect_left(starts, e) - bisect.bisect_right(ends, s) - 1 if math.isfinite(s + e) else 0
            for s, e in spans
        ]

    def latency_by_overlap(self) -> dict[str, dict[str, float]]:
        """Latency of the moves that overlapped no other move, one, two, and three or more."""
        groups: dict[str, list[float]] = {"0": [], "1": [], "2": [], "3+": []}
        for i, n in zip(self.interactions, self.overlaps(), strict=True):
            if math.isfinite(i.latency) and math.isfinite(i.sent_at):
                groups[str(n) if n < 3 else "3+"].append(i.latency)
        return {k: summarize(v) for k, v in groups.items() if v}

    def load_latency(self) -> dict[str, float]:
        return summarize([log.load_latency for log in self.logs if log.load_latency is not None])

    def as_dict(self) -> dict:
        inter = self.interactions
        return {
            "label": self.label,
            "app": self.app,
            "processes": self.processes,
            "students": self.students,
            "duration_s": self.duration,
            "interactions": len(inter),
            "applied": sum(i.applied for i in inter),
            "errors": len(self.errors),
            "error_samples": self.errors[:10],
            "not_applied_samples": self.not_applied[:10],
            "latency_s": self.latency(),
            "latency_by_kind_s": self.latency_by_kind(),
            "latency_by_overlap_s": self.latency_by_overlap(),
            "to_running_s": summarize([i.to_running for i in inter if i.to_running is not None]),
            "page_load_s": self.load_latency(),
            "kb_per_interaction": (sum(i.bytes_received for i in inter) / len(inter) / 1000) if inter else math.nan,
            "rss_mb": {
                "baseline": self.rss_baseline / 1e6,
                "peak": self.rss_peak / 1e6,
                "end": self.rss_end / 1e6,
                "settled": None if self.rss_settled is None else self.rss_settled / 1e6,
            },
            "server_cpu_cores": self.server_cpu / self.wall if self.wall else math.nan,
            "client_cpu_cores": self.client_cpu / self.wall if self.wall else math.nan,
            "other_cpu_cores": self.other_cpu / self.wall if self.wall else math.nan,
            "server_cpu_s_per_interaction": self.server_cpu / len(inter) if inter else math.nan,
            "loadavg": self.loadavg,
        }


TABLE_HEADER = (
    f"{'set-up':<22}{'students':>9}{'inter':>7}{'err':>5}{'n/a':>5}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
    f"{'load p95':>9}{'kB/int':>8}{'cpu/int':>8}{'srv cpu':>8}{'cli':>6}{'other':>6}"
    f"{'RSS base':>9}{'peak':>7}{'end':>7}{'settled':>8}"
)


def table_row(r: LoadReport) -> str:
    d = r.as_dict()
    lat, rss = d["latency_s"], d["rss_mb"]
    settled = "-" if rss["settled"] is None else f"{rss['settled']:.0f}"
    return (
        f"{r.label:<22}{r.students:>9}{d['interactions']:>7}{d['errors']:>5}{d['interactions'] - d['applied']:>5}"
        f"{lat['p50'] * 1000:>8.0f}{lat['p95'] * 1000:>8.0f}{lat['p99'] * 1000:>8.0f}"
        f"{d['page_load_s']['p95'] * 1000:>9.0f}{d['kb_per_interaction']:>8.1f}"
        f"{d['server_cpu_s_per_interaction']:>8.3f}{d['server_cpu_cores']:>8.2f}{d['client_cpu_cores']:>6.2f}"
        f"{d['other_cpu_cores']:>6.2f}"
        f"{rss['baseline']:>9.0f}{rss['peak']:>7.0f}{rss['end']:>7.0f}{settled:>8}"
    )


def kinds_row(r: LoadReport) -> str:
    """The latency per kind of move, under a table row (where a profile moves more than one kind)."""
    parts = [
        f"{kind}: n {lat['n']}, p50 {lat['p50'] * 1000:.0f} ms, p95 {lat['p95'] * 1000:.0f} ms"
        for kind, lat in r.latency_by_kind().items()
    ]
    overlap = [
        f"{n}: n {lat['n']}, p50 {lat['p50'] * 1000:.0f} ms, p95 {lat['p95'] * 1000:.0f} ms"
        for n, lat in r.latency_by_overlap().items()
    ]
    row = "    by kind of move: " + "; ".join(parts)
    return row + ("\n    by other students' moves under way meanwhile: " + "; ".join(overlap) if overlap else "")


async def warm_up(base_urls: Sequence[str], profile_name: str, timeout: float) -> None:
    """One session per server, the way a teacher opens the link before class: loads the code, fills the caches."""
    for url in base_urls:
        profile = PROFILES[profile_name]()
        session = Session(url)
        try:
            await session.open(timeout)
            first = await session.run(query_string=profile.query(0, 99_000), timeout=timeout)
            if not first.ok:
                raise RuntimeError(f"warm-up on {url} failed: {first.exceptions or first.errors or first.status}")
            profile.start(first)
            change = profile.next_change(first, random.Random(0), session.widgets)
            await session.run(change.states, timeout=timeout)
        finally:
            await session.close()


async def fill_cache(base_urls: Sequence[str], timeout: float) -> int:
    """For --cached: one session per server runs every learning rate a PlaygroundProfile(cached=True) student can
    pick, on the shared link, so each later move of a student is answered from st.cache_data. Returns the runs."""
    runs = 0
    for url in base_urls:
        profile = PlaygroundProfile(cached=True)
        session = Session(url)
        try:
            await session.open(timeout)
            result = await session.run(query_string=profile.query(0, 0), timeout=timeout)
            lr_id, lr_el = result.widget(profile.LR_LABEL)
            for option in profile.lr_options(lr_el):
                result = await session.run([select_slider_state(lr_id, option)], timeout=timeout)
                if not result.ok:
                    raise RuntimeError(f"filling the cache on {url} failed at lr {option}: {result.status}")
                runs += 1
        finally:
            await session.close()
    return runs


async def run_load(
    base_urls: Sequence[str],
    profile_name: str,
    students: int,
    duration: float,
    *,
    server_pids: Sequence[int] = (),
    think: tuple[float, float] = (2.0, 5.0),
    timeout: float = 60.0,
    ramp: float = 3.0,
    seed_base: int | None = None,
    settle: float = 5.0,
    rng_seed: int = 0,
    label: str = "",
    processes: int = 1,
    warm: bool = True,
    warm_urls: Sequence[str] | None = None,
    shared_link: bool = False,
    cached: bool = False,
) -> LoadReport:
    """Run `students` simulated students for `duration` seconds against the servers (round-robin) and report."""
    if students < 1 or duration <= 0:
        raise ValueError("students must be at least 1 and duration positive")
    if warm:
        await warm_up(warm_urls or base_urls, profile_name, timeout)
    await asyncio.sleep(1.0)  # let the servers settle before the baseline
    sampler = ProcSampler(server_pids)
    baseline = sampler.sample().rss
    seed_base = random.Random().randrange(100_000) if seed_base is None else seed_base
    rng = random.Random(rng_seed)
    t0 = time.monotonic()
    deadline = t0 + duration
    sampler.start(deadline + timeout + 30)
    cpu0 = sampler.sample().cpu
    client0 = sum(os.times()[:2])
    busy0 = system_busy_seconds()
    tasks = [
        student(
            i,
            base_urls[i % len(base_urls)],
            PROFILES[profile_name](**({"shared_link": shared_link, "cached": cached} if shared_link or cached else {})),
            t0 + ramp * i / max(1, students),
            deadline,
            random.Random(rng.random()),
            think,
            timeout,
            seed_base,
        )
        for i in range(students)
    ]
    logs = await asyncio.gather(*tasks)
    wall = time.monotonic() - t0
    end = sampler.sample()
    client_cpu = sum(os.times()[:2]) - client0
    busy = system_busy_seconds() - busy0
    await sampler.stop()
    await asyncio.sleep(settle)
    settled = sampler.sample()
    return LoadReport(
        label=label or profile_name,
        app=profile_name,
        processes=processes,
        students=students,
        duration=duration,
        logs=list(logs),
        rss_baseline=baseline,
        rss_peak=max(s.rss for s in sampler.samples),
        rss_end=end.rss,
        rss_settled=settled.rss,
        server_cpu=end.cpu - cpu0,
        client_cpu=client_cpu,
        other_cpu=max(0.0, busy - (end.cpu - cpu0) - client_cpu),
        wall=wall,
        loadavg=os.getloadavg(),
    )


async def ttl_probe(base_url: str, wait: float, timeout: float = 30.0) -> None:
    """Wait, then open and close one session: Streamlit drops disconnected sessions (kept 2 min for a reconnect)
    only when its session storage is next written, which a disconnect does."""
    await asyncio.sleep(wait)
    session = Session(base_url)
    try:
        await session.open(timeout)
        await session.run(timeout=timeout)
    finally:
        await session.close()
    await asyncio.sleep(2.0)


# ---------------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_range(count: int, attempts: int = 50) -> int:
    """A first port such that `count` consecutive ports are free on 127.0.0.1."""
    for _ in range(attempts):
        base = random.randrange(20_000, 60_000 - count)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {count} consecutive free ports found")


class StreamlitServer:
    """One `streamlit run` from the repository root (so .streamlit/config.toml applies), in its own process group."""

    def __init__(
        self,
        script: Path,
        port: int,
        log: Path,
        extra_args: Sequence[str] = (),
        launcher: Sequence[str] | None = None,
    ):
        """`launcher`: the command before Streamlit's options (default `python -m streamlit run SCRIPT`; for
        example `python scripts/serve.py`)."""
        self.script, self.port, self.log = Path(script), port, Path(log)
        self.url = f"http://127.0.0.1:{port}"
        self.extra_args = list(extra_args)
        self.launcher = list(launcher or [sys.executable, "-m", "streamlit", "run", str(self.script)])
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [
            *self.launcher,
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            *self.extra_args,
        ]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        with self.log.open("a") as out:  # a file, not a pipe: a pipe nobody reads fills up and blocks the server
            self.proc = subprocess.Popen(
                cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("not started")
        return self.proc.pid

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not health_ok(self.url):
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.script.name} on port {self.port} exited early; log:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.script.name}: no 'ok' from {HEALTH_PATH} in {timeout:.0f} s")
            time.sleep(0.25)

    def kill(self) -> None:
        """SIGKILL the server (a crash), and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)

    def stop(self) -> None:
        """SIGTERM the server's process group (only what this object started); SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def nginx_available() -> str | None:
    """Path of an nginx executable, or None."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


class ProxySetup:
    """deploy/start.sh: K Streamlit processes behind nginx, started as one process group and stopped together."""

    START = REPO_ROOT / "deploy" / "start.sh"

    def __init__(
        self,
        processes: int,
        run_dir: Path,
        listen_port: int | None = None,
        app: str = "app.py",
        env: Mapping[str, str] | None = None,
    ):
        self.processes, self.run_dir, self.app, self.env = processes, Path(run_dir), app, dict(env or {})
        self.listen_port = listen_port or free_port()
        self.url = f"http://127.0.0.1:{self.listen_port}"
        self.proc: subprocess.Popen | None = None
        self.log = self.run_dir.parent / f"{self.run_dir.name}-start.log"

    def start(self, timeout: float = 180.0) -> None:
        env = {
            **os.environ,
            "PLAYGROUND_PROCESSES": str(self.processes),
            "PLAYGROUND_LISTEN_PORT": str(self.listen_port),
            "PLAYGROUND_LISTEN_ADDR": "127.0.0.1",
            "PLAYGROUND_BASE_PORT": str(free_port_range(self.processes)),
            "PLAYGROUND_RUN_DIR": str(self.run_dir),
            "PLAYGROUND_APP": self.app,
            "PYTHON": sys.executable,
            **self.env,
        }
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                ["bash", str(self.START)], cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not (self.ready_file().exists() and health_ok(self.url)):
            if self.proc.poll() is not None:
                raise RuntimeError(f"deploy/start.sh exited with {self.proc.returncode}; output:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"deploy/start.sh not ready in {timeout:.0f} s; output:\n{self.log_tail()}")
            time.sleep(0.5)

    def ready_file(self) -> Path:
        return self.run_dir / "ready"

    def backend_pids(self) -> list[int]:
        """PIDs of the Streamlit processes (start.sh writes one streamlit-<port>.pid each)."""
        return [int(p.read_text().split()[0]) for p in sorted(self.run_dir.glob("streamlit-*.pid"))]

    def wait_replaced(self, old_pids: Sequence[int], timeout: float) -> list[int]:
        """Wait until start.sh has replaced every process in `old_pids` (ui/recycle.py stops an idle one) and the new
        ones answer their health check; their PIDs. TimeoutError if that takes longer than `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.backend_pids()
            if len(pids) == len(old_pids) and not set(pids) & set(old_pids):
                if all(health_ok(f"http://127.0.0.1:{port}") for port in self.backend_ports()):
                    return pids
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"deploy/start.sh exited; output:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the processes {list(old_pids)} were not all replaced in {timeout:.0f} s")
            time.sleep(1.0)

    def backend_ports(self) -> list[int]:
        return [int(p.stem.split("-")[1]) for p in sorted(self.run_dir.glob("streamlit-*.pid"))]

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM start.sh (it stops nginx and the servers), then SIGKILL its group if anything lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
        for pid in self.backend_pids():  # belt and braces: nothing of ours survives
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no output)"
