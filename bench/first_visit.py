"""Bytes a student's browser downloads on a first visit of the playground: straight from Streamlit, and through the
classroom set-up's nginx (deploy/start.sh), which gzips JavaScript and CSS.

    python bench/first_visit.py                 # one process behind nginx; each way measured twice
    python bench/first_visit.py --runs 3 --query "lr=0.1&momentum=0.5"

Starts deploy/start.sh with one Streamlit process (nginx must be installed: scripts/install_nginx.sh). For each
way in, a fresh Chromium context (an empty cache, as a student's first visit) opens the playground, waits for the
live figure and an idle app, then two seconds more for late requests. Chrome's DevTools protocol counts what
crossed the network: `encodedDataLength` of every HTTP response (headers and body as sent) and the websocket's
frames. It prints requests, megabytes on the wire and decoded, per way, and the class start: 30 students times
the first visit. Everything started is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from bench.loadtool.servers import ProxySetup, nginx_available  # noqa: E402
from tests.e2e.helpers import APP_IDLE, CHROMIUM_ARGS, FIGURE, chromium_executable  # noqa: E402

CLASS_SIZE = 30
VIEWPORT = {"width": 1400, "height": 900}


@dataclass
class Visit:
    """What one first visit downloaded."""

    requests: int = 0
    wire: int = 0  # HTTP bytes as sent (compressed where the server compressed), headers included
    decoded: int = 0  # HTTP bodies after decompression
    websocket: int = 0  # payload bytes of the websocket's frames, both ways
    gzipped: int = 0  # responses that came with Content-Encoding: gzip
    by_type: dict[str, int] = field(default_factory=dict)  # wire bytes per resource type


def first_visit(browser: Browser, url: str, timeout_ms: float) -> Visit:
    """Open `url` in a fresh context (empty cache) and count what crossed the network until the figure is up."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        visit, kinds = Visit(), {}

        def on_response(event: dict) -> None:
            kinds[event["requestId"]] = event.get("type", "Other")
            headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
            if headers.get("content-encoding") == "gzip":
                visit.gzipped += 1

        def on_data(event: dict) -> None:
            visit.decoded += event.get("dataLength", 0)

        def on_finished(event: dict) -> None:
            visit.requests += 1
            size = int(event.get("encodedDataLength", 0))
            visit.wire += size
            kind = kinds.get(event["requestId"], "Other")
            visit.by_type[kind] = visit.by_type.get(kind, 0) + size

        def on_frame(event: dict) -> None:
            visit.websocket += len(event["response"].get("payloadData", ""))

        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.dataReceived", on_data)
        cdp.on("Network.loadingFinished", on_finished)
        cdp.on("Network.webSocketFrameReceived", on_frame)
        cdp.on("Network.webSocketFrameSent", on_frame)
        page.goto(url, timeout=timeout_ms)
        page.locator(FIGURE).first.wait_for(state="visible", timeout=timeout_ms)
        page.locator(APP_IDLE).wait_for(timeout=timeout_ms)
        time.sleep(2.0)  # late requests (fonts, lazily loaded chunks)
        return visit
    finally:
        context.close()


def mb(n: float) -> str:
    return f"{n / 1e6:6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="first visits per way in (default 2)")
    parser.add_argument("--query", default="", help="the playground link's query string (default: none)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the figure (default 120)")
    args = parser.parse_args()
    if not nginx_available():
        sys.exit("nginx is needed (bash scripts/install_nginx.sh)")

    proxy = ProxySetup(processes=1, run_dir=Path(tempfile.mkdtemp(prefix="first-visit-")) / "deploy")
    results: dict[str, list[Visit]] = {"Streamlit directly": [], "through nginx": []}
    try:
        print("starting deploy/start.sh (one process behind nginx) ...", flush=True)
        proxy.start(timeout=240)
        ways = {
            "Streamlit directly": f"http://127.0.0.1:{proxy.backend_ports()[0]}/",
            "through nginx": f"{proxy.url}/",
        }
        with sync_playwright() as pw:
            executable = chromium_executable()
            launch = {"args": CHROMIUM_ARGS, **({"executable_path": executable} if executable else {})}
            browser = pw.chromium.launch(**launch)
            try:
                for _ in range(args.runs):
                    for way, base in ways.items():  # alternate, so both see a warm server alike
                        visit = first_visit(
                            browser, base + (f"?{args.query}" if args.query else ""), args.timeout * 1e3
                        )
                        results[way].append(visit)
                        print(f"  {way:<20} {visit.requests:4d} requests  {mb(visit.wire)} MB on the wire", flush=True)
                version = browser.version
            finally:
                browser.close()
    finally:
        proxy.stop()

    print(f"\nFirst visit of the playground (Chromium {version}; medians of {args.runs}; MB = 10^6 bytes)\n")
    print("| way in | requests | gzipped | MB on the wire | MB decoded | websocket MB | a class of 30, MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    medians = {}
    for way, visits in results.items():
        wire = statistics.median(v.wire for v in visits)
        medians[way] = wire
        print(
            f"| {way} | {statistics.median(v.requests for v in visits):.0f} | "
            f"{statistics.median(v.gzipped for v in visits):.0f} | {mb(wire)} | "
            f"{mb(statistics.median(v.decoded for v in visits))} | "
            f"{mb(statistics.median(v.websocket for v in visits))} | {CLASS_SIZE * wire / 1e6:.0f} |"
        )
    direct, proxied = medians["Streamlit directly"], medians["through nginx"]
    print(f"\nthrough nginx: {proxied / direct:.2f}x the bytes of a direct first visit")
    for way, visits in results.items():
        kinds = visits[-1].by_type
        top = ", ".join(f"{k} {mb(v).strip()}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:5])
        print(f"  {way}: {top} (MB on the wire by resource type, last visit)")


if __name__ == "__main__":
    main()
