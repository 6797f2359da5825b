"""Reads pages the way the tests need: links with their exact text, and elements by class."""

from __future__ import annotations

from html.parser import HTMLParser


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._open: list[list] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "a":
            self._open.append([dict(attrs).get("href") or "", ""])

    def handle_data(self, data: str) -> None:
        for link in self._open:
            link[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, text))


def links(html: str, prefix: str = "") -> list[tuple[str, str]]:
    """(href, text as shown) of every link whose href starts with `prefix`, in page order."""
    parser = _Links()
    parser.feed(html)
    return [(href, text) for href, text in parser.links if href.startswith(prefix)]


def letter_links(html: str) -> list[tuple[str, str]]:
    """(letter id, link text) of the letters listed on an inbox page, in order."""
    return [
        (href.removeprefix("/letters/"), text)
        for href, text in links(html, "/letters/")
        if href.count("/") == 2
    ]
