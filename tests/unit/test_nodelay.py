"""server/nodelay.py: Nagle's algorithm off on a server whose listening socket was bound the way Streamlit binds it.

Streamlit binds its listening socket itself, with proto 0, and asyncio sets TCP_NODELAY only on sockets whose proto
is IPPROTO_TCP: the connections keep Nagle's algorithm on (~40 ms stalls on the browser's delayed ACK). The test
builds that set-up with Streamlit's own binding function where it has one, and checks that enable() turns Nagle off
on the connection already open and on every later one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket

from server import nodelay


def _streamlit_listener() -> socket.socket:
    """A listening socket on a free port, bound as Streamlit's server binds its own."""
    try:
        from streamlit.web.server.starlette.starlette_server import _bind_socket
    except ImportError:  # another Streamlit: the same construction by hand
        sock = socket.socket(family=socket.AF_INET)
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        return sock
    return _bind_socket("127.0.0.1", 0, 8)


def _nodelay(writer: asyncio.StreamWriter) -> int:
    return writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def _scenario() -> tuple[int, int, int, int]:
    """(TCP_NODELAY of an accepted connection before enable(), sockets enable() set, the same connection's after,
    a connection accepted after enable())."""
    listener = _streamlit_listener()
    accepted: list[asyncio.StreamWriter] = []
    server = await asyncio.start_server(lambda reader, writer: accepted.append(writer), sock=listener)
    clients = []
    try:

        async def connect() -> asyncio.StreamWriter:
            count = len(accepted)
            clients.append((await asyncio.open_connection(*listener.getsockname()[:2]))[1])
            for _ in range(200):
                if len(accepted) > count:
                    return accepted[-1]
                await asyncio.sleep(0.01)
            raise TimeoutError("the server accepted no connection")

        first = await connect()
        before = _nodelay(first)
        count = nodelay.enable()
        after = _nodelay(first)
        later = _nodelay(await connect())
        return before, count, after, later
    finally:
        for writer in clients + accepted:
            writer.close()
        server.close()
        await server.wait_closed()


def _run_in_a_thread_of_its_own() -> tuple[int, int, int, int]:
    """_scenario() on an event loop of its own (another test may have left one running in this thread)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _scenario()).result(timeout=60)


def test_enable_turns_nagle_off_on_open_connections_and_on_later_ones():
    before, count, after, later = _run_in_a_thread_of_its_own()
    assert before == 0  # the bug: the connection to a socket bound as Streamlit binds it keeps Nagle on
    assert count >= 3  # the listening socket, the server's end and the client's end of the open connection
    assert after == 1  # the connection already open (the first visitor's)
    assert later == 1  # and every later one, from the listening socket
