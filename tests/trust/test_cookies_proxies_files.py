"""Finding 12: a setting forces Secure cookies; only named proxies are believed about the
client's address and scheme; the data directory is 0700 and the database 0600."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.web.conftest import PASSWORD, add_user
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.config import settings_from_env


def session_cookie(
    sqlite_url: str, tmp_path: Path, clock: FakeClock, **settings: str | bool
) -> str:
    """The Set-Cookie header of a successful sign-in over plain http."""
    app = create_app(make_settings(sqlite_url, tmp_path, **settings), clock)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        add_user(client, "ana", "operator")
        client.headers.pop("Authorization")
        forwarded = {"X-Forwarded-Proto": "https"}
        form = client.get("/login", headers=forwarded)
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf
        # Sent by hand: a client on plain http does not send back a Secure cookie.
        login_cookie = form.headers["set-cookie"].split(";")[0]
        client.cookies.clear()
        data = {"username": "ana", "password": PASSWORD, "csrf": csrf.group(1)}
        headers = {**forwarded, "Cookie": login_cookie}
        signed = client.post("/login", data=data, headers=headers, follow_redirects=False)
        assert signed.status_code == 303
        return next(c for c in signed.headers.get_list("set-cookie") if "session" in c)


def test_over_plain_http_the_session_cookie_is_not_secure_by_default(sqlite_url, tmp_path, clock):
    cookie = session_cookie(sqlite_url, tmp_path, clock)
    assert "secure" not in cookie.lower()
    assert "httponly" in cookie.lower()


def test_cookie_secure_forces_secure_cookies_behind_a_tls_proxy(sqlite_url, tmp_path, clock):
    assert "secure" in session_cookie(sqlite_url, tmp_path, clock, cookie_secure=True).lower()


def test_x_forwarded_proto_is_believed_only_from_a_trusted_proxy(sqlite_url, tmp_path, clock):
    trusted = session_cookie(sqlite_url, tmp_path / "a", clock, trusted_proxies="testclient")
    assert "secure" in trusted.lower()
    untrusted = session_cookie(
        sqlite_url.replace("hub.db", "b.db"), tmp_path / "b", clock, trusted_proxies="10.0.0.1"
    )
    assert "secure" not in untrusted.lower()


def test_a_new_data_directory_is_0700_and_the_database_0600(tmp_path: Path, clock: FakeClock):
    data_dir = tmp_path / "fresh" / "thereyet"
    app = create_app(make_settings("", data_dir), clock)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert (
            client.post(
                "/api/v1/rooms", json={"name": "ops", "title": "ops", "topic": ""}
            ).status_code
            == 201
        )
        for path in (data_dir / "thereyet.db", data_dir / "thereyet.db-wal"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_an_existing_database_file_is_made_0600(tmp_path: Path, clock: FakeClock):
    db = tmp_path / "old.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    with TestClient(create_app(make_settings(f"sqlite:///{db}", tmp_path), clock)):
        pass
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "env,expected",
    [
        ({"THEREYET_COOKIE_SECURE": "1"}, ("cookie_secure", True)),
        (
            {"THEREYET_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16"},
            ("trusted_proxies", "10.0.0.1, 10.1.0.0/16"),
        ),
        ({"THEREYET_HEADER_TIMEOUT": "2.5"}, ("header_timeout", 2.5)),
        ({"THEREYET_BODY_TIMEOUT": "7"}, ("body_timeout", 7.0)),
    ],
)
def test_the_trust_settings_come_from_the_environment(env, expected):
    name, value = expected
    assert getattr(settings_from_env(env), name) == value
