"""Teacher links: which controls a class sees (hidden or locked), and an optional challenge with its check.

Like TensorFlow Playground's hide flags, a lesson lives in the URL next to the controls:
    ?lr=0.5&...&hide=method,optimizer&lock=dataset,epochs&goal_loss=0.5&goal_epochs=50&class=K7QM2XHC
`class` is a class board's code (board/keys.py): students on that link may share a run with their class. The
teacher's board has a link of its own (`board_query`), with the secret teacher key.
Pure Python (no streamlit), so it is unit-testable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import engine
from settings import controls

CLASS_PARAM, KEY_PARAM = "class", "key"
LESSON_KEYS = ("hide", "lock", "goal_loss", "goal_epochs", CLASS_PARAM)
# A class code as board/keys.py makes it: 8 characters of this alphabet (no 0/O, 1/I/L); typed in any case, with
# spaces or dashes (tests/unit/test_lesson.py checks this against board.keys).
CLASS_CODE = re.compile(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}")
BOARD_PATH = "class-board"  # the class board page's url_path (app.py)
# the pages a lesson link may open (their url_path in app.py; "" is the playground, at the root) and their titles
LESSON_PAGES = {"": "Playground", "overfitting": "Overfitting & regularization"}


@dataclass(frozen=True)
class Lesson:
    """What the teacher fixed for this link."""

    hidden: frozenset = field(default_factory=frozenset)
    locked: frozenset = field(default_factory=frozenset)
    goal_loss: float | None = None
    goal_epochs: int | None = None
    class_code: str | None = None  # a class board's code: the student may share runs with that class

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
        if self.class_code is not None:
            out[CLASS_PARAM] = self.class_code
        return out


def normalize_class_code(raw: object) -> str | None:
    """A class code as stored (upper case, no spaces or dashes), or None when `raw` cannot be one."""
    if not isinstance(raw, str):
        return None
    code = raw.strip().upper().replace("-", "").replace(" ", "")
    return code if CLASS_CODE.fullmatch(code) else None


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
    class_code = None
    if get(CLASS_PARAM):
        class_code = normalize_class_code(get(CLASS_PARAM))
        if class_code is None:
            shown = str(get(CLASS_PARAM))[:20]
            notes.append(
                f"Class: {shown!r} is not a class code (8 letters and digits, e.g. K7QM2XHC); sharing with a class "
                "is off. Ask your teacher for the link again."
            )
    return Lesson(hidden, locked, goal_loss, goal_epochs, class_code), notes


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


def lesson_query(values: Mapping, lesson: Lesson) -> str:
    """The playground's query string for these controls and this lesson (the class code included when it has one)."""
    return urlencode({**controls.to_query(values), **lesson.query()})


def lesson_url(base: str, values: Mapping, lesson: Lesson, page: str = "") -> str:
    """The link a teacher pastes into a slide: the run's controls plus the lesson, on one of LESSON_PAGES (the
    playground, the default page, at the root)."""
    if page not in LESSON_PAGES:
        raise ValueError(f"a lesson link opens one of {sorted(LESSON_PAGES)}, not {page!r}")
    return f"{base.rstrip('/')}/{page}?{lesson_query(values, lesson)}"


def board_url(base: str, class_code: str, teacher_key: str) -> str:
    """The teacher's link to the class board: the class code and the secret teacher key."""
    return f"{base.rstrip('/')}/{BOARD_PATH}?{urlencode({CLASS_PARAM: class_code, KEY_PARAM: teacher_key})}"
