"""Finding 11: failed logins slow the username and the address separately, with a
back-off rather than a lock-out, shared by every node (kept in the database)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.web.conftest import PASSWORD, add_user
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings


@pytest.fixture
def nodes(settings: Settings, clock: FakeClock) -> Iterator[tuple[TestClient, TestClient]]:
    """Two hub nodes on one database, each believing X-Forwarded-For from its test client."""
    trusting = replace(settings, trusted_proxies="testclient")
    with (
        TestClient(create_app(trusting, clock), raise_server_exceptions=False) as a,
        TestClient(create_app(trusting, clock), raise_server_exceptions=False) as b,
    ):
        add_user(a, "ada", "operator")
        add_user(a, "bo", "operator")
        yield a, b


def login(node: TestClient, username: str, password: str, address: str) -> httpx.Response:
    forwarded = {"X-Forwarded-For": address}
    form = node.get("/login", headers=forwarded)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    data = {"username": username, "password": password, "csrf": csrf.group(1)}
    return node.post("/login", data=data, headers=forwarded, follow_redirects=False)


def test_a_guessed_username_backs_off_on_every_node_with_429_and_retry_after(
    nodes: tuple[TestClient, TestClient], clock: FakeClock
) -> None:
    a, b = nodes
    for _ in range(5):
        assert login(a, "ada", "wrong wrong wrong", "10.0.0.1").status_code == 401
    refused = login(b, "ada", PASSWORD, "10.0.0.2")  # another node, another address
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert login(b, "bo", PASSWORD, "10.0.0.2").status_code == 303  # others go on
    clock.advance(1)
    assert login(b, "ada", PASSWORD, "10.0.0.2").status_code == 303


def test_one_address_guessing_many_usernames_slows_only_briefly_and_not_other_addresses(
    nodes: tuple[TestClient, TestClient], clock: FakeClock
) -> None:
    a, b = nodes
    for i in range(20):
        node = a if i % 2 else b
        assert login(node, f"user{i}", "wrong wrong wrong", "10.9.9.9").status_code == 401
    refused = login(a, "bo", PASSWORD, "10.9.9.9")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 60
    assert login(b, "bo", PASSWORD, "10.0.0.3").status_code == 303  # another address
    clock.advance(int(refused.headers["Retry-After"]))
    assert login(a, "bo", PASSWORD, "10.9.9.9").status_code == 303  # no lock-out


def test_forwarded_addresses_from_an_untrusted_peer_are_not_believed(
    sqlite_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """Without THEREYET_TRUSTED_PROXIES, X-Forwarded-For cannot spread guesses over
    made-up addresses: they all count against the peer's own address."""
    app = create_app(make_settings(sqlite_url, tmp_path), clock)
    with TestClient(app, raise_server_exceptions=False) as node:
        node.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        add_user(node, "bo", "operator")
        node.headers.pop("Authorization")
        for i in range(20):
            assert login(node, f"user{i}", "wrong wrong wrong", f"10.1.0.{i}").status_code == 401
        assert login(node, "bo", PASSWORD, "10.2.0.1").status_code == 429
