"""Agents as separate hosts: each in a network namespace of its own (`ip netns`), joined to
this host by a veth pair, reaching the hub only through a TCP relay on its link (as
through NAT or a proxy: nothing in the namespace listens, and the hub cannot call in).
A test can cut a host's link and heal it, as a network does.

Needs root and iproute2; `hosts_or_skip` skips (fails under CI) where they are missing."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from tests.servers import missing


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def namespaces_work() -> str | None:
    """Why network namespaces cannot be used here, or None if they can."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "network namespaces need root and iproute2 (ip)"
    probe = f"ty-probe-{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except subprocess.CalledProcessError as exc:
        return f"ip netns add failed: {exc.stderr.decode().strip()}"
    _ip("netns", "del", probe)
    return None


class Relay:
    """A TCP relay: accepts on (address, port) and pipes each connection to 127.0.0.1:port."""

    def __init__(self, address: str, port: int) -> None:
        self.port = port
        self.server = socket.create_server((address, port), reuse_port=False)
        self.server.settimeout(0.5)
        self.closed = threading.Event()
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            self.sockets.append(client)
            try:
                upstream = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            except OSError:
                client.close()
                continue
            self.sockets.append(upstream)
            upstream.settimeout(None)
            client.settimeout(None)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self.closed.set()
        self.thread.join()
        self.server.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    for sock in (source, sink):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@dataclass
class NetHost:
    """One namespace: run a command in it with `prefix`; reach the hub at `hub_url`."""

    namespace: str
    link: str  # this host's end of the veth pair
    hub_url: str

    @property
    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.namespace]

    def cut(self) -> None:
        _ip("link", "set", self.link, "down")

    def heal(self) -> None:
        _ip("link", "set", self.link, "up")


@contextlib.contextmanager
def net_host(index: int, hub_port: int) -> Iterator[NetHost]:
    tag = f"{os.getpid() % 10000}{index}"
    namespace, link, peer = f"ty-{tag}", f"tyh{tag}", f"tyn{tag}"
    here, there = f"10.213.{index}.1", f"10.213.{index}.2"
    _ip("netns", "add", namespace)
    relay = None
    try:
        _ip("link", "add", link, "type", "veth", "peer", "name", peer)
        _ip("link", "set", peer, "netns", namespace)
        _ip("addr", "add", f"{here}/30", "dev", link)
        _ip("link", "set", link, "up")
        _ip("-n", namespace, "addr", "add", f"{there}/30", "dev", peer)
        _ip("-n", namespace, "link", "set", peer, "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        relay = Relay(here, hub_port)
        yield NetHost(namespace, link, f"http://{here}:{hub_port}")
    finally:
        if relay is not None:
            relay.close()
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", link)
        _ip("netns", "del", namespace)


@contextlib.contextmanager
def net_hosts(count: int, hub_port: int) -> Iterator[list[NetHost]]:
    """`count` namespaces, or a skip (a failure under CI) where the machine has none."""
    why = namespaces_work()
    if why is not None:
        missing(why)
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(net_host(i + 1, hub_port)) for i in range(count)]
