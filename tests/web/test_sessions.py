"""What docs/web.md promises about signing in: the session cookie's attributes, sign-out
ending the session for good, and throttled sign-in answering 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import make_settings, migrated_sqlite
from tests.web.conftest import PASSWORD, add_user, page_csrf, sign_in
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """Now, held still: the login throttle's waits pass only when a test moves it (a
    session cookie made at now is one the test client keeps)."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock):
    return create_app(make_settings(migrated_sqlite(tmp_path / "hub.db"), tmp_path), clock)


def _browser(app, scheme: str) -> Iterator[TestClient]:
    with TestClient(app, base_url=f"{scheme}://hub.example") as browser:
        add_user(browser, "ana", "operator")
        browser.headers["Accept"] = "text/html"
        yield browser


@pytest.fixture
def browser(app) -> Iterator[TestClient]:
    yield from _browser(app, "http")


def _login(browser: TestClient, password: str) -> Any:
    """Ana signs in through the form with `password`; the answer, not followed."""
    csrf = browser.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    data = {"username": "ana", "password": password, "csrf": csrf}
    return browser.post("/login", data=data, follow_redirects=False)


def _session_cookie_header(browser: TestClient) -> str:
    response = _login(browser, PASSWORD)
    assert response.status_code == 303, response.text
    [cookie] = [
        c for c in response.headers.get_list("set-cookie") if c.startswith("thereyet_session=")
    ]
    return cookie


def test_the_session_cookie_is_http_only_same_site_and_lasts_fourteen_days(browser):
    attributes = [a.strip().lower() for a in _session_cookie_header(browser).split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert f"max-age={14 * 86400}" in attributes
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back


def test_behind_https_the_session_cookie_is_secure(app):
    for browser in _browser(app, "https"):
        attributes = [a.strip().lower() for a in _session_cookie_header(browser).split(";")]
        assert "secure" in attributes


def test_signing_out_ends_the_session_even_for_a_kept_copy_of_the_cookie(browser):
    sign_in(browser, "ana")
    kept = browser.cookies["thereyet_session"]
    home = browser.get("/")
    assert home.status_code == 200
    out = browser.post("/logout", data={"csrf": page_csrf(home.text)}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    browser.cookies.set("thereyet_session", kept)  # someone kept the cookie
    again = browser.get("/", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_repeated_wrong_passwords_are_throttled_with_retry_after(browser, clock):
    answers = []
    wait = 0
    for _ in range(40):
        response = _login(browser, "wrong-" * 3)
        answers.append(response.status_code)
        if response.status_code == 429:
            wait = int(response.headers["Retry-After"])
            assert wait > 0
            break
    assert answers[0] == 401 and answers[-1] == 429, answers
    # While throttled, even the right password is not tried.
    assert _login(browser, PASSWORD).status_code == 429
    # Once the wait has passed, the right password signs in.
    clock.advance(wait)
    later = _login(browser, PASSWORD)
    assert later.status_code == 303, later.text
