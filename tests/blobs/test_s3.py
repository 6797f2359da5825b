"""The S3 BlobStore beyond the shared contract (test_store.py): names, parts, retries, start-up check."""

from __future__ import annotations

import hashlib
import socket

import pytest
from botocore.exceptions import ClientError

from postvak.blobs.s3 import S3BlobStore
from postvak.config import ConfigurationError
from tests.support.s3 import FlakyS3, S3Bucket, use_endpoint

DATA = b"sealed bytes, as attachments/service.py hands them over"
KEY = hashlib.sha256(DATA).hexdigest()
MiB = 1024 * 1024


@pytest.mark.parametrize(
    "url,bucket,prefix",
    [
        ("s3://postvak-blobs", "postvak-blobs", ""),
        ("s3://postvak-blobs/", "postvak-blobs", ""),
        ("s3://postvak-blobs/prod", "postvak-blobs", "prod/"),
        ("s3://postvak.blobs/prod/attachments/", "postvak.blobs", "prod/attachments/"),
    ],
)
def test_urls_name_a_bucket_and_a_prefix(url: str, bucket: str, prefix: str) -> None:
    store = S3BlobStore.from_url(url, client=object())
    assert (store.bucket, store.prefix) == (bucket, prefix)


@pytest.mark.parametrize(
    "url",
    ["s3://", "s3:///prefix", "s3://Postvak_Blobs/x", "s3://ab", "s3://bucket/x?region=eu", "file:///x"],
)
def test_a_wrong_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="POSTVAK_BLOB_URL"):
        S3BlobStore.from_url(url, client=object())


def test_objects_live_under_the_prefix_as_given(s3_bucket: S3Bucket) -> None:
    store = S3BlobStore.from_url(s3_bucket.url("prod/attachments"))

    store.put(KEY, DATA)

    assert s3_bucket.objects() == {f"prod/attachments/{KEY}": DATA}


def test_a_large_blob_goes_up_in_parts(s3_bucket: S3Bucket) -> None:
    store = S3BlobStore(s3_bucket.name, "p", multipart_threshold=5 * MiB, part_size=5 * MiB)
    data = b"\x01" * (12 * MiB)

    store.put(KEY, data)

    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=f"p/{KEY}")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload's ETag counts its parts
    assert head["ContentLength"] == len(data)
    assert store.get(KEY) == data


def test_a_failed_upload_in_parts_leaves_no_object_and_no_parts(s3_bucket: S3Bucket) -> None:
    store = S3BlobStore(s3_bucket.name, "p", multipart_threshold=5 * MiB, part_size=5 * MiB)

    def connection_lost(**_) -> None:
        raise ConnectionResetError("connection lost before the upload was completed")

    store.client.meta.events.register("before-call.s3.CompleteMultipartUpload", connection_lost)

    with pytest.raises(Exception, match="connection lost"):
        store.put(KEY, b"\x02" * (11 * MiB))

    assert not store.exists(KEY)
    assert s3_bucket.objects() == {}
    assert s3_bucket.client.list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads", []) == []


def test_throttling_is_retried(flaky_s3: FlakyS3, s3_bucket: S3Bucket) -> None:
    store = S3BlobStore.from_url(s3_bucket.url())
    flaky_s3.fail("PUT", "SlowDown", times=2)
    flaky_s3.fail("GET", "InternalError")

    store.put(KEY, DATA)

    assert store.get(KEY) == DATA
    assert flaky_s3.answered("PUT") == [503, 503, 200]
    assert flaky_s3.answered("GET") == [500, 200]


def test_throttling_that_does_not_end_is_an_error_and_stores_nothing(
    flaky_s3: FlakyS3, s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # the standard environment sets the number of tries
    store = S3BlobStore.from_url(s3_bucket.url())
    flaky_s3.fail("PUT", "SlowDown", times=5)

    with pytest.raises(ClientError, match="SlowDown"):
        store.put(KEY, DATA)

    assert flaky_s3.answered("PUT") == [503, 503]
    assert s3_bucket.objects() == {}


def test_an_answer_cut_off_mid_body_is_read_again(flaky_s3: FlakyS3, s3_bucket: S3Bucket) -> None:
    store = S3BlobStore.from_url(s3_bucket.url())
    store.put(KEY, DATA)
    flaky_s3.fail("GET", "truncate")

    assert store.get(KEY) == DATA
    assert flaky_s3.answered("GET") == [200, 200]


def test_the_start_up_check_passes_on_a_bucket_that_exists(s3_bucket: S3Bucket) -> None:
    S3BlobStore.from_url(s3_bucket.url()).check()


def test_a_missing_bucket_fails_the_start_up_check(s3_bucket: S3Bucket) -> None:
    store = S3BlobStore.from_url("s3://no-such-bucket/prefix")

    with pytest.raises(
        ConfigurationError, match="'no-such-bucket' at http://127.0.0.1:[0-9]+ does not exist"
    ):
        store.check()


def test_an_unreachable_endpoint_fails_the_start_up_check(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    use_endpoint(monkeypatch, tmp_path, f"http://127.0.0.1:{port}")
    store = S3BlobStore.from_url("s3://postvak-blobs")

    with pytest.raises(ConfigurationError, match="cannot be reached .* check AWS_ENDPOINT_URL_S3"):
        store.check()


def test_missing_credentials_fail_the_start_up_check(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    store = S3BlobStore.from_url(s3_bucket.url())

    with pytest.raises(ConfigurationError, match="no AWS credentials"):
        store.check()
