"""/api/docs: Swagger UI served from files in the installed package, never from a CDN.

The files (Swagger UI 5, which reads OpenAPI 3.1) come from the `openapi-ui-bundles`
package (the server extra), so the page works offline and behind a firewall. The page has no inline script: its
set-up is /static/api-docs.js, so a strict Content-Security-Policy holds.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from openapi_ui_bundles.swagger_ui import static_path
from starlette.staticfiles import StaticFiles

ASSETS = "/api/docs/assets"
_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>thereyet API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="/api/openapi.json"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


def install(app: FastAPI) -> None:
    """Serve the API's interactive docs at /api/docs (the app's own docs_url must be None)."""
    app.mount(ASSETS, StaticFiles(directory=str(static_path)), name="api-docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(_PAGE, headers=_HEADERS)
