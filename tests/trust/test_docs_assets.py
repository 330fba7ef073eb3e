"""Finding 13: /api/docs comes from files in the package; nothing is loaded from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import thereyet.server.web as web

EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(:]\s*["']?(?:https?:)?//""", re.IGNORECASE)
WEB = Path(web.__file__).parent


def test_no_template_or_static_file_loads_anything_from_another_host() -> None:
    files = [*WEB.glob("templates/*.html"), *WEB.glob("static/*")]
    assert files
    found = [f"{f.name}: {m.group(0)}" for f in files for m in EXTERNAL.finditer(f.read_text())]
    assert found == []


def test_the_api_docs_page_loads_only_the_hubs_own_files(client: TestClient) -> None:
    page = client.get("/api/docs", headers={"Authorization": ""})
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets)
    assert "script-src" not in page.headers["content-security-policy"]  # self only
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert "cdn" not in page.text.lower()


@pytest.mark.browser
def test_swagger_ui_renders_the_api_offline_in_chromium(browser, web_hub) -> None:
    context = browser.new_context(base_url=web_hub.url)
    outside: list[str] = []
    context.route(
        re.compile(r"^https?://(?!127\.0\.0\.1)"),
        lambda route: (outside.append(route.request.url), route.abort()),
    )
    page = context.new_page()
    page.goto("/api/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() > 10
    context.close()
    assert outside == []
