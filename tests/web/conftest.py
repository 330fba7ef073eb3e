"""Fixtures for the web pages: people who can sign in, a live hub, a real browser."""

from __future__ import annotations

import contextlib
import html
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, make_settings, migrated_sqlite
from tests.servers import missing, serve
from thereyet.server.app import create_app

PASSWORD = "correct horse battery staple"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def add_user(api: httpx.Client | TestClient, username: str, role: str) -> None:
    response = api.post(
        "/api/v1/users",
        json={"username": username, "password": PASSWORD, "role": role},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201, response.text


def sign_in(client: httpx.Client | TestClient, username: str) -> None:
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def problem_on(page: str) -> str:
    """What a page's problem note reads ("field: reason"), tags dropped; fails if none."""
    found = re.search(r'<p class="problem" role="alert" id="problem">(.*?)</p>', page, re.S)
    assert found, "the page names no problem"
    text = html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))
    return re.sub(r"\s+", " ", text).strip()


def page_csrf(html: str) -> str:
    found = re.search(r'data-csrf="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@dataclass
class WebHub:
    url: str
    api: httpx.Client


@contextlib.contextmanager
def running_web_hub(data: Path) -> Iterator[WebHub]:
    """A real hub on SQLite in `data`, served by uvicorn on a free port, with an
    operator (ana) and an admin (boss) who can sign in, and an admin API client."""
    app = create_app(make_settings(migrated_sqlite(data / "hub.db"), data))
    with (
        serve(app) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api,
    ):
        add_user(api, "ana", "operator")
        add_user(api, "boss", "admin")
        yield WebHub(url, api)


@pytest.fixture
def web_hub(tmp_path: Path) -> Iterator[WebHub]:
    """A real hub served by uvicorn on a free port, with an operator and an admin."""
    with running_web_hub(tmp_path) as hub:
        yield hub


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser).

    Module-scoped: Playwright's sync API runs an event loop in this thread for as
    long as it is open, and an asyncio test run while it is open fails; closing it
    with the module leaves no loop behind, whatever order the modules run in."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        missing("Chromium is not installed (scripts/test installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def signed_in_page(browser, web_hub):
    """A browser tab signed in as the operator `ana`."""
    context = browser.new_context(base_url=web_hub.url)
    page = context.new_page()
    browser_sign_in(page, "ana")
    yield page
    context.close()


def browser_sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r".*/$"))


def read_events(response: httpx.Response, count: int) -> list[tuple[str, object]]:
    """Read `count` SSE events (name, data) from a streaming response."""
    events: list[tuple[str, object]] = []
    name = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name:
            events.append((name, json.loads(line[6:])))
            if len(events) == count:
                return events
    raise AssertionError("stream ended early")
