"""A class under load: simulated students, each opening the page and moving a widget after every think time.

`student` is one of them (its own session, its profile's moves, every run checked and timed); `run_load` starts a
class of them against the servers (round-robin, ramped in), samples the servers' memory and CPU meanwhile and
returns a LoadReport. `warm_up` and `fill_cache` prepare the servers as a teacher would before class; `ttl_probe`
lets the servers drop the class's disconnected sessions.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import time
from collections.abc import Sequence

import websockets
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.loadtool.messages import FINISHED_OK, RunResult, select_slider_state
from bench.loadtool.profiles import PROFILES, PlaygroundProfile, Profile
from bench.loadtool.report import Interaction, LoadReport, StudentLog
from bench.loadtool.resources import ProcSampler, system_busy_seconds
from bench.loadtool.session import Session

# ---------------------------------------------------------------------------------------------------- a student


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


# ---------------------------------------------------------------------------------------------------- a class


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


def _profile_options(shared_link: bool, cached: bool, class_code: str | None) -> dict:
    """The playground profile's options (none for the trivial apps' profile, which takes none)."""
    options = {"shared_link": shared_link, "cached": cached} if shared_link or cached else {}
    return options | ({"class_code": class_code} if class_code else {})


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
    class_code: str | None = None,
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
            PROFILES[profile_name](**_profile_options(shared_link, cached, class_code)),
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
