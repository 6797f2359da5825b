"""The served OpenAPI document: complete, truthful about problems, and clean under the ADR ruleset."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULESET = Path(os.environ.get("POSTVAK_ADR_RULESET", ROOT.parent / "shared" / "adr" / "spectral.yml"))
SPECTRAL = ROOT / "node_modules" / ".bin" / "spectral"
API_MD_SLUGS = {
    "unauthorized",
    "forbidden",
    "not-found",
    "validation-failed",
    "invalid-recipient",
    "duplicate-reference",
    "attachment-rejected",
    "payload-too-large",
    "unsupported-media-type",
    "rate-limited",
}


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_route_is_documented(document):
    documented = {(path, method) for path, method, _ in _operations(document)}
    assert documented == {
        ("/messages", "post"),
        ("/message-batches", "post"),
        ("/attachments", "post"),
        ("/messages/{messageId}", "get"),
        ("/events", "get"),
        ("/message-types", "get"),
        ("/message-types/{messageType}", "put"),
        ("/message-types/{messageType}", "delete"),
        ("/webhook-endpoints", "post"),
        ("/webhook-endpoints", "get"),
        ("/webhook-endpoints/{endpointId}", "get"),
        ("/webhook-endpoints/{endpointId}", "delete"),
        ("/webhook-endpoints/{endpointId}/secret-rotations", "post"),
    }
    assert document["openapi"].startswith("3.1")
    assert document["servers"][0]["url"].endswith("/api/v1")


def test_every_problem_answer_is_a_problem_document(document):
    slugs = set()
    for _, _, operation in _operations(document):
        assert "401" in operation["responses"] and "429" in operation["responses"]
        for status, response in operation["responses"].items():
            if status.startswith(("2", "3")):
                assert "API-Version" in response["headers"]
            else:
                content = response["content"]
                assert list(content) == ["application/problem+json"]
                slugs |= set(content["application/problem+json"]["examples"])
    assert slugs >= API_MD_SLUGS
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "instance"}


def test_deliver_message_documents_what_it_can_answer(document):
    responses = document["paths"]["/messages"]["post"]["responses"]
    for status in ("200", "201", "401", "403", "404", "409", "413", "415", "422", "429"):
        assert status in responses, status
    assert set(responses["422"]["content"]["application/problem+json"]["examples"]) == {
        "validation-failed",
        "invalid-recipient",
        "attachment-rejected",
    }


def test_the_document_passes_the_api_design_rules(document, tmp_path):
    if not RULESET.exists():
        pytest.fail(f"the ADR ruleset is expected at {RULESET} (shared/ beside the repository)")
    if not SPECTRAL.exists() and shutil.which("npm"):
        pytest.fail("Spectral is not installed: run `python3 dev.py test` (npm ci) first")
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    result = subprocess.run(
        [
            str(SPECTRAL),
            "lint",
            "-r",
            str(RULESET),
            str(spec),
            "-f",
            "json",
            "--quiet",
            "--fail-severity",
            "error",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    findings = json.loads(result.stdout or "[]")
    errors = [
        f"{f['code']}: {f['message']} at {'.'.join(map(str, f['path']))}"
        for f in findings
        if f["severity"] == 0
    ]
    assert errors == [], "\n".join(errors)
    assert result.returncode == 0, result.stderr
