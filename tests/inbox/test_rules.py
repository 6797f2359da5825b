"""The inbox's pure rules: listings from query parameters, search words, the bin, folder names, events."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from postvak.inbox import rules
from postvak.inbox.search import fts5_expression


def test_a_listing_falls_back_to_defaults_for_anything_unknown():
    listing = rules.parse_listing({"box": "spam", "sort": "random", "page": "-3", "unread": "maybe"})
    assert listing == rules.Listing()
    assert rules.parse_listing({"page": "99999999"}).page == rules.MAX_PAGE
    assert rules.parse_listing({"page": "٣"}).page == 1  # a non-ASCII digit is not a page number
    assert rules.parse_listing({"box": "folder"}).box == "inbox"  # a folder view needs a folder


def test_a_folder_id_selects_the_folder_box_and_round_trips_through_params():
    folder = uuid.uuid4()
    sender = uuid.uuid4()
    params = {"folder": str(folder), "unread": "1", "sender": str(sender), "sort": "due", "q": " aan  slag "}
    listing = rules.parse_listing(params)
    assert (listing.box, listing.folder_id, listing.sender_id, listing.q) == (
        "folder",
        folder,
        sender,
        "aan slag",
    )
    assert rules.parse_listing(listing.params()) == listing
    assert listing.params(page=2)["page"] == "2"
    assert "page" not in listing.params(page=1)


@given(
    st.dictionaries(st.sampled_from(["box", "folder", "sort", "page", "q", "sender", "unread"]), st.text())
)
def test_any_query_parameters_give_a_valid_listing(params):
    listing = rules.parse_listing(params)
    assert listing.box in rules.BOXES and listing.sort in rules.SORTS
    assert 1 <= listing.page <= rules.MAX_PAGE
    assert len(listing.q) <= rules.MAX_QUERY_CHARS


def test_search_words_keep_letters_and_digits_only():
    assert (
        rules.search_words('Aanslag "IB-2027-000123" OR NEAR(x) col:y*')
        == [
            "aanslag",
            "ib",
            "2027",
            "000123",
            "or",
            "near",
            "x",
            "col",
            "y",
        ][: rules.MAX_SEARCH_WORDS]
    )
    assert rules.search_words("vóór Vóór") == ["vóór"]
    assert rules.search_words("***  ---") == []


@given(st.text())
def test_no_search_syntax_survives_in_the_words(text):
    words = rules.search_words(text)
    assert len(words) <= rules.MAX_SEARCH_WORDS
    for word in words:
        assert word and len(word) <= rules.MAX_WORD_CHARS
        assert not re.search(r"[\W_]", word)
    expression = fts5_expression(words)
    assert expression.count('"') == 2 * len(words)


def test_search_text_adds_the_words_of_a_reference():
    assert rules.search_text("IB-2027-000123") == "IB-2027-000123 IB 2027 000123"
    assert rules.search_text("plain words") == "plain words"


def test_what_needs_action():
    assert rules.needs_action("pay", False, False)
    assert not rules.needs_action("info", False, False)
    assert rules.needs_action(None, True, False)
    assert not rules.needs_action(None, True, True)
    assert rules.is_overdue(date(2027, 3, 30), date(2027, 3, 31))
    assert not rules.is_overdue(None, date(2027, 3, 31))


def test_the_bin_keeps_a_letter_30_days():
    binned = datetime(2027, 1, 1, 10, 20, tzinfo=UTC)
    assert rules.restorable_until(binned) == binned + timedelta(days=30)
    assert not rules.purge_due(binned, binned + timedelta(days=30) - timedelta(seconds=1))
    assert rules.purge_due(binned, binned + timedelta(days=30))
    assert rules.bin_cutoff(binned + timedelta(days=30)) == binned


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_the_purge_job_runs_on_the_hour_never_before_the_30_days(binned_at):
    due = rules.purge_job_due(binned_at)
    assert rules.purge_due(binned_at, due)
    assert due - rules.restorable_until(binned_at) < timedelta(hours=1)
    assert (due.minute, due.second, due.microsecond) == (0, 0, 0)


def test_folder_names():
    assert rules.clean_folder_name("  Belasting \t 2027 ") == "Belasting 2027"
    assert rules.folder_name_problem("", []) == "Give the folder a name."
    assert rules.folder_name_problem("x" * 61, []) is not None
    assert rules.folder_name_problem("a\u200bb", []) is not None  # a format character
    assert rules.folder_name_problem("belasting", ["Belasting"]) is not None
    assert rules.folder_name_problem("Zorg", ["Belasting"]) is None
    assert rules.folder_limit_problem(rules.MAX_FOLDERS) is not None
    assert rules.folder_limit_problem(rules.MAX_FOLDERS - 1) is None


def test_the_first_opening_reads_once():
    assert rules.opening_events(["accepted", "delivered"]) == ["read"]
    assert rules.opening_events(["accepted", "delivered", "notified"]) == ["read"]
    assert rules.opening_events(["accepted", "delivered", "read"]) == []
    assert rules.opening_events(["accepted", "delivered", "read", "notified"]) == []
    assert rules.opening_events(["accepted", "unreachable"]) == ["delivered", "read"]
    assert rules.opening_events(["accepted", "unreachable", "fallback-printed"]) == ["read"]
    assert rules.opening_events(["accepted", "delivered", "expired"]) == []


def test_confirmation_follows_reading_once_when_asked():
    read = ["accepted", "delivered", "read"]
    assert rules.confirmation_events(read, True) == ["confirmed"]
    assert rules.confirmation_events(read, False) == []
    assert rules.confirmation_events([*read, "confirmed"], True) == []
    assert rules.confirmation_events(["accepted", "delivered"], True) == []  # not read yet
    assert rules.confirmation_events([*read, "never-confirmed"], True) == ["confirmed"]


def test_removal_and_activation_events():
    assert rules.removal_events(["accepted", "delivered", "read"]) == ["deleted-by-recipient"]
    assert rules.removal_events(["accepted", "delivered", "expired"]) == []
    assert rules.removal_events(["accepted", "delivered", "deleted-by-recipient"]) == []
    assert rules.activation_events(["accepted", "unreachable"]) == ["delivered"]
    assert rules.activation_events(["accepted", "delivered"]) == []
    assert rules.activation_events(["accepted", "scheduled"]) == []


@given(st.datetimes(timezones=st.just(UTC)))
def test_bin_dates_answer_for_any_moment(binned_at):
    assert rules.restorable_until(binned_at) >= binned_at
    assert rules.purge_job_due(binned_at) >= rules.restorable_until(binned_at)
    assert rules.bin_cutoff(binned_at) <= binned_at
