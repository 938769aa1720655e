"""What a shared run holds: its settings and its outcome, and the time it was shared; nothing about the student."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass

from board import rules
from board.errors import Refused

STEP_MAX = 10_000_000  # far above the engine's caps: a sanity bound on what a request can store


def _finite(value: object, what: str, low: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(f"The run's {what} is not a number.")
    number = float(value)
    if not math.isfinite(number) or (low is not None and number < low):
        raise Refused(f"The run's {what} ({value}) is out of range.")
    return number


def _count(value: object, what: str, optional: bool = False, low: int = 0) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= STEP_MAX:
        raise Refused(f"The run's {what} ({value!r}) is not a whole number in range.")
    return int(value)


@dataclass(frozen=True)
class SharedRun:
    """One run as a student shares it. Settings: learning rate, momentum, epochs, method, optimizer, batch size
    (None: full batch), start ('zeros', 'random' or the starting parameters as text), the run's playground query
    string (opens it again, e.g. on the projector). Outcome: the final loss (None when it blew up), whether and at
    which step it diverged, the steps it took to converge (None: it did not), whether it met the lesson's
    challenge (None: no challenge). Invalid values raise `board.Refused`."""

    lr: float
    momentum: float
    epochs: int
    method: str
    optimizer: str
    batch_size: int | None
    start: str
    final_loss: float | None
    diverged: bool
    diverged_at: int | None = None
    steps_to_converge: int | None = None
    challenge_met: bool | None = None
    query: str = ""

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "lr", _finite(self.lr, "learning rate", low=0.0))
        put(self, "momentum", _finite(self.momentum, "momentum", low=0.0))
        put(self, "epochs", _count(self.epochs, "number of epochs", low=1))
        put(self, "method", rules.clean_name(self.method, "method"))
        put(self, "optimizer", rules.clean_name(self.optimizer, "optimizer"))
        put(self, "batch_size", _count(self.batch_size, "batch size", optional=True, low=1))
        if not isinstance(self.start, str) or not 0 < len(self.start) <= 64:
            raise Refused("The run's start is not one the playground uses.")
        put(self, "start", rules.strip_controls(self.start))
        loss = self.final_loss
        if loss is not None:
            if isinstance(loss, bool) or not isinstance(loss, int | float):
                raise Refused("The run's final loss is not a number.")
            loss = float(loss) if math.isfinite(loss) else None  # a run that blew up has no final loss
        put(self, "final_loss", loss)
        for name in ("diverged", "challenge_met"):
            value = getattr(self, name)
            if not (isinstance(value, bool) or (value is None and name == "challenge_met")):
                raise Refused(f"The run's {name.replace('_', ' ')} is not yes or no.")
        put(self, "diverged_at", _count(self.diverged_at, "step of divergence", optional=True))
        put(self, "steps_to_converge", _count(self.steps_to_converge, "steps to converge", optional=True))
        put(self, "query", rules.clean_query(self.query, "run's link"))

    def fields(self) -> dict[str, object]:
        """The run as a dict of its fields (the database's columns of the same names)."""
        return dataclasses.asdict(self)

    def settings_digest(self) -> str:
        """A digest of the settings: the same run shared twice from one session is one run."""
        settings = {k: v for k, v in self.fields().items() if k in SETTINGS}
        text = json.dumps(settings, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


SETTINGS = ("lr", "momentum", "epochs", "method", "optimizer", "batch_size", "start", "query")
OUTCOME = ("final_loss", "diverged", "diverged_at", "steps_to_converge", "challenge_met")
