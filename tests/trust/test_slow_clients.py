"""Finding 13: a real `thereyet server` drops a client whose headers or body stop arriving
(408, connection closed) after its timeouts, instead of holding it open for minutes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.servers import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A hub process with 1-second header and body timeouts; its port."""
    data_dir = tmp_path_factory.mktemp("slow")
    port = free_port()
    env = {
        **os.environ,
        "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN,
        "THEREYET_HEADER_TIMEOUT": "1",
        "THEREYET_BODY_TIMEOUT": "1",
    }
    command = ["thereyet.cli.main", "server", "--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [sys.executable, "-m", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the hub exited at start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the hub did not start"
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def until_closed(sock: socket.socket, limit: float = 10.0) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    sock.settimeout(limit)
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received, time.monotonic() - started


def test_headers_that_stop_half_way_get_408_and_the_connection_closes(hub_port: int) -> None:
    with socket.create_connection(("127.0.0.1", hub_port)) as sock:
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        received, took = until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 ")
    assert took < 5


def test_a_body_that_stops_half_way_gets_408_and_the_connection_closes(hub_port: int) -> None:
    head = (
        b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + ADMIN_TOKEN.encode() + b"\r\nContent-Length: 100\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", hub_port)) as sock:
        sock.sendall(head + b'{"job": "exp')
        received, took = until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 ")
    assert b"the request body stopped arriving" in received
    assert took < 5


def test_the_hub_still_answers_and_a_slow_but_steady_body_is_not_cut(hub_port: int) -> None:
    body = b'{"job": "export", "room": "ops"}'
    head = (
        b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + ADMIN_TOKEN.encode() + b"\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", hub_port)) as sock:
        sock.sendall(head)
        for part in (body[:10], body[10:20], body[20:]):
            time.sleep(0.5)  # each pause shorter than the 1-second body timeout
            sock.sendall(part)
        received, _took = until_closed(sock)
    assert received.startswith(b"HTTP/1.1 201 "), received[:200]
