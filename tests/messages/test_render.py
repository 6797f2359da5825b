"""Letter bodies render to safe HTML: active content and remote resources are inert."""

from html.parser import HTMLParser

import pytest

from postvak.messages.render import render_body


def test_markdown_subset_renders():
    html = render_body("# Aanslag\n\nU betaalt **EUR 12** vóór *31 maart*.\n\n- één\n- twee\n")
    assert "<h1>Aanslag</h1>" in html and "<strong>EUR 12</strong>" in html and "<li>één</li>" in html


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">klik</a>',
        "[klik](javascript:alert(1))",
        "![pixel](https://tracker.example.com/p.gif)",
        '<iframe src="https://evil.example"></iframe>',
        '<div onclick="steal()">x</div>',
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_active_content_is_inert(evil):
    elements = _elements(render_body(f"Geachte heer,\n\n{evil}\n"))
    assert {tag for tag, _ in elements} <= {"p", "a"}
    for _, attrs in elements:
        assert not any(name.startswith("on") or name == "src" for name in attrs)
        assert attrs.get("href", "https:").startswith("https:")


def _elements(html: str) -> list[tuple[str, dict]]:
    """The real elements of `html`: escaped markup is text, and text cannot run."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collector().feed(html)
    return found


def test_https_links_stay_and_are_marked():
    html = render_body("[Betalen](https://betalen.example.nl/123)")
    assert 'href="https://betalen.example.nl/123"' in html and 'rel="noopener noreferrer nofollow"' in html
