"""Open one session on each Streamlit process so the app's warm-up runs before the first student arrives.

Streamlit runs app.py (which imports torch and calls its cached warm_up()) only when a session starts; without this,
the first student on each process waits seconds for it. deploy/start.sh calls it after the health checks:

    python deploy/warm_up.py 8501 8502 [--timeout 120]

It speaks the browser's protocol (see bench/loadtool/): GET /_stcore/health for the XSRF cookie, a websocket with
`Sec-WebSocket-Protocol: streamlit, <cookie>`, one BackMsg(rerun_script), then the wait for script_finished.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import urllib.request

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


async def warm(port: int, timeout: float) -> float:
    """One page load on 127.0.0.1:port; the seconds it took. Raises on an exception in the page or a timeout."""
    t0 = time.perf_counter()
    base = f"127.0.0.1:{port}"
    with urllib.request.urlopen(f"http://{base}/_stcore/health", timeout=timeout) as response:
        cookies = [h.split(";", 1)[0] for h in response.headers.get_all("Set-Cookie") or []]
    xsrf = next((c.split("=", 1)[1] for c in cookies if c.startswith("_streamlit_xsrf=")), "undefined")
    headers = {"Origin": f"http://{base}", **({"Cookie": "; ".join(cookies)} if cookies else {})}
    async with websockets.connect(
        f"ws://{base}/_stcore/stream",
        subprotocols=["streamlit", xsrf],
        additional_headers=headers,
        max_size=None,
        ping_interval=None,
        open_timeout=timeout,
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        await ws.send(msg.SerializeToString())
        deadline = time.monotonic() + timeout
        for _ in range(100_000):  # bounded; script_finished or the deadline ends it
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
            kind = reply.WhichOneof("type")
            if kind == "delta" and reply.delta.new_element.WhichOneof("type") == "exception":
                raise RuntimeError(f"port {port}: the page raised {reply.delta.new_element.exception.type}")
            if kind == "script_finished":
                return time.perf_counter() - t0
    raise RuntimeError(f"port {port}: no script_finished")


async def main_async(ports: list[int], timeout: float) -> int:
    results = await asyncio.gather(*(warm(p, timeout) for p in ports), return_exceptions=True)
    failed = 0
    for port, result in zip(ports, results, strict=True):
        if isinstance(result, BaseException):
            failed += 1
            print(f"[warm_up] port {port}: FAILED: {type(result).__name__}: {result}", file=sys.stderr)
        else:
            print(f"[warm_up] port {port}: first page load {result:.1f} s")
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ports", type=int, nargs="+")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args.ports, args.timeout)))


if __name__ == "__main__":
    main()
