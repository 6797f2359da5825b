"""The API documentation page: Swagger UI from node_modules, or a plain link where it is not installed."""

from fastapi.testclient import TestClient

from postvak.api.v1 import docs
from postvak.app import build_app


def test_the_docs_page_loads_swagger_ui_from_this_host(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    head = page.text.split("<body>")[0]
    assert 'src="docs/swagger-ui/swagger-ui-bundle.js"' in head and "://" not in head
    assert client.get("/api/v1/docs/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_without_swagger_ui_the_page_links_the_openapi_document(runtime, monkeypatch, tmp_path):
    monkeypatch.setattr(docs, "SWAGGER_UI", tmp_path / "not-installed")
    with TestClient(build_app(runtime)) as client:
        page = client.get("/api/v1/docs")
        assert page.status_code == 200 and "<script" not in page.text
        assert "Swagger UI is not installed here" in page.text and 'href="openapi.json"' in page.text
        assert client.get("/api/v1/docs/swagger-ui/swagger-ui-bundle.js").status_code == 404
