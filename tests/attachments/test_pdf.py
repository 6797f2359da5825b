import subprocess

import pytest

from postvak.attachments.pdf import MAX_ATTACHMENT_BYTES, check_pdf
from postvak.errors import AttachmentRejected, PayloadTooLarge
from tests.attachments import pdfs


def test_a_one_page_letter_is_accepted_with_its_page_count():
    assert check_pdf(pdfs.one_page()) == 1


def test_a_normal_web_link_is_accepted():
    assert check_pdf(pdfs.with_link("https://www.belastingdienst.nl/betalen")) == 1


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(pdfs.with_javascript_open_action(), id="javascript-open-action"),
        pytest.param(pdfs.with_javascript_name_tree(), id="javascript-name-tree"),
        pytest.param(pdfs.with_unreferenced_javascript(), id="javascript-unreferenced"),
        pytest.param(pdfs.with_launch_action(), id="launch-action"),
        pytest.param(pdfs.with_link("javascript:app.alert(1)"), id="javascript-link"),
        pytest.param(pdfs.with_embedded_file(), id="embedded-file"),
        pytest.param(pdfs.encrypted(user_password="geheim"), id="encrypted"),
        pytest.param(pdfs.encrypted(user_password=""), id="encrypted-empty-password"),
        pytest.param(pdfs.truncated(), id="truncated"),
        pytest.param(pdfs.garbage_with_pdf_header(), id="garbage"),
        pytest.param(pdfs.png(), id="png"),
    ],
)
def test_unsafe_or_broken_files_are_rejected(data):
    with pytest.raises(AttachmentRejected) as caught:
        check_pdf(data)
    assert isinstance(caught.value.detail, str)
    assert caught.value.detail


def test_a_renamed_png_is_rejected_without_spawning_a_parser(monkeypatch):
    monkeypatch.setattr(subprocess, "run", _must_not_spawn)
    with pytest.raises(AttachmentRejected) as caught:
        check_pdf(pdfs.png())
    assert caught.value.detail


def test_an_oversized_file_is_refused_before_any_parsing(monkeypatch):
    monkeypatch.setattr(subprocess, "run", _must_not_spawn)
    data = b"%PDF-1.7\n" + bytes(30 * 1024 * 1024)
    assert len(data) > MAX_ATTACHMENT_BYTES
    with pytest.raises(PayloadTooLarge) as caught:
        check_pdf(data)
    assert caught.value.detail


def test_a_decompression_bomb_is_rejected_under_the_memory_limit():
    with pytest.raises(AttachmentRejected) as caught:
        check_pdf(pdfs.decompression_bomb(mib=2048), memory_mib=256)
    assert caught.value.detail


def test_a_check_that_runs_out_of_time_is_rejected():
    with pytest.raises(AttachmentRejected) as caught:
        check_pdf(pdfs.one_page(), seconds=0.001)
    assert caught.value.detail


def test_details_never_quote_the_file():
    with pytest.raises(AttachmentRejected) as caught:
        check_pdf(pdfs.with_javascript_open_action())
    assert "alert" not in caught.value.detail


def _must_not_spawn(*args, **kwargs):
    raise AssertionError("no child process may be started for this file")
