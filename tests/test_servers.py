"""The tests' own launchers: a hub started on a port some other server took is never
taken for ready, and the ports handed out cannot be given to an ephemeral bind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import HubProcess, free_port, recording_server


def test_free_ports_are_below_the_ephemeral_range_and_never_repeat() -> None:
    lowest = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert max(ports) < lowest


def test_a_hub_whose_port_another_server_answers_is_not_taken_for_ready(tmp_path: Path) -> None:
    with recording_server() as other:
        hub = HubProcess(tmp_path / "hub", port=other.port)
        try:
            with pytest.raises(AssertionError, match=r"another server answers|exited at start"):
                hub.start(timeout=60)
        finally:
            hub.kill()
