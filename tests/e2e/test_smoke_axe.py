"""The public pages pass axe-core's WCAG 2.1 A/AA rules in a real browser."""

from tests.e2e.conftest import axe_violations


def test_problem_page_is_accessible(page):
    page.goto("/problems/not-found?lang=en")
    assert page.locator("h1").inner_text() == "Not found"
    assert axe_violations(page) == []


def test_the_axe_check_finds_a_real_violation(page):
    page.set_content("<html lang='nl'><title>x</title><main><img src='/x.png'></main></html>")
    assert "image-alt" in {v["id"] for v in axe_violations(page)}
