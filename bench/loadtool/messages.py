"""What travels on the websocket, built and read with Streamlit's own protobufs.

The `BackMsg.rerun_script` a browser sends (widget states, query string, page hash, cached message hashes, browser
context), the `ForwardMsg`s a run sends back folded into a `RunResult` (texts, metrics, widgets by label, status),
the widget state a browser reports for each kind of widget, and the browser's ForwardMsg cache. No I/O here:
session.py sends and receives these.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

MAX_CACHED_MESSAGE_AGE = 2  # Streamlit's global.maxCachedMessageAge: runs a cached message survives unused


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


def text_state(widget_id: str, text: str) -> WidgetState:
    """A text input's new value, as the browser sends it when the field is left or Enter is pressed."""
    return WidgetState(id=widget_id, string_value=text)


def trigger_state(widget_id: str) -> WidgetState:
    """A button's click: a trigger, true for the one run it starts (the browser does not send it again)."""
    return WidgetState(id=widget_id, trigger_value=True)


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
