"""What a load leaves and how it is told: each student's log, percentiles, the report as a dict and as a table.

`Interaction` and `StudentLog` are the records classroom.py writes; `LoadReport` sums them up with the servers'
memory and CPU (latency p50/p95/p99, by kind of move, by how many other moves were under way meanwhile; errors,
moves that did not take effect, bytes, CPU per move); `as_dict` is the JSON, `table_row` and `kinds_row` the
printed table.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

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


# ---------------------------------------------------------------------------------------------------- the records


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


# ---------------------------------------------------------------------------------------------------- the report


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
