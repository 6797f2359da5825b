"""The runtime's parts built from Settings: the SMS provider and the blob store."""

import os
import subprocess
import sys

import pytest

from postvak.blobs.filesystem import FilesystemBlobStore
from postvak.blobs.s3 import S3BlobStore
from postvak.config import ConfigurationError
from postvak.notifications.sms import ConsoleSms, HttpGatewaySms
from postvak.runtime import build_blobs, build_runtime, build_sms

KEY = "ab" * 32


def test_sms_goes_to_the_console_unless_a_gateway_is_configured(settings):
    assert isinstance(build_sms(settings), ConsoleSms)


def test_the_http_gateway_is_configured_fully_or_not_at_all(settings):
    gateway = settings.model_copy(
        update={
            "sms_provider": "http",
            "sms_gateway_url": "https://sms.example.nl/messages",
            "sms_gateway_token": "token",
            "sms_callback_secret": "secret",
            "base_url": "https://postvak.example.nl/",
        }
    )
    sms = build_sms(gateway)
    assert isinstance(sms, HttpGatewaySms) and sms.url == "https://sms.example.nl/messages"
    assert sms.callback_url == "https://postvak.example.nl/callbacks/sms"
    with pytest.raises(ValueError, match="SMS_GATEWAY"):
        build_sms(gateway.model_copy(update={"sms_callback_secret": ""}))
    with pytest.raises(ValueError, match="console"):
        build_sms(settings.model_copy(update={"sms_provider": "pigeon"}))


def test_blobs_go_to_the_data_dir_by_default(settings):
    store = build_blobs(settings)
    assert isinstance(store, FilesystemBlobStore)
    store.put(KEY, b"sealed")
    assert (settings.data_dir / "blobs" / KEY[:2] / KEY[2:4] / KEY).read_bytes() == b"sealed"


def test_a_file_url_names_the_blob_directory(settings, tmp_path):
    store = build_blobs(settings.model_copy(update={"blob_url": (tmp_path / "shared blobs").as_uri()}))
    store.put(KEY, b"sealed")
    assert (tmp_path / "shared blobs" / KEY[:2] / KEY[2:4] / KEY).read_bytes() == b"sealed"


def test_an_s3_url_names_the_bucket_and_prefix(settings, s3_bucket):
    store = build_blobs(settings.model_copy(update={"blob_url": s3_bucket.url("prod")}))
    assert isinstance(store, S3BlobStore)
    store.put(KEY, b"sealed")
    assert s3_bucket.objects() == {f"prod/{KEY}": b"sealed"}


@pytest.mark.parametrize(
    "url,says",
    [
        ("https://user:hunter2@blobs.example.nl/postvak", "not a https: URL"),
        ("var/blobs", "not a bare path"),
        ("file://var/blobs", "absolute path"),
        ("file:relative/blobs", "absolute path"),
        ("s3://", "s3://bucket"),
    ],
)
def test_any_other_blob_url_is_a_configuration_error(settings, url, says):
    with pytest.raises(ConfigurationError, match="POSTVAK_BLOB_URL") as error:
        build_runtime(settings.model_copy(update={"blob_url": url}))
    assert says in str(error.value) and "hunter2" not in str(error.value)


def test_a_missing_bucket_stops_the_start(settings, s3_bucket):
    with pytest.raises(ConfigurationError, match="'postvak-missing' .* does not exist"):
        build_runtime(settings.model_copy(update={"blob_url": "s3://postvak-missing/prod"}))


def test_the_command_says_what_to_fix_without_a_traceback(runtime, s3_bucket):
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": runtime.settings.database_url,
        "POSTVAK_DATA_DIR": str(runtime.settings.data_dir),
        "POSTVAK_BLOB_URL": "s3://postvak-missing/prod",
    }
    done = subprocess.run(
        [sys.executable, "-m", "postvak.cli", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "postvak-missing" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr
