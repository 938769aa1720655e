"""Streamlit widgets drawn from the control schema, kept in step with the URL query string.

The values live in st.session_state["values"]; each widget has the key "ctl_<control key>". A value reaches the
page from the URL on a session's first run, from a widget after that, or from a button (a one-click fix) through
set_values(), which runs as a callback before the widgets are drawn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import NamedTuple

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import engine
from settings import controls, lesson
from settings.controls import BY_KEY, Control

VALUES = "values"
PAGE = "values_page"
LESSON = "lesson"
NOTES = "url_notes"
PREVIOUS = "previous_values"
SET_BY_BUTTON = "set_by_button"


def _wkey(key: str) -> str:
    return f"ctl_{key}"


def init_values() -> dict:
    """The session's control values: read from the URL on the first run, then kept in session state."""
    if VALUES not in st.session_state:
        query = st.query_params.to_dict()
        values, notes = controls.parse_query(query, tuple(engine.available_devices()))
        lesson_, lesson_notes = lesson.parse_lesson(query)
        st.session_state[VALUES] = values
        st.session_state[LESSON] = lesson_
        st.session_state[NOTES] = notes + lesson_notes
    values = st.session_state[VALUES]
    st.session_state.pop(SET_BY_BUTTON, None)  # the whole page runs: every widget picks its change up
    page = _page_id()
    if st.session_state.get(PAGE) != page:
        # another page's widgets: Streamlit does not carry a widget's state to a widget with the same key on a new
        # page (it would come back at its first option), so drop them and let _widget seed them from `values`
        for key in values:
            st.session_state.pop(_wkey(key), None)
        st.session_state[PAGE] = page
    for key in values:  # a widget the user just moved holds the newest value
        wkey = _wkey(key)
        if wkey in st.session_state:
            values[key] = st.session_state[wkey]
    return values


def _page_id() -> str | None:
    """Which page script this run executes (Streamlit's own hash of it)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return getattr(ctx, "page_script_hash", None)


def values_now() -> dict:
    """The session's control values as they stand (in a callback, before the widgets of this run are drawn)."""
    return st.session_state[VALUES]


def set_values(**changes) -> None:
    """Change control values from a button callback; the widgets pick them up on this rerun. A control the
    teacher's link hides or locks keeps its value, whatever button asks (a lock is never bypassed)."""
    values = st.session_state[VALUES]
    fixed = current_lesson()
    changes = {key: value for key, value in changes.items() if fixed.allows(key)}
    for key, value in changes.items():
        values[key] = value
        st.session_state[_wkey(key)] = value
    st.session_state[SET_BY_BUTTON] = set(changes)


def moved_since_last_run(values: dict) -> set[str]:
    """The controls a widget or a button changed since the page last ran, for a fragment to call before it draws
    its widgets: those it does not draw need the whole page to run (st.rerun())."""
    moved = set(st.session_state.pop(SET_BY_BUTTON, ()))
    return moved | {k for k in values if st.session_state.get(_wkey(k), values[k]) != values[k]}


def current_lesson() -> lesson.Lesson:
    """The teacher's lesson from this session's link (an empty one without)."""
    return st.session_state.get(LESSON) or lesson.Lesson()


def page(title: str) -> dict:
    """A page's start: the session's control values, the page's title, and a note for each value its link had to
    correct (escaped: a note quotes what the URL held)."""
    from ui.explain import md_escape  # explain imports the run machinery; only pages need it here

    values = init_values()
    st.title(title)
    for note in take_notes():
        st.warning(f"Link corrected — {md_escape(note)}", icon="🔗")
    return values


@contextlib.contextmanager
def or_stop(cannot: str, spinner: str | None = None, before_stop: Callable[[], None] | None = None):
    """Run the block (under a spinner when given words for it); a ValueError from it, the engine refusing these
    settings, becomes "<cannot>: <why>" on the page and the script stops there, after before_stop() (the controls
    of a page that draws them after its figure: the learner changes the settings there)."""
    try:
        with st.spinner(spinner) if spinner else contextlib.nullcontext():
            yield
    except ValueError as exc:
        if before_stop is not None:
            before_stop()
        st.error(f"{cannot}: {exc}")
        st.stop()


def take_notes() -> list[str]:
    """Notes about corrected URL values, shown once."""
    return st.session_state.pop(NOTES, [])


def _widget(control: Control, container, value, disabled: bool = False):
    """Draw one control with the Streamlit widget that suits its kind."""
    key = _wkey(control.key)
    if key not in st.session_state:
        st.session_state[key] = value
    common = {"key": key, "help": control.help or None, "disabled": disabled}
    if control.kind == "grid":
        options = controls.grid_options(control.key, st.session_state[key])
        return container.select_slider(control.label, options=options, format_func=lambda v: f"{v:g}", **common)
    if control.kind == "choice":
        options = control.options
        if control.key == "device":
            options = tuple(engine.available_devices())
        fmt = (lambda v: str(control.labels.get(v, v))) if control.labels else str
        if len(options) <= 3 and control.key != "device":
            return container.radio(control.label, options, format_func=fmt, horizontal=True, **common)
        return container.selectbox(control.label, options, format_func=fmt, **common)
    if control.kind == "bool":
        return container.toggle(control.label, **common)
    if control.kind == "int" and control.key in ("seed", "batch_size"):
        return container.number_input(
            control.label, min_value=int(control.lo), max_value=int(control.hi), step=1, **common
        )
    if control.key in ("w0", "w2_0", "b0"):
        return container.number_input(
            control.label, min_value=control.lo, max_value=control.hi, step=control.step, format="%g", **common
        )
    cast = int if control.kind == "int" else float
    return container.slider(
        control.label, min_value=cast(control.lo), max_value=cast(control.hi), step=cast(control.step), **common
    )


def draw(keys, values: dict, container=None, shown: set[str] | None = None) -> None:
    """Draw the listed controls (those in `shown`, default all) into a container and store their values."""
    container = container or st.sidebar
    fixed = current_lesson()
    for key in keys:
        if (shown is not None and key not in shown) or key in fixed.hidden:
            continue
        values[key] = _widget(BY_KEY[key], container, values[key], disabled=key in fixed.locked)


def sync_url(values: dict) -> None:
    """Write every control into the query string, so the address bar is always a link to this exact run."""
    wanted = controls.to_query(values)
    current = st.query_params.to_dict()
    if any(current.get(k) != v for k, v in wanted.items()):
        st.query_params.update(wanted)


def changes_since_last_run(values: dict) -> list[str]:
    """What the learner changed since the previous run on this page, in words ("Learning rate 0.1 → 0.3")."""
    previous = st.session_state.get(PREVIOUS)
    st.session_state[PREVIOUS] = dict(values)
    if previous is None:
        return []
    return [f"{BY_KEY[k].label} {_show(previous[k])} → {_show(v)}" for k, v in values.items() if previous.get(k) != v]


def _show(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def learning_rate(values: dict, shown: set[str], slot):
    """The learning-rate slider, drawn into its slot in the sidebar; returns the place for its caption under it."""
    draw(["lr"], values, slot, shown)
    return slot.empty()


def momentum(values: dict, shown: set[str], slot) -> None:
    """The momentum's slider, drawn into its slot in the sidebar."""
    draw(["momentum"], values, slot, shown)


class Slots(NamedTuple):
    """The sidebar's places, made before anything is drawn in them."""

    lr: DeltaGenerator  # the learning rate's slider and its caption
    momentum: DeltaGenerator
    rest: DeltaGenerator  # every other control (sidebar_rest)


def sidebar_slots() -> Slots:
    """The sidebar's "Training" header and empty places for its controls, in their order. A page may then draw the
    controls after its figure (sidebar_rest): the values are known before any widget is drawn (init_values), and
    what the script sends first, the browser draws first."""
    sb = st.sidebar
    sb.header("Training")
    return Slots(sb.container(), sb.container(), sb.container())


def sidebar_rest(values: dict, shown: set[str], extra: tuple[str, ...], into: DeltaGenerator) -> None:
    """Every training control but the learning rate and the momentum, into the sidebar's place for them."""
    draw(["nesterov", "epochs", *extra], values, into, shown)
    into.header("Data")
    draw(["dataset", "n", "noise", "seed"], values, into, shown)
    fixed = current_lesson()
    if ("n" in shown or "seed" in shown) and not {"seed"} & (fixed.hidden | fixed.locked):
        into.button(
            "🎲 New data",
            on_click=lambda: set_values(seed=(values["seed"] + 1) % 100_000),
            help="Draw a fresh sample (the next seed).",
        )
    draw(["scaling"], values, into, shown)
    for label, keys in MORE:  # "Test set, weight decay" is the playground's; the Explorer pages leave it out
        more_controls(label, keys, values, shown, into)
    sync_url(values)


MORE = (  # the sidebar's folded sections: their label and controls
    (
        "Method, batch, start, device",
        ("method", "optimizer", "fd_delta", "batch", "batch_size", "w0", "w2_0", "b0", "device"),
    ),
    ("Test set, weight decay", ("test_fraction", "weight_decay")),
)


def more_controls(label: str, keys: tuple[str, ...], values: dict, shown: set[str], into: DeltaGenerator) -> None:
    """A folded section of controls, whose widgets exist only while it is open: every widget on the page costs the
    browser time on every rerun, a folded one too (docs/performance.md). It opens by itself when one of its controls
    comes off its default (a link's method, a one-click fix's batch, a tap's start), so a setting that shapes the run
    comes into sight; the learner may fold it again."""
    fixed = current_lesson()
    visible = [k for k in keys if k in shown and k not in fixed.hidden]
    if not visible:
        return
    key = f"more_{keys[0]}"
    off = {k for k in visible if values[k] != BY_KEY[k].default}
    page, seen = st.session_state.get(f"{key}_off", (None, set()))
    if off - (seen if page == _page_id() else set()):  # newly off its default, or on a page just opened
        st.session_state[key] = True
    st.session_state[f"{key}_off"] = (_page_id(), off)
    section = into.expander(label, key=key, on_change="rerun")  # `expanded` fixed: it is part of the widget's id
    if section.open:
        draw(visible, values, section, shown)


def sidebar(values: dict, shown: set[str], extra: tuple[str, ...] = ()):
    """The training controls every page shares, in the sidebar; returns the place for the caption under the
    learning rate."""
    slots = sidebar_slots()
    sidebar_rest(values, shown, extra, slots.rest)
    momentum(values, shown, slots.momentum)
    return learning_rate(values, shown, slots.lr)
