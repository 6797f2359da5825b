"""The API documentation page: Swagger UI from the npm registry, served from our own host.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script: without
internet it stays blank, and a strict CSP would refuse it. This page loads npm's swagger-ui-dist
(pinned by package-lock.json, installed into node_modules/ by dev.py) and starts it from a file of
our own; web/security.py gives it a CSP like every other page. Where the files are missing (an
install without npm) the page still links the OpenAPI document and says how to get them.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# node_modules/ of the source tree; POSTVAK_SWAGGER_UI_DIR for an installation elsewhere.
SWAGGER_UI = Path(
    os.environ.get("POSTVAK_SWAGGER_UI_DIR")
    or Path(__file__).resolve().parents[4] / "node_modules" / "swagger-ui-dist"
)
ASSETS = Path(__file__).parent / "static"

# Relative URLs: the page lives at <mount>/docs, beside <mount>/openapi.json.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Postvak sender API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
{assets}
</head>
<body>
<main id="swagger-ui" data-openapi-url="openapi.json">
<h1>Postvak sender API</h1>
<p>{note} Read the OpenAPI document itself: <a href="openapi.json">openapi.json</a>.</p>
</main>
</body>
</html>
"""


ASSET_TAGS = """<link rel="stylesheet" href="docs/swagger-ui/swagger-ui.css">
<link rel="stylesheet" href="docs/assets/docs.css">
<script src="docs/swagger-ui/swagger-ui-bundle.js" defer></script>
<script src="docs/assets/docs.js" defer></script>"""
WITH_SWAGGER_UI = "The documentation is shown with JavaScript; without it,"
WITHOUT_SWAGGER_UI = (
    "Swagger UI is not installed here (<code>python3 dev.py setup</code> installs it with npm);"
)


def add_docs(api: FastAPI) -> None:
    """Serve the page at /docs and its files under /docs/swagger-ui (npm's) and /docs/assets."""
    installed = (SWAGGER_UI / "swagger-ui-bundle.js").is_file()
    if installed:
        api.mount("/docs/swagger-ui", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
        api.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")
    page = PAGE.format(
        assets=ASSET_TAGS if installed else "",
        note=WITH_SWAGGER_UI if installed else WITHOUT_SWAGGER_UI,
    )

    @api.get("/docs", include_in_schema=False)
    async def docs_page() -> HTMLResponse:
        return HTMLResponse(page)
