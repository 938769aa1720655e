"""The classroom set-up under load, and a server restart (slow: they start real servers).

- deploy/start.sh with two processes behind nginx; five simulated students for 20 s through nginx: no errors,
  every interaction took effect, and every student stayed on one process (sticky cookie).
- One server, a session opened from a link; the server is killed and started again; the same link shows the same
  numbers (the URL holds the run).
- nginx gzips the JavaScript and CSS that Streamlit sends uncompressed, and passes on their long cache lifetimes.
- After a class, the idle process stops itself (server/recycle.py), start.sh replaces it, and the memory is back at
  its baseline; and the same for one process started with scripts/serve.py, which restarts itself in place.

Nothing is skipped: without nginx, scripts/install_nginx.sh is run, and if that cannot install it the test fails
and says how to install it.
"""

from __future__ import annotations

import collections
import contextlib
import gzip
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from bench.loadtool.classroom import run_load, warm_up
from bench.loadtool.messages import RunResult
from bench.loadtool.report import TABLE_HEADER, table_row
from bench.loadtool.resources import proc_rss_bytes, total_rss, with_descendants
from bench.loadtool.servers import ProxySetup, StreamlitServer, free_port, nginx_available
from bench.loadtool.session import Session, run_coroutine

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def nginx() -> str:
    """nginx's path; installed with scripts/install_nginx.sh when missing."""
    found = nginx_available()
    if found:
        return found
    run = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "install_nginx.sh")], capture_output=True, text=True, timeout=600
    )
    found = nginx_available()
    if not found:
        pytest.fail(
            "nginx is needed for the classroom set-up test and could not be installed.\n"
            "Install it (Debian: `sudo apt-get install nginx`, or `bash scripts/install_nginx.sh`) and run again.\n"
            f"--- scripts/install_nginx.sh ---\n{run.stdout}\n{run.stderr}"
        )
    return found


@contextlib.contextmanager
def running(proxy: ProxySetup) -> Iterator[ProxySetup]:
    """deploy/start.sh started; its output printed if anything fails; everything stopped in any case."""
    try:
        proxy.start(timeout=240)
        yield proxy
    except BaseException:
        print(proxy.log_tail())
        raise
    finally:
        proxy.stop()


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_nginx_set_up_serves_five_students_without_errors(nginx, tmp_path):
    with running(ProxySetup(processes=2, run_dir=tmp_path / "deploy")) as proxy:
        ports = proxy.backend_ports()
        assert len(ports) == 2 and len(proxy.backend_pids()) == 2
        report = run_coroutine(
            run_load(
                [proxy.url],
                "playground",
                students=5,
                duration=20,
                server_pids=proxy.backend_pids(),
                warm_urls=[f"http://127.0.0.1:{p}" for p in ports],
                timeout=90,
                settle=1,
                processes=2,
                label="nginx x2",
            )
        )
        log = (tmp_path / "deploy" / "nginx-access.log").read_text()

    print(TABLE_HEADER)
    print(table_row(report))
    assert report.errors == []
    assert report.not_applied == []
    inter = report.interactions
    assert len(inter) >= 5 * 2, f"only {len(inter)} interactions in 20 s"
    assert all(i.applied for i in inter)
    assert all(log.load_latency is not None for log in report.logs), "a student never loaded the page"
    # Sticky: every request that carried a route cookie went to one process per cookie.
    upstreams = collections.defaultdict(set)
    for line in log.splitlines():
        found = re.search(r" route=(\S+) upstream=(.*)$", line)
        if found and found[1] != "-":
            upstreams[found[1]].add(found[2])
    assert len(upstreams) >= 5, f"expected a route cookie per student; log:\n{log[-2000:]}"
    assert all(len(u) == 1 for u in upstreams.values()), dict(upstreams)
    # Everything was stopped.
    assert not list((tmp_path / "deploy").glob("*.pid"))
    assert all(proc_rss_bytes(pid) == 0 for pid in proxy.backend_pids())


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_restarted_server_shows_the_same_run_for_the_same_link(tmp_path):
    query = "lr=0.05&momentum=0.5&epochs=100&seed=4242"
    server = StreamlitServer(REPO_ROOT / "app.py", free_port(), tmp_path / "server.log")

    async def open_link(previous_session: str | None = None) -> tuple[RunResult, str | None]:
        session = Session(server.url)
        try:
            await session.open(timeout=60, previous_session_id=previous_session)
            result = await session.run(query_string=query, timeout=120)
            return result, session.session_id
        finally:
            await session.close()

    try:
        server.start()
        server.wait_healthy(timeout=180)
        before, session_id = run_coroutine(open_link())
        assert before.ok, before.exceptions
        server.kill()  # a crash, not a clean shutdown
        server.start()
        server.wait_healthy(timeout=180)
        # The browser reconnects with its old session id; the new process does not know it and starts afresh.
        after, _ = run_coroutine(open_link(session_id))
        assert after.ok, after.exceptions
    except BaseException:
        print(server.log_tail())
        raise
    finally:
        server.stop()

    assert set(before.metrics) >= {"Steps", "Final loss", "Best possible loss", "R²"}
    assert after.metrics == before.metrics
    params = [t for t in before.texts if t.startswith("Parameters now")]
    assert params and params == [t for t in after.texts if t.startswith("Parameters now")]
    assert after.query_string == before.query_string and "lr=0.05" in before.query_string


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_after_a_class_an_idle_process_is_replaced_and_memory_returns_to_its_baseline(nginx, tmp_path):
    """server/recycle.py with deploy/start.sh: a class grows the process; once nobody is connected it stops itself,
    start.sh starts and warms up a fresh one, and the memory is back where it was before the class."""
    idle_s = 4
    env = {"PLAYGROUND_RECYCLE_IDLE_S": str(idle_s), "PLAYGROUND_RECYCLE_GROWTH_MB": "8"}
    with running(ProxySetup(processes=1, run_dir=tmp_path / "deploy", env=env)) as proxy:
        warm_urls = [f"http://127.0.0.1:{p}" for p in proxy.backend_ports()]
        before = proxy.backend_pids()
        # 30 s: a class that grows the process well past the 8 MB asked for (15 s grew it by 7.7-10 MB)
        report = run_coroutine(
            run_load(
                [proxy.url], "playground", students=10, duration=30, server_pids=before, warm_urls=warm_urls,
                timeout=90, settle=0.5, label="nginx x1",
            )
        )  # fmt: skip
        assert before == proxy.backend_pids(), "a process was replaced while students were connected"
        old_workers = with_descendants(before)[len(before) :]  # server/worker.py's processes
        after = proxy.wait_replaced(before, timeout=idle_s + 150)
        time.sleep(3 * idle_s)  # a fresh process that nobody uses (start.sh's own warm-up only) is left alone
        replaced_again = proxy.backend_pids() != after
        output = proxy.log_tail(20_000)
        run_coroutine(warm_up(warm_urls, "playground", 90))  # as before the class's baseline
        rss_after = total_rss(after)  # with its workers
        workers_left = [pid for pid in old_workers if proc_rss_bytes(pid)]

    print(TABLE_HEADER)
    print(table_row(report))
    print(f"RSS after the replacement: {rss_after / 1e6:.0f} MB")
    assert report.errors == [] and report.not_applied == []
    assert report.rss_end - report.rss_baseline >= 8e6, "the class did not grow the process: nothing to give back"
    assert "stopped itself" in output and "died" not in output, output
    assert old_workers and not workers_left, "the replaced process's workers stayed behind"
    assert abs(rss_after - report.rss_baseline) < 16e6, (rss_after, report.rss_baseline)
    assert not replaced_again, output


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_after_a_class_serve_py_restarts_itself_in_place_and_memory_returns_to_its_baseline(tmp_path, monkeypatch):
    """One process, no supervisor: scripts/serve.py's process execs itself once idle (same PID), warm again, and
    its memory is back where it was before the class."""
    idle_s = 4
    monkeypatch.setenv("PLAYGROUND_RECYCLE_GROWTH_MB", "8")
    launcher = [sys.executable, str(REPO_ROOT / "scripts" / "serve.py"), "--recycle-idle", str(idle_s)]
    log = tmp_path / "serve.log"
    server = StreamlitServer(REPO_ROOT / "app.py", free_port(), log, launcher=launcher)
    try:
        server.start()
        server.wait_healthy(timeout=180)
        # 30 s: a class that grows the process well past the 8 MB asked for (15 s grew it by 7.7-10 MB)
        report = run_coroutine(
            run_load(
                [server.url], "playground", students=10, duration=30, server_pids=[server.pid], timeout=90,
                settle=0.5, label="serve.py",
            )
        )  # fmt: skip
        old_workers = with_descendants([server.pid])[1:]  # server/worker.py's processes
        deadline = time.monotonic() + idle_s + 150
        while "restarting in place" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(1)
        server.wait_healthy(timeout=180)  # the new image warms up, then opens the port again
        time.sleep(3 * idle_s)  # a fresh process that nobody uses is left alone
        output = log.read_text()
        alive = server.proc.poll() is None
        run_coroutine(warm_up([server.url], "playground", 90))  # as before the class's baseline
        rss_after = total_rss([server.pid])  # with its workers
        workers_left = [pid for pid in old_workers if proc_rss_bytes(pid)]
    except BaseException:
        print(server.log_tail())
        raise
    finally:
        server.stop()

    print(TABLE_HEADER)
    print(table_row(report))
    print(f"RSS after the restart: {rss_after / 1e6:.0f} MB")
    assert report.errors == [] and report.not_applied == []
    assert report.rss_end - report.rss_baseline >= 8e6, "the class did not grow the process: nothing to give back"
    assert output.count("restarting in place") == 1, output[-3000:]
    assert alive, "the process did not survive its restart in place"
    assert old_workers and not workers_left, "the workers of the process before its restart stayed behind"
    assert abs(rss_after - report.rss_baseline) < 16e6, (rss_after, report.rss_baseline)


def fetch(url: str, accept_gzip: bool) -> tuple[bytes, Message]:
    """The body exactly as sent (urllib does not decompress) and the response's headers (any case)."""
    headers = {"Accept-Encoding": "gzip"} if accept_gzip else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        return response.read(), response.headers


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_nginx_gzips_javascript_and_css_and_keeps_their_cache_lifetime(nginx, tmp_path):
    """A first visit is about 8 MB of Streamlit's bundles, sent uncompressed by Streamlit itself (issue 27)."""
    with running(ProxySetup(processes=1, run_dir=tmp_path / "deploy")) as proxy:
        backend = f"http://127.0.0.1:{proxy.backend_ports()[0]}"
        page, page_headers = fetch(proxy.url + "/", accept_gzip=True)
        html = gzip.decompress(page) if page_headers.get("Content-Encoding") == "gzip" else page
        script = re.search(rb'<script type="module"[^>]* src="\./(static/js/[^"]+\.js)"', html)
        style = re.search(rb'<link rel="stylesheet"[^>]* href="\./(static/css/[^"]+\.css)"', html)
        assert script and style, html[:2000]
        sizes = {}
        for path in (script[1].decode(), style[1].decode()):
            direct, direct_headers = fetch(f"{backend}/{path}", accept_gzip=True)
            through, headers = fetch(f"{proxy.url}/{path}", accept_gzip=True)
            plain, plain_headers = fetch(f"{proxy.url}/{path}", accept_gzip=False)
            sizes[path] = (len(direct), len(through))
            assert "Content-Encoding" not in direct_headers  # Streamlit's own answer: uncompressed
            assert headers.get("Content-Encoding") == "gzip", dict(headers)
            assert gzip.decompress(through) == direct == plain  # the same file, only smaller on the wire
            assert len(through) < 0.4 * len(direct), (path, len(through), len(direct))
            assert "Accept-Encoding" in headers.get("Vary", ""), dict(headers)
            assert "Content-Encoding" not in plain_headers  # a client that does not ask gets plain bytes
            # The hashed bundle keeps Streamlit's year-long, immutable cache lifetime through nginx.
            cache = headers.get("Cache-Control", "")
            assert "immutable" in cache and "max-age=31536000" in cache, dict(headers)
        # The page itself must not be cached for long: a new release's bundles have new names.
        assert "no-cache" in page_headers.get("Cache-Control", ""), dict(page_headers)
    for path, (raw, sent) in sizes.items():
        print(f"{path}: {raw / 1e3:.0f} kB from Streamlit, {sent / 1e3:.0f} kB through nginx ({sent / raw:.0%})")
