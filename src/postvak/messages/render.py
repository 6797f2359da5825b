"""Turns a message's Markdown into HTML that is safe to show: no script, no handlers, no remote content."""

import nh3
from markdown_it import MarkdownIt

# Raw HTML in the Markdown is shown as text, never interpreted; what the parser makes is
# cleaned once more, so a parser quirk cannot smuggle markup through.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")

_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


def render_body(markdown: str) -> str:
    return nh3.clean(
        _markdown.render(markdown),
        tags=_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
