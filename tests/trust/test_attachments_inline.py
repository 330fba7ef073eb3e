"""Finding 8: only raster images are shown inline; SVG and the rest download with nosniff."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from thereyet.server.domain.media import shown_inline

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def attach(client: TestClient, content_type: str, content: bytes, name: str) -> str:
    rid = client.post("/api/v1/runs", json={"job": "export", "room": "ops"}).json()["id"]
    response = client.post(
        f"/api/v1/runs/{rid}/attachments",
        params={"name": name},
        content=content,
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["url"])


@pytest.mark.parametrize(
    "content_type",
    [
        "image/svg+xml; charset=utf-8",
        "image/svg+xml",
        "IMAGE/SVG+XML ;x=y",
        "text/html",
        "image/x-icon",
    ],
)
def test_svg_with_parameters_and_non_raster_types_download_with_nosniff(
    client: TestClient, content_type: str
) -> None:
    url = attach(client, content_type, SVG, "chart.svg")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("content_type", ["image/png", "image/PNG; foo=bar", "image/webp"])
def test_raster_images_are_inline_as_their_bare_type(client: TestClient, content_type: str) -> None:
    url = attach(client, content_type, PNG, "graph.png")
    response = client.get(url)
    assert response.headers["content-disposition"].startswith("inline;")
    assert response.headers["content-type"] == content_type.split(";")[0].lower()
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_allow_list_is_compared_without_parameters_or_case() -> None:
    assert shown_inline("image/jpeg; q=1") and shown_inline(" Image/GIF ")
    assert not shown_inline("image/svg+xml; charset=utf-8")
    assert not shown_inline("image/png+svg") and not shown_inline("")


def test_a_json_file_with_nan_is_kept_as_an_attachment_not_refused(client: TestClient) -> None:
    content = b'{"loss": NaN, "deep": ' + b"[" * 100 + b"]" * 100 + b"}"
    url = attach(client, "application/json", content, "metrics.json")
    assert client.get(url).content == content
