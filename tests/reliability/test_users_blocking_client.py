"""A user's blocking client on the portal path: interrupted calls leak no connection.

From inside a running event loop, `BaxCloud(http_client=httpx.Client())` sends on a
worker thread of its portal. A blocking socket wait cannot be interrupted from
another thread: the interrupted call returns at once, its request finishes in the
background (here, when the server answers), and its connection is then closed.
"""

from __future__ import annotations

import httpx
import pytest
from reliability.rel_support import asettle, client_sockets, server_port
from reliability.test_cancellation import interrupt_main_after, sigint_raises_keyboard_interrupt

from baxcloud.testing import LocalServer


async def test_keyboard_interrupt_inside_a_running_loop(fault_server: LocalServer) -> None:
    port = server_port(fault_server)
    fault_server.set_faults()
    baseline = client_sockets(port)  # the LocalServer's own admin connection
    with httpx.Client() as http, fault_server.client(http_client=http, max_retries=0) as client:
        fault_server.set_faults(rate=1, kinds=["slow"], slow_seconds=1)
        for i in range(4):
            with sigint_raises_keyboard_interrupt():
                timer = interrupt_main_after(0.05)
                try:
                    with pytest.raises(KeyboardInterrupt):
                        client.rooms.get(f"interrupted-{i}")
                finally:
                    timer.join()
        await asettle(
            lambda: client_sockets(port) <= baseline, "the interrupted requests' connections closed"
        )
        fault_server.set_faults()
        for _ in range(5):
            client.rooms.list()
        assert client_sockets(port) <= baseline + 1  # one kept-alive connection, reused
