"""What a simulated student of one app does: the page it opens, which widget it moves next, how a move shows.

A `Profile` picks each `Change` (the widget states to send, the texts the next run must show) and checks the run
that follows. The playground's student moves the learning rate, every third time the momentum, always to a run it
has not seen; the trivial app's moves its one slider. `PROFILES` names them for the command line; the trivial
apps' source is here too, for the servers that run them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from streamlit.proto.Element_pb2 import Element
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.loadtool import REPO_ROOT
from bench.loadtool.messages import RunResult, select_slider_state, slider_state, text_state, trigger_state

TRIVIAL_APP = """\
import streamlit as st

value = st.slider("Value", 0, 1000, 0)
st.write(f"value = {value}")
"""

# The same app with the playground's fix for Streamlit's connections (Nagle's algorithm off, server/nodelay.py): the
# floor of a rerun without the ~40 ms delayed-ACK stalls plain Streamlit has on Linux.
TRIVIAL_NODELAY_APP = f"""\
import sys

import streamlit as st

sys.path.insert(0, {str(REPO_ROOT)!r})
from server import nodelay

st.cache_resource(nodelay.enable)()
{TRIVIAL_APP.split(chr(10), 2)[2]}"""


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
    OLD → NEW" (or "Momentum OLD → NEW") and shows a Final loss. With a class code (a class board's students'
    link), every SHARE_EVERY-th interaction shares the run on screen instead (a nickname and the "Share with the
    class" button, as a browser sends them); it took effect when the page says the run is on the class board."""

    name = "playground"
    LR_LABEL, MOMENTUM_LABEL = "Learning rate", "Momentum"
    labels = (LR_LABEL, MOMENTUM_LABEL)
    LR_RANGE = (1e-3, 1.0)  # stable with the default data: every run trains all its steps
    MOMENTA = tuple(round(0.05 * k, 2) for k in range(20))  # 0 ... 0.95
    NICKNAME_LABEL, SHARE_LABEL = "Nickname", "Share with the class"
    SHARE_EVERY = 4  # with 2-5 s of thought between interactions: 8 s or more apart, past the board's 5 s limit
    SHARED = "on the class board"  # "Shared: your run is on the class board." (or "already on", for a repeat)

    def __init__(self, shared_link: bool = False, cached: bool = False, class_code: str | None = None) -> None:
        self.turn = 0
        self.visited: set[tuple[str, float]] = set()
        self.shared_link = shared_link or cached
        self.cached = cached  # the learning rate only, on the shared link: every run is in st.cache_data already
        self.class_code = class_code
        self.student = 0

    def query(self, student: int, seed_base: int) -> str:
        # A seed of its own per student: the server's st.cache_data cannot hand one student another's run.
        # With a shared link (the teacher's, default data) students often ask for a run another one computed.
        self.student = student
        query = "lr=0.1" if self.shared_link else f"lr=0.1&seed={(seed_base + student) % 100_000}"
        return query + (f"&class={self.class_code}" if self.class_code else "")

    def share(self, result: RunResult) -> Change:
        """Type a nickname and press "Share with the class" (one rerun, as the button's click sends both)."""
        nick_id, _ = result.widget(self.NICKNAME_LABEL)
        button_id, _ = result.widget(self.SHARE_LABEL)
        return Change(
            [text_state(nick_id, f"student {self.student}"), trigger_state(button_id)],
            [self.SHARED],
            f"share (turn {self.turn})",
            "share",
        )

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
        if self.class_code and self.turn % self.SHARE_EVERY == 0:
            return self.share(result)
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
