"""Dutch and English: catalogues from .po files, every inbox text translated, the language chosen."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from markupsafe import Markup

from postvak.errors import PROBLEMS
from postvak.inbox import rules
from postvak.web import i18n

# The inbox's templates; the log-in templates have their own catalogue (auth.po).
INBOX_TEMPLATES = (
    "base.html",
    "_letters.html",
    "inbox.html",
    "letter.html",
    "letter_print.html",
    "folders.html",
    "bin_empty.html",
    "letter_problem.html",
    "problem.html",
)
FOLDER_PROBLEMS = (
    rules.folder_name_problem("", []),
    rules.folder_name_problem("x" * 61, []),
    rules.folder_name_problem("a\x07", []),
    rules.folder_name_problem("a", ["A"]),
    rules.folder_limit_problem(rules.MAX_FOLDERS),
)


def _message_ids(template: str) -> list[str | tuple[str, str]]:
    found = extract_from_file("jinja2", i18n.TEMPLATES / template, options={"extensions": "jinja2.ext.i18n"})
    return [msg if isinstance(msg, str) else tuple(msg) for _line, msg, _comments, _context in found]


@pytest.mark.parametrize("template", INBOX_TEMPLATES)
def test_every_text_of_the_inbox_pages_has_a_dutch_translation(template):
    dutch = i18n.CATALOGUES["nl"]
    for msg in _message_ids(template):
        if isinstance(msg, tuple):
            assert dutch.ngettext(*msg, 1) != msg[0] or msg[0] == "%(num)d letter", msg
            assert dutch.ngettext(*msg, 2) != msg[1], msg
        else:
            assert dutch.gettext(msg) != msg or msg in ("Open source (EUPL-1.2)",), msg


def test_the_problem_types_are_translated_too():
    for problem in PROBLEMS.values():
        assert i18n.translate("nl", problem.title) != problem.title, problem.slug
        assert i18n.translate("nl", problem.explanation) != problem.explanation, problem.slug


def test_the_folder_problems_are_translated_too():
    for problem in FOLDER_PROBLEMS:
        assert problem and i18n.translate("nl", problem) != problem
        assert i18n.translate("en", problem) == problem


def test_every_po_file_of_a_language_is_merged(tmp_path: Path):
    folder = tmp_path / "nl" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
    (folder / "a.po").write_text(header + 'msgid "Inbox"\nmsgstr "Postvak IN"\n')
    (folder / "b.po").write_text(header + 'msgid "Log in"\nmsgstr "Inloggen"\n')
    loaded = i18n.load_translations(tmp_path)
    assert loaded["nl"].gettext("Inbox") == "Postvak IN" and loaded["nl"].gettext("Log in") == "Inloggen"
    assert loaded["en"].gettext("Inbox") == "Inbox"


def test_the_language_is_the_urls_then_the_devices_then_the_accounts():
    assert i18n.choose_language(None, None, None) == "nl"
    assert i18n.choose_language(None, None, "en") == "en"
    assert i18n.choose_language(None, "nl", "en") == "nl"
    assert i18n.choose_language("en", "nl", "nl") == "en"
    assert i18n.choose_language("fr", "xx", None) == "nl"


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/inbox?box=bin&lang=en", "/inbox?box=bin"),
        ("/letters/1", "/letters/1"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/inbox\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_redirects_stay_on_this_site(target, expected):
    assert i18n.safe_local_path(target) == expected


def test_no_page_shows_control_or_bidirectional_characters_as_they_are():
    """Text stored before the edges refused them, or a refused value shown again in its form."""
    template = i18n.templates.env.from_string("<p>{{ name }}</p><pre>{{ body }}</pre>{{ html | safe }}")
    shown = template.render(
        name="factuur\u202efdp.exe\x1b]0;x\x07\x00\x85",
        body="regel 1\n\tregel 2\r\n",
        html=Markup("<b>vet\u2066</b>"),
    )
    assert shown == (
        "<p>factuur\ufffdfdp.exe\ufffd]0;x\ufffd\ufffd\ufffd</p>"
        "<pre>regel 1\n\tregel 2\r\n</pre><b>vet\ufffd</b>"
    )
