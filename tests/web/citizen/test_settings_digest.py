"""Settings: the daily digest, one e-mail a day for the letters that ask nothing instead of one each."""

from __future__ import annotations

import re

import pytest

from postvak.citizens.models import Citizen

CHOSEN = re.compile(r'<input type="radio" name="digest" value="(on|off)" checked>')
DUTCH = {
    "heading": "Hoe vaak wij u e-mailen",
    "legend": "E-mail over brieven die niets van u vragen",
    "off": "Meteen, per brief",
    "on": "Dagelijks, in één e-mail",
    "notice-on": "U krijgt voortaan één e-mail per dag over brieven die niets van u vragen.",
    "notice-off": "U krijgt voortaan meteen een e-mail over elke nieuwe brief.",
}
ENGLISH = {
    "heading": "How often we e-mail you",
    "legend": "E-mail about letters that ask nothing of you",
    "off": "Right away, for each letter",
    "on": "Daily, in one e-mail",
    "notice-on": "You will get one e-mail a day about letters that ask nothing of you.",
    "notice-off": "You will get an e-mail about every new letter right away.",
}


def stored(runtime, citizen) -> bool:
    with runtime.database.unit_of_work(write=False) as session:
        return session.get(Citizen, citizen.id).daily_digest


def chosen(html: str) -> list[str]:
    """The value of every checked digest radio button: one, always."""
    return CHOSEN.findall(html)


def choose(web_client, csrf: str, value: str):
    return web_client.post(
        "/settings/daily-digest", data={"csrf_token": csrf, "digest": value}, follow_redirects=False
    )


def test_each_letter_gets_its_own_e_mail_until_the_citizen_chooses_otherwise(
    runtime, web_client, csrf, citizen
):
    page = web_client.get("/settings").text
    assert chosen(page) == ["off"] and stored(runtime, citizen) is False
    section = page.split('id="email"')[1].split("</section>")[0]
    assert 'action="/settings/daily-digest"' in section  # where the e-mail addresses are


def test_the_choice_is_saved_and_shown_both_ways(runtime, web_client, csrf, citizen):
    answer = choose(web_client, csrf, "on")
    assert answer.status_code == 303 and answer.headers["location"] == "/settings?notice=digest-on#digest"
    assert stored(runtime, citizen) is True
    page = web_client.get(answer.headers["location"]).text
    assert chosen(page) == ["on"] and DUTCH["notice-on"] in page

    answer = choose(web_client, csrf, "off")
    assert answer.headers["location"] == "/settings?notice=digest-off#digest"
    assert stored(runtime, citizen) is False
    page = web_client.get(answer.headers["location"]).text
    assert chosen(page) == ["off"] and DUTCH["notice-off"] in page and DUTCH["notice-on"] not in page


def test_anything_but_on_leaves_each_letter_its_own_e_mail(runtime, web_client, csrf, citizen):
    """The default sends more, never less: a form without a choice cannot switch e-mails off."""
    choose(web_client, csrf, "on")
    answer = web_client.post("/settings/daily-digest", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.headers["location"].startswith("/settings?notice=digest-off")
    assert stored(runtime, citizen) is False
    choose(web_client, csrf, "on")
    assert choose(web_client, csrf, "yes please").status_code == 303 and stored(runtime, citizen) is False


def test_the_form_needs_its_csrf_token(runtime, web_client, csrf, citizen):
    for form in (
        {"digest": "on"},
        {"digest": "on", "csrf_token": "not-the-token"},
        {"digest": "on", "csrf_token": ""},
    ):
        assert web_client.post("/settings/daily-digest", data=form).status_code == 403, form
    cross_site = web_client.post(
        "/settings/daily-digest",
        data={"csrf_token": csrf, "digest": "on"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert stored(runtime, citizen) is False


def test_the_choice_needs_a_signed_in_citizen(runtime, web_client, citizen):
    answer = web_client.post("/settings/daily-digest", data={"digest": "on"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert stored(runtime, citizen) is False


@pytest.mark.parametrize("lang, texts", [("nl", DUTCH), ("en", ENGLISH)])
def test_the_choice_reads_well_in_both_languages(web_client, csrf, lang, texts):
    for value in ("on", "off"):
        choose(web_client, csrf, value)
        page = web_client.get(f"/settings?notice=digest-{value}&lang={lang}").text
        assert f'<html lang="{lang}">' in page
        for key in ("heading", "legend", "off", "on", f"notice-{value}"):
            assert texts[key] in page, (lang, key)
    other = ENGLISH if lang == "nl" else DUTCH
    assert not any(text in page for text in other.values())
