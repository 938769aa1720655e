"""Teacher links: which controls a class sees (hidden or locked), and an optional challenge with its check.

Like TensorFlow Playground's hide flags, a lesson lives in the URL next to the controls:
    ?lr=0.5&...&hide=method,optimizer&lock=dataset,epochs&goal_loss=0.5&goal_epochs=50
Pure Python (no streamlit), so it is unit-testable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import engine
from settings import controls

LESSON_KEYS = ("hide", "lock", "goal_loss", "goal_epochs")


@dataclass(frozen=True)
class Lesson:
    """What the teacher fixed for this link."""

    hidden: frozenset = field(default_factory=frozenset)
    locked: frozenset = field(default_factory=frozenset)
    goal_loss: float | None = None
    goal_epochs: int | None = None

    def allows(self, key: str) -> bool:
        """Whether a student may change this control: not hidden nor locked by the teacher's link (one-click fixes
        ask this too)."""
        return key not in self.hidden | self.locked

    @property
    def has_challenge(self) -> bool:
        return self.goal_loss is not None

    def query(self) -> dict[str, str]:
        """The lesson's part of the URL query."""
        out = {}
        if self.hidden:
            out["hide"] = ",".join(sorted(self.hidden))
        if self.locked:
            out["lock"] = ",".join(sorted(self.locked - self.hidden))
        if self.goal_loss is not None:
            out["goal_loss"] = repr(float(self.goal_loss))
            if self.goal_epochs is not None:
                out["goal_epochs"] = str(self.goal_epochs)
        return out


def _keys(raw: str, what: str, notes: list[str]) -> frozenset:
    keys = [k.strip() for k in str(raw).split(",") if k.strip()]
    unknown = [k for k in keys if k not in controls.BY_KEY]
    if unknown:
        notes.append(f"{what}: ignored unknown control(s) {', '.join(repr(k) for k in unknown[:5])}.")
    return frozenset(k for k in keys if k in controls.BY_KEY)


def parse_lesson(query: Mapping[str, object]) -> tuple[Lesson, list[str]]:
    """The lesson part of a URL query; malformed parts are dropped with a note."""
    notes: list[str] = []
    get = lambda k: query.get(k)[-1] if isinstance(query.get(k), list) else query.get(k)  # noqa: E731
    hidden = _keys(get("hide") or "", "Hidden controls", notes)
    locked = _keys(get("lock") or "", "Locked controls", notes)
    goal_loss = goal_epochs = None
    if get("goal_loss") is not None:
        try:
            goal_loss = float(get("goal_loss"))
            if not math.isfinite(goal_loss) or goal_loss <= 0:
                raise ValueError
        except (TypeError, ValueError):
            notes.append(f"Challenge: the target loss {get('goal_loss')!r} is not a positive number; no challenge.")
            goal_loss = None
    if goal_loss is not None and get("goal_epochs") is not None:
        try:
            goal_epochs = int(float(get("goal_epochs")))
            if not 1 <= goal_epochs <= engine.MAX_EPOCHS:
                raise ValueError
        except (TypeError, ValueError):
            notes.append(
                f"Challenge: {get('goal_epochs')!r} epochs is not a whole number from 1 to "
                f"{engine.MAX_EPOCHS}; the challenge has no epoch limit."
            )
            goal_epochs = None
    return Lesson(hidden, locked, goal_loss, goal_epochs), notes


@dataclass(frozen=True)
class ChallengeResult:
    met: bool
    message: str


def check_challenge(lesson: Lesson, history: engine.History) -> ChallengeResult | None:
    """Did the run bring the full-data loss below the target within the allowed epochs?"""
    if lesson.goal_loss is None:
        return None
    target = lesson.goal_loss
    limit = len(history.loss) - 1 if lesson.goal_epochs is None else lesson.goal_epochs * history.steps_per_epoch
    within = history.loss[: limit + 1]
    below = [k for k, v in enumerate(within) if v < target]
    where = f" within {lesson.goal_epochs} epochs" if lesson.goal_epochs is not None else ""
    if below:
        k = below[0]
        return ChallengeResult(
            True, f"Challenge met: the loss fell below {target:g} at step {k} (epoch {history.epoch_of(k):.3g}){where}."
        )
    best = float(within.min()) if len(within) else math.inf
    return ChallengeResult(
        False,
        f"Not yet: the goal is a loss below {target:g}{where}; this run's best there "
        f"was {best:.4g}. Change the settings and try again.",
    )


def lesson_url(base: str, values: Mapping, lesson: Lesson) -> str:
    """The link a teacher pastes into a slide: the run's controls plus the lesson."""
    query = {**controls.to_query(values), **lesson.query()}
    return f"{base.rstrip('/')}/?{urlencode(query)}"  # the playground is the default page: served at the root
