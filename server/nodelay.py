"""Nagle's algorithm off for the server's connections: a workaround for Streamlit 1.67's own listening socket.

Streamlit binds its listening socket itself, as `socket.socket(family)`, so the socket's `proto` is 0. asyncio turns
Nagle's algorithm off (TCP_NODELAY) only on sockets whose `proto` is IPPROTO_TCP, so every connection to Streamlit
keeps it on (the same bug in uvicorn's pre-bound sockets: Kludex/uvicorn#3149). Streamlit writes each message of a
run as its own small websocket frame; with Nagle on, a frame written while an earlier one is still unacknowledged
waits for the browser's delayed ACK, 40 ms on Linux. That added ~40 ms to every playground move that trained
nothing new (a longer run hides it) and made the trivial one-slider app's p95 45 ms: see "Nagle" in
docs/performance.md.

`enable()` sets TCP_NODELAY on the listening sockets of the process's asyncio servers (Linux copies it to every
connection accepted later) and on the connections already open (the first visitor's, whose page load runs this).
It finds them among the objects the garbage collector tracks, once per process (~60 ms, in app.py's warm-up).
"""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Iterator


def _sockets() -> Iterator:
    """The listening sockets of the process's asyncio servers and the sockets of its open transports."""
    for obj in gc.get_objects():
        kind = type(obj)  # not isinstance: it reads obj.__class__, which some lazy module proxies warn about
        if issubclass(kind, asyncio.AbstractServer):
            yield from getattr(obj, "sockets", None) or ()
        elif issubclass(kind, asyncio.Transport):
            sock = obj.get_extra_info("socket")
            if sock is not None:
                yield sock


def enable() -> int:
    """Turn Nagle's algorithm off on every TCP socket of the process's asyncio servers and transports; returns how
    many sockets now have TCP_NODELAY. Harmless without a server (AppTest): nothing to set. Nothing either under a
    Streamlit release this was not tested with (server/compat.py): its sockets may be made another way."""
    from server import compat

    if not compat.tested():
        return 0
    done = 0
    for sock in _sockets():
        try:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done += 1
        except OSError:  # closed meanwhile
            continue
    return done
