"""Classroom load test: N simulated students talk to the playground the way browsers do (protocol level).

    python bench/load_test.py                                  # 10 students, 60 s, the playground in one process
    python bench/load_test.py --students 1,10,30 --duration 60 --app trivial
    python bench/load_test.py --students 30 --processes 2      # two processes, students spread round-robin
    python bench/load_test.py --students 30 --proxy            # deploy/start.sh: one process per core behind nginx
    python bench/load_test.py --url http://127.0.0.1:8080 --pids 1234,1235 --students 5
    python bench/load_test.py --matrix --students 1,10,30      # playground, trivial apps and nginx set-up in a row
    python bench/load_test.py --students 30 --shared-link --share   # a class board: every 4th interaction shares

Each student opens the page with a query string of its own (`lr=0.1&seed=<student>`, so the run cache cannot
hand one student another's run), then, after a think time (uniform 2-5 s), moves one slider to a run it has not
tried (the learning rate; every third time the momentum instead) and waits for the run to finish. Every
interaction is checked: the page must say "Learning rate OLD → NEW" (or "Momentum OLD → NEW") and show a Final
loss (trivial app: "value = N"). It reports the
latency from sending the new value to `script_finished` (p50/p95/p99), errors (exceptions in the page, protocol
errors, websocket errors, timeouts), interactions that did not take effect, bytes received per interaction, and
the server processes' CPU and resident memory (from /proc) before, during and after the sessions.

Each set-up and student count gets fresh servers, warmed up by one session first (a teacher opening the link).
Servers this tool starts are stopped at the end, also on Ctrl-C, SIGTERM or an error. Traffic goes only to
127.0.0.1 unless --url says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.loadtool.classroom import fill_cache, run_load, ttl_probe, warm_up  # noqa: E402
from bench.loadtool.profiles import PROFILES, TRIVIAL_APP, TRIVIAL_NODELAY_APP  # noqa: E402
from bench.loadtool.report import TABLE_HEADER, LoadReport, kinds_row, table_row  # noqa: E402
from bench.loadtool.resources import total_rss  # noqa: E402
from bench.loadtool.servers import ProxySetup, StreamlitServer, free_port_range, nginx_available  # noqa: E402

DEFAULT_RESULTS = REPO_ROOT / "bench" / "results"  # git-ignored


@dataclass
class SetUp:
    """Where the students go: their URLs, the URLs to warm up, the server PIDs to watch, a label."""

    label: str
    urls: list[str]
    warm_urls: list[str]
    pids: list[int]
    processes: int
    logs: list[Path] = field(default_factory=list)


def app_script(app: str, tmp: Path) -> Path:
    if app == "playground":
        return REPO_ROOT / "app.py"
    script = tmp / f"{app.replace('-', '_')}_app.py"
    script.write_text(TRIVIAL_NODELAY_APP if app == "trivial-nodelay" else TRIVIAL_APP)
    return script


@contextlib.contextmanager
def direct_setup(app: str, processes: int, tmp: Path) -> Iterator[SetUp]:
    """K `streamlit run` processes on consecutive ports; the students are spread over them round-robin."""
    base = free_port_range(processes)
    script = app_script(app, tmp)
    servers = [StreamlitServer(script, base + i, tmp / f"streamlit-{base + i}.log") for i in range(processes)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_healthy(timeout=180)
        urls = [s.url for s in servers]
        label = f"{app} {processes} proc" + ("s" if processes > 1 else "")
        yield SetUp(label, urls, urls, [s.pid for s in servers], processes, [s.log for s in servers])
    except BaseException:
        for server in servers:
            print(f"--- {server.log.name} (tail) ---\n{server.log_tail(2000)}", file=sys.stderr)
        raise
    finally:
        for server in servers:
            server.stop()


@contextlib.contextmanager
def proxy_setup(app: str, processes: int, tmp: Path, holder: list | None = None) -> Iterator[SetUp]:
    """deploy/start.sh: K processes behind nginx; every student goes through nginx."""
    if not nginx_available():
        raise SystemExit("nginx is not installed: run `bash scripts/install_nginx.sh` (Debian: apt-get install nginx)")
    script = app_script(app, tmp)
    proxy = ProxySetup(processes, tmp / f"deploy-{processes}", app=str(script))
    try:
        proxy.start()
        if holder is not None:
            holder.append(proxy)
        warm = [f"http://127.0.0.1:{p}" for p in proxy.backend_ports()]
        logs = sorted(proxy.run_dir.glob("streamlit-*.log"))
        yield SetUp(f"{app} nginx x{processes}", [proxy.url], warm, proxy.backend_pids(), processes, logs)
    except BaseException:
        print(f"--- deploy/start.sh output (tail) ---\n{proxy.log_tail(3000)}", file=sys.stderr)
        raise
    finally:
        proxy.stop()


@contextlib.contextmanager
def url_setup(urls: list[str], pids: list[int]) -> Iterator[SetUp]:
    yield SetUp(f"{urls[0]}", urls, urls, pids, len(pids) or len(urls))


@contextlib.contextmanager
def py_spy(pids: list[int], seconds: float, out_dir: Path | None, label: str) -> Iterator[None]:
    """Optionally sample the servers' stacks with py-spy while the load runs (collapsed stacks, one file each)."""
    procs = []
    if out_dir is not None:
        exe = shutil.which("py-spy")
        if exe is None:
            raise SystemExit("--py-spy needs py-spy: pip install py-spy")
        out_dir.mkdir(parents=True, exist_ok=True)
        for pid in pids:
            out = out_dir / f"{label.replace(' ', '_')}-{pid}.txt"
            rate = os.environ.get("PY_SPY_RATE", "50")  # samples per second
            # --gil: only the thread that holds the GIL; PY_SPY_ALL=1 samples every running thread
            gil = [] if os.environ.get("PY_SPY_ALL") else ["--gil"]
            cmd = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--format", "raw", "--rate", rate]
            cmd += [*gil, "--nonblocking", "--output", str(out)]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
    try:
        yield
    finally:
        for proc in procs:
            try:
                proc.wait(timeout=seconds + 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# Where a sampled stack's time goes: the first bucket (in this order) with a frame that holds one of the marks.
# py-spy names files relative to the repository or to site-packages: "(engine/train.py:75)", "(plotly/io/...)".
PY_SPY_BUCKETS = (
    ("training (engine/, torch)", ("(engine/", "(torch/")),
    ("figure <-> JSON spec (charts to_spec/from_spec)", ("to_spec (charts/", "from_spec (charts/")),
    ("figure build (charts/, plotly objects)", ("(charts/",)),
    ("st.plotly_chart: figure to JSON, protobuf", ("plotly_chart.py", "(plotly/io", "(plotly/")),
    ("downloads: CSV and JSON of the run (ui/tabular.py)", ("(ui/tabular.py", "download_button")),
    ("st.cache_data: hashing, pickled copies", ("(streamlit/runtime/caching/",)),
    ("readouts and explanations (ui/)", ("(ui/",)),
    ("other Streamlit elements and widgets", ("(streamlit/elements/",)),
    ("script runner, session state, messages", ("(streamlit/runtime/",)),
    ("server: event loop, websocket, HTTP", ("(uvicorn/", "(starlette/", "(websockets/", "(asyncio/", "/web/")),
)


def summarize_py_spy(path: Path) -> list[tuple[str, float]]:
    """Shares of the sampled (non-idle) stacks per bucket, from py-spy's raw (collapsed) output."""
    totals: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        matches = (name for name, marks in PY_SPY_BUCKETS if any(m in f for f in frames for m in marks))
        bucket = next(matches, "other (imports, gc, ...)")
        totals[bucket] = totals.get(bucket, 0) + int(count)
    whole = sum(totals.values()) or 1
    return sorted(((name, n / whole) for name, n in totals.items()), key=lambda item: -item[1])


def run_one(args, app: str, setup_kind: str, students: int) -> LoadReport:
    with tempfile.TemporaryDirectory(prefix="load_test_") as tmp_name:
        tmp = Path(tmp_name)
        proxies: list[ProxySetup] = []
        if setup_kind == "url":
            setup_cm = url_setup(args.url, args.pids)
        elif setup_kind == "proxy":
            setup_cm = proxy_setup(app, args.proxy_processes, tmp, proxies)
        else:
            setup_cm = direct_setup(app, args.processes, tmp)
        with setup_cm as setup:
            if args.shared_link or args.cached:
                setup.label += " cached" if args.cached else " shared"
            board_class = None
            if args.share:  # a class on the servers' board database (the SQLite file in $PLAYGROUND_DATA_DIR)
                board_class = new_class()
                setup.label += " sharing"
            print(f"[load] {setup.label}: {students} student(s) for {args.duration:g} s ...", flush=True)
            if not args.no_warm_up:  # before the profiler starts: the app's one-off warm-up is not what we measure
                asyncio.run(warm_up(setup.warm_urls, app, args.timeout))
            if args.cached:
                runs = asyncio.run(fill_cache(setup.warm_urls, args.timeout))
                print(f"[load] {runs} runs put in the servers' caches first", flush=True)
            with py_spy(setup.pids, args.duration, args.py_spy, f"{setup.label}-{students}"):
                report = asyncio.run(
                    run_load(
                        setup.urls,
                        app,
                        students,
                        args.duration,
                        server_pids=setup.pids,
                        think=args.think,
                        timeout=args.timeout,
                        ramp=args.ramp,
                        settle=args.settle,
                        rng_seed=args.seed,
                        label=setup.label,
                        processes=setup.processes,
                        warm=False,
                        shared_link=args.shared_link,
                        cached=args.cached,
                        class_code=board_class.code if board_class else None,
                    )
                )
            if board_class is not None:
                on_board = board_runs(board_class)
                print(f"[load] class board {board_class.code}: {on_board} runs on it", flush=True)
            if report.errors or report.not_applied:  # the tracebacks are in the server logs, gone after this
                for log in setup.logs:
                    text = log.read_text(errors="replace") if log.exists() else ""
                    if "Traceback" in text:
                        print(f"--- {log.name}: last traceback ---\n{text[text.rindex('Traceback') :][:3000]}")
            if args.py_spy is not None:
                for path in sorted(args.py_spy.glob(f"{setup.label.replace(' ', '_')}-{students}-*.txt")):
                    print(f"[py-spy] {path.name}: share of sampled server time")
                    for name, share in summarize_py_spy(path):
                        print(f"    {share * 100:5.1f} %  {name}")
            if args.ttl_probe and setup_kind != "url":
                wait = 125.0
                print(f"[load] waiting {wait:.0f} s for Streamlit to drop the closed sessions ...", flush=True)
                asyncio.run(ttl_probe(setup.warm_urls[0], wait, args.timeout))
                report.rss_settled = total_rss(setup.pids)
            if args.recycle_probe is not None and proxies:
                timeout = args.recycle_probe + 180
                print(f"[load] waiting up to {timeout:.0f} s for every idle process to be replaced ...", flush=True)
                t0 = time.monotonic()
                pids = proxies[0].wait_replaced(setup.pids, timeout)
                print(f"[load] replaced after {time.monotonic() - t0:.0f} s: pids {setup.pids} -> {pids}", flush=True)
                asyncio.run(warm_up(setup.warm_urls, app, args.timeout))  # as before the baseline
                time.sleep(args.settle)
                report.rss_settled = total_rss(pids)
        return report


def new_class():
    """A class on the board database the servers use ($PLAYGROUND_DATA_DIR's SQLite file), for --share."""
    from sqlalchemy import create_engine

    import board

    engine = create_engine(board.default_url())
    board.prepare(engine)
    return board.create_class(engine, "lr=0.1")


def board_runs(keys) -> int:
    """How many runs the class's board holds (each share the students saw confirmed is one)."""
    from sqlalchemy import create_engine

    import board

    return len(board.read_board(create_engine(board.default_url()), keys.code, keys.teacher_key).runs)


def parse_think(text: str) -> tuple[float, float]:
    lo, _, hi = text.partition(",")
    lo_f, hi_f = float(lo), float(hi or lo)
    if not 0 <= lo_f <= hi_f:
        raise argparse.ArgumentTypeError("--think takes MIN,MAX seconds with 0 <= MIN <= MAX")
    return lo_f, hi_f


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--url", type=lambda s: s.split(","), help="existing server(s), comma-separated")
    parser.add_argument("--pids", type=lambda s: [int(p) for p in s.split(",")], default=[], help="their PIDs")
    parser.add_argument("--students", type=lambda s: [int(n) for n in s.split(",")], default=[10])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of interactions per run (60)")
    parser.add_argument("--app", choices=sorted(PROFILES), default="playground")
    parser.add_argument("--processes", type=int, default=1, help="server processes, students round-robin (1)")
    parser.add_argument("--proxy", action="store_true", help="deploy/start.sh: processes behind nginx")
    parser.add_argument(
        "--proxy-processes", type=int, default=os.cpu_count() or 2, help="processes behind nginx (cores)"
    )
    parser.add_argument(
        "--matrix",
        action="store_true",
        help="playground, the trivial app (plain, and with Nagle off), the nginx set-up",
    )
    parser.add_argument("--think", type=parse_think, default=(2.0, 5.0), help="think time MIN,MAX s (2,5)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one run may take (60)")
    parser.add_argument("--ramp", type=float, default=3.0, help="students arrive over this many seconds (3)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the sessions close to read RSS")
    parser.add_argument("--ttl-probe", action="store_true", help="also read RSS after Streamlit drops sessions")
    parser.add_argument(
        "--recycle-probe",
        type=float,
        metavar="S",
        help="--proxy: the processes stop after S s without a student (server/recycle.py); read RSS once start.sh has"
        " replaced them all and they are warmed up",
    )
    parser.add_argument("--no-warm-up", action="store_true", help="no warm-up session before the students")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the students' choices")
    parser.add_argument(
        "--shared-link",
        action="store_true",
        help="playground: every student opens the same link (default data), so the run cache can answer repeats",
    )
    parser.add_argument(
        "--cached",
        action="store_true",
        help="playground: the shared link, learning-rate moves only, every run put in the cache first (the floor of a"
        " move that needs a rerun but no training)",
    )
    parser.add_argument(
        "--share",
        action="store_true",
        help="playground: the students' link of a class board; every 4th interaction shares the run on screen (a"
        " fresh SQLite board in a temporary PLAYGROUND_DATA_DIR)",
    )
    parser.add_argument("--py-spy", type=Path, help="record the servers with py-spy into this folder")
    parser.add_argument("--json", type=Path, help="write the results here (default bench/results/load-*.json)")
    args = parser.parse_args()
    if args.url and (args.proxy or args.matrix or args.processes != 1):
        parser.error("--url targets existing servers: no --proxy, --matrix or --processes with it")
    if args.processes < 1 or args.proxy_processes < 1 or min(args.students) < 1:
        parser.error("--processes, --proxy-processes and --students must be at least 1")
    if (args.shared_link or args.cached) and (args.app != "playground" or args.matrix):
        parser.error("--shared-link and --cached are for the playground, without --matrix")
    if args.share:
        if args.app != "playground" or args.matrix or args.url:
            parser.error("--share is for the playground on servers this tool starts, without --matrix")
        os.environ["PLAYGROUND_DATA_DIR"] = tempfile.mkdtemp(prefix="load_board_")  # the servers inherit it
    if args.recycle_probe is not None:
        if not args.proxy or args.app != "playground" or args.recycle_probe <= 0:
            parser.error("--recycle-probe S (S > 0) is for the playground with --proxy")
        os.environ["PLAYGROUND_RECYCLE_IDLE_S"] = f"{args.recycle_probe:g}"  # deploy/start.sh passes it on
    if args.proxy:
        args.proxy_processes = args.processes if args.processes > 1 else args.proxy_processes

    if args.matrix:
        cases = [
            ("playground", "direct"),
            ("trivial", "direct"),
            ("trivial-nodelay", "direct"),
            ("playground", "proxy"),
        ]
        args.processes = 1
    elif args.url:
        cases = [(args.app, "url")]
    else:
        cases = [(args.app, "proxy" if args.proxy else "direct")]

    # SIGTERM (a CI timeout, `kill`) ends through the `finally` blocks, like Ctrl-C, so every server stops.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    reports: list[LoadReport] = []
    started = time.time()
    try:
        for app, kind in cases:
            for n in args.students:
                report = run_one(args, app, kind, n)
                reports.append(report)
                print(TABLE_HEADER)
                print(table_row(report), flush=True)
                print(kinds_row(report), flush=True)
                for problem in (report.errors + report.not_applied)[:5]:
                    print(f"    ! {problem}")
    finally:
        if reports:
            print_summary(reports, args)
            save(reports, args, started)


def print_summary(reports: list[LoadReport], args) -> None:
    la = os.getloadavg()
    print()
    print(
        f"Load test: think {args.think[0]:g}-{args.think[1]:g} s, {args.duration:g} s per run, {os.cpu_count()} CPUs, "
        f"load average now {la[0]:.1f}; latency = new value sent -> script_finished; RSS in MB, summed over processes"
    )
    print(TABLE_HEADER)
    for report in reports:
        print(table_row(report))
    print(
        "(inter: interactions; err: errors; n/a: interactions whose change did not show; load p95: first page load;\n"
        " cpu/int: server CPU seconds per interaction; srv / cli / other: cores used by the servers, by this tool and\n"
        " by everything else on the machine during the run; settled: RSS after the sessions closed)"
    )
    for floor in ("trivial", "trivial-nodelay"):
        trivial = {r.students: r for r in reports if r.app == floor}
        for r in reports:
            t = trivial.get(r.students)
            if r.app == "playground" and t is not None:
                ratio = r.latency()["p95"] / t.latency()["p95"]
                print(f"  {r.label}, {r.students} students: p95 / {floor} p95 = {ratio:.1f}")


def save(reports: list[LoadReport], args, started: float) -> None:
    path = args.json or DEFAULT_RESULTS / time.strftime("load-%Y%m%d-%H%M%S.json", time.localtime(started))
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "cpus": os.cpu_count(),
        "think_s": args.think,
        "duration_s": args.duration,
        "runs": [r.as_dict() for r in reports],
    }
    path.write_text(json.dumps(payload, indent=1, default=str))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
