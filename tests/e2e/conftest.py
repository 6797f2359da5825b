"""Browser tests: Debian's Chromium driven by Playwright against the app on a loopback port."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.citizens import CitizenHandle, make_citizen
from tests.support.live import live_server
from tests.support.smtp import SmtpSink, smtp_sink

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The flags keep Chromium off the (closed) network and quiet in a container.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000  # a step that takes longer has failed; Playwright's 30 s default only slows the report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `python3 dev.py test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def base_url(runtime) -> Iterator[str]:
    """The app on 127.0.0.1: a secure context, so the `__Host-` cookie and WebAuthn work over http."""
    with live_server(runtime) as url:
        yield url


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def localhost_page(browser: Browser, runtime) -> Iterator[Page]:
    """A page of the app at http://localhost:PORT, for passkeys: WebAuthn needs a secure context AND a
    domain as relying-party id (an IP address is not one), and the app takes it from settings.base_url."""
    with live_server(runtime) as url:
        origin = f"http://localhost:{urlsplit(url).port}"
        runtime.settings = runtime.settings.model_copy(update={"base_url": origin})
        context = browser.new_context(base_url=origin, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        yield context.new_page()
        context.close()


@pytest.fixture
def citizen(runtime, bsns) -> CitizenHandle:
    """An activated account (verified e-mail address, TOTP) with an empty mailbox."""
    return make_citizen(runtime, bsns[0])


@pytest.fixture
def mail(runtime) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback that the app sends its e-mail to (settings are read per request)."""
    with smtp_sink() as sink:
        runtime.settings = runtime.settings.model_copy(update={"smtp_url": sink.url})
        yield sink


def axe_violations(page: Page) -> list[dict]:
    """WCAG 2.1 A/AA violations on the current page, found by axe-core from the npm registry.

    axe is evaluated through the DevTools protocol, which the page's CSP does not govern,
    so the strict policy stays on while the page is checked.
    """
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `python3 dev.py test` installs the npm packages")
    page.evaluate(_axe_source())
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    # Only violations are reported in full: passes and incomplete results would double the run time.
    options = "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}"
    result = page.evaluate(f"tags => axe.run(document, {options})", tags)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()
