"""The API documentation works offline: every file from our own host, under the page CSP."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import axe_violations

# Recorded before any script of the page runs; CSP reports a refusal as this event (and in the console).
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.effectiveDirective} refused ${e.blockedURI}`));
"""

# Swagger UI's own markup, which no stylesheet of ours can change (reported, not fixed here): an
# operation's summary is a button holding other controls (nested-interactive); its menus of servers
# and examples have no label (select-name); an example's scrollable box takes no focus
# (scrollable-region-focusable). Its colours that fell short of 4.5:1 are darkened in docs.css.
SWAGGER_UI_MARKUP = {"nested-interactive", "select-name", "scrollable-region-focusable"}


@pytest.fixture
def docs(page: Page, base_url: str):
    """The docs page with every request to another host refused and noted, and CSP refusals noted."""
    own = urlsplit(base_url).netloc
    elsewhere: list[str] = []
    console_errors: list[str] = []

    def only_our_host(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_our_host)
    page.add_init_script(_RECORD_VIOLATIONS)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.goto("/api/v1/docs")
    yield page
    assert elsewhere == []
    assert page.evaluate("window.__cspViolations") == []
    assert console_errors == []


def test_the_docs_render_every_operation_from_our_own_files(docs: Page):
    expect(docs.get_by_role("heading", name="Postvak sender API")).to_be_visible()
    operation = docs.locator("#operations-messages-deliverMessage")
    expect(operation).to_be_visible()
    expect(operation).to_contain_text("deliverMessage")
    for operation_id in ("deliverMessageBatch", "uploadAttachment", "listEvents", "createWebhookEndpoint"):
        expect(docs.get_by_text(operation_id, exact=True)).to_be_visible()


def test_an_operation_opens_with_its_request_example_and_schema(docs: Page):
    operation = docs.locator("#operations-messages-deliverMessage")
    operation.locator(".opblock-summary").click()
    body = operation.locator(".opblock-section-request-body")
    expect(body).to_contain_text("999993653")
    expect(body).to_contain_text("Voorlopige aanslag inkomstenbelasting 2027")
    expect(body.locator(".examples-select")).to_contain_text("Only what every letter needs")
    body.get_by_role("tab", name="Schema").click()
    expect(body).to_contain_text("senderReference")
    operation.get_by_role("button", name="Try it out").click()
    expect(operation.get_by_role("button", name="Execute")).to_be_visible()


def test_the_docs_add_no_violation_to_those_of_swagger_uis_markup(docs: Page):
    expect(docs.locator("#operations-messages-deliverMessage")).to_be_visible()
    overview = axe_violations(docs)
    docs.locator("#operations-messages-deliverMessage .opblock-summary").click()
    body = docs.locator("#operations-messages-deliverMessage .opblock-section-request-body")
    expect(body).to_be_visible()
    opened = axe_violations(docs)
    body.get_by_role("tab", name="Schema").click()
    body.get_by_role("button", name="Expand all").first.click()
    expect(body).to_contain_text("paperFallback")
    schema = axe_violations(docs)
    for found in (overview, opened, schema):
        assert {v["id"] for v in found} <= SWAGGER_UI_MARKUP, found
