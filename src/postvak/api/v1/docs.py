"""The API documentation page: Swagger UI from a Python package, served from our own host.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script: without
internet it stays blank, and a strict CSP would refuse it. This page loads the same Swagger UI
from the `fastapi-offline` package (its files are those of npm's swagger-ui-dist) and starts it
from a file of our own; web/security.py gives it a CSP like every other page.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = Path(str(files("fastapi_offline") / "static"))
ASSETS = Path(__file__).parent / "static"

# Relative URLs: the page lives at <mount>/docs, beside <mount>/openapi.json.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Postvak sender API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="docs/swagger-ui/swagger-ui.css">
<link rel="stylesheet" href="docs/assets/docs.css">
<script src="docs/swagger-ui/swagger-ui-bundle.js" defer></script>
<script src="docs/assets/docs.js" defer></script>
</head>
<body>
<main id="swagger-ui" data-openapi-url="openapi.json">
<h1>Postvak sender API</h1>
<p>The documentation is shown with JavaScript. Without it, read the OpenAPI document itself:
<a href="openapi.json">openapi.json</a>.</p>
</main>
</body>
</html>
"""


def add_docs(api: FastAPI) -> None:
    """Serve the page at /docs and its files under /docs/swagger-ui (the package's) and /docs/assets."""
    api.mount("/docs/swagger-ui", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
    api.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    async def docs_page() -> HTMLResponse:
        return HTMLResponse(PAGE)
