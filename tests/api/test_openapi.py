"""The served OpenAPI document: complete, truthful about problems, and clean under the ADR ruleset."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from postvak.messages import rules

ROOT = Path(__file__).resolve().parents[2]
# The Logius API Design Rules ruleset (EUPL-1.2), kept in the repository so that a clone checks itself.
RULESET = Path(os.environ.get("POSTVAK_ADR_RULESET", Path(__file__).parent / "rules" / "adr-spectral.yml"))
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
    "not-withdrawable",
}

# API.md's status event types, every one of which the document must name.
API_MD_EVENT_TYPES = {
    *("accepted", "scheduled", "delivered", "notified", "notification-failed", "reminded", "read"),
    *("confirmed", "unreachable", "fallback-printed", "never-read", "never-confirmed", "expired"),
    *("deleted-by-recipient", "withdrawn"),
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
        ("/messages", "get"),
        ("/messages/{messageId}", "get"),
        ("/messages/{messageId}", "delete"),
        ("/events", "get"),
        ("/message-types", "get"),
        ("/message-types/{messageType}", "put"),
        ("/message-types/{messageType}", "delete"),
        ("/webhook-endpoints", "post"),
        ("/webhook-endpoints", "get"),
        ("/webhook-endpoints/{endpointId}", "get"),
        ("/webhook-endpoints/{endpointId}", "delete"),
        ("/webhook-endpoints/{endpointId}/secret-rotations", "post"),
        ("/reachability-checks", "post"),
        ("/statements/{month}", "get"),
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


def _properties(document):
    """(where, name, schema) of every property of every component schema, nested objects included.

    Only `properties` are fields: a schema's anyOf/oneOf branches that restate some properties (which
    of them must be given together) are constraints, not fields of their own.
    """

    def walk(where, schema):
        for name, prop in schema.get("properties", {}).items():
            yield where, name, prop
            yield from walk(f"{where}.{name}", prop)
            if isinstance(prop.get("items"), dict):
                yield from walk(f"{where}.{name}[]", prop["items"])

    for name, schema in document["components"]["schemas"].items():
        yield from walk(name, schema)


def test_every_field_has_a_description_and_an_example(document):
    lacking = [
        f"{where}.{name}"
        for where, name, prop in _properties(document)
        if not prop.get("description") or not (prop.get("examples") or "example" in prop)
    ]
    assert lacking == []
    assert len(list(_properties(document))) > 80  # the walk reached the fields


def test_every_example_of_a_field_is_valid_for_that_field(document):
    """Spectral checks the examples of request and response bodies, not those of schema properties."""
    wrong = []
    for where, name, prop in _properties(document):
        if "." in where:
            continue  # no nested inline objects so far; their pointer would need a path
        pointer = f"#/components/schemas/{where}/properties/{name}"
        validator = Draft202012Validator(
            {"$ref": pointer, "components": document["components"]},
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        for example in prop["examples"]:
            wrong += [f"{where}.{name}: {error.message}" for error in validator.iter_errors(example)]
    assert wrong == []


def test_every_parameter_has_a_description_and_an_example(document):
    lacking = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, method, operation in _operations(document)
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
        or not (parameter.get("examples") or "example" in parameter or parameter["schema"].get("examples"))
    ]
    assert lacking == []


def test_every_request_body_has_an_example(document):
    bodies = {
        f"{method.upper()} {path} {media_type}": content
        for path, method, operation in _operations(document)
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items()
    }
    assert len(bodies) == 6
    lacking = [name for name, body in bodies.items() if not (body.get("examples") or "example" in body)]
    assert lacking == []
    letters = document["paths"]["/messages"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert {example["value"]["recipient"]["value"] for example in letters.values()} == {"999993653"}


def test_status_and_event_types_are_enums(document):
    schemas = document["components"]["schemas"]
    assert schemas["MessageOut"]["properties"]["status"]["enum"] == list(rules.STATUSES)
    assert "withdrawn" in rules.STATUSES and "reminded" not in rules.STATUSES
    for model in ("EventOut", "FeedEventOut"):
        assert schemas[model]["properties"]["type"]["enum"] == list(rules.API_EVENT_TYPES), model
    for model in ("WebhookEndpointIn", "WebhookEndpointOut"):
        event_types = schemas[model]["properties"]["eventTypes"]
        items = next(s["items"] for s in event_types.get("anyOf", [event_types]) if s.get("type") == "array")
        assert items["enum"] == list(rules.API_EVENT_TYPES), model
    # Those of API.md, and those only the code has (printing's fallback-not-printed).
    assert set(rules.API_EVENT_TYPES) >= API_MD_EVENT_TYPES | set(rules.EVENT_TYPES)
