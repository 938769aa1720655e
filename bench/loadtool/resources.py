"""Memory and CPU of processes, read from /proc (Linux): the servers under load, their workers included.

Resident memory (VmRSS) and CPU seconds of one process, the CPU the whole machine used, a process's descendants
(the playground's training workers), and `ProcSampler`, which samples the servers once a second during a load.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
    """These processes and every process below them (the playground's training workers, server/worker.py), from the
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
