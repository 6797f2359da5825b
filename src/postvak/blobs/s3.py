"""The scale-out BlobStore: one object per blob in an S3-compatible bucket that every process shares."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote, urlsplit

import boto3
import botocore.session
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    FlexibleChecksumError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
)

from postvak.blobs.store import BlobMissing, check_key
from postvak.config import ConfigurationError

# Up to this size an object goes up in one PUT (every attachment does: they are at most 10 MiB); larger
# ones go up in parts read from the caller's buffer, so a failed part is retried alone and the object is
# never copied whole. S3 takes parts of at least 5 MiB.
MULTIPART_THRESHOLD = 16 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024
# Tries per request (the first and the retries) unless AWS_MAX_ATTEMPTS says otherwise. botocore's
# standard mode retries throttling (503 SlowDown), 5xx answers and broken connections with jittered
# exponential backoff, and stops retrying while most recent requests fail (its retry quota), so an
# outage does not multiply the load on the store.
ATTEMPTS = 5
CONNECT_SECONDS = 5
READ_SECONDS = 30  # the longest silence within one answer, not the time for the whole object
# One connection per thread of the server's thread pool, so requests do not wait for a free connection.
CONNECTIONS = 40
# A body cut off mid-read is not retried by botocore (its answer had already begun): we ask again.
BODY_ATTEMPTS = 3

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def make_client():
    """An S3 client from the standard AWS_* environment (credentials, region, AWS_ENDPOINT_URL_S3,
    AWS_RETRY_MODE, AWS_MAX_ATTEMPTS), with timeouts and the standard retry mode by default."""
    core = botocore.session.get_session()
    config = Config(
        connect_timeout=CONNECT_SECONDS,
        read_timeout=READ_SECONDS,
        max_pool_connections=CONNECTIONS,
        retries={
            "mode": core.get_config_variable("retry_mode") or "standard",
            "total_max_attempts": core.get_config_variable("max_attempts") or ATTEMPTS,
        },
    )
    return boto3.session.Session(botocore_session=core).client("s3", config=config)


class S3BlobStore:
    """Blobs at s3://bucket/prefix/<key>. A PUT is atomic per object (a multipart upload too, when it is
    completed), so a reader sees all of a blob or none of it; the bytes arrive sealed by the caller."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client=None,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
    ) -> None:
        if not _BUCKET.fullmatch(bucket):
            raise ConfigurationError(f"POSTVAK_BLOB_URL: {bucket!r} is not an S3 bucket name")
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.client = client or make_client()
        self._threshold = multipart_threshold
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=part_size, max_concurrency=4
        )

    @classmethod
    def from_url(cls, url: str, **options) -> S3BlobStore:
        """`s3://bucket` or `s3://bucket/some/prefix`."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ConfigurationError("POSTVAK_BLOB_URL: an S3 URL is s3://bucket or s3://bucket/prefix")
        return cls(parts.netloc, unquote(parts.path), **options)

    def check(self) -> None:
        """Fail at start-up, saying what to fix, when the bucket is missing, refused or out of reach."""
        where = f"S3 bucket {self.bucket!r} at {self.client.meta.endpoint_url}"
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                raise ConfigurationError(
                    f"{where} does not exist: create it, or correct POSTVAK_BLOB_URL or AWS_ENDPOINT_URL_S3"
                ) from None
            if status in (401, 403):
                raise ConfigurationError(
                    f"{where} refused access: check the AWS_* credentials and the bucket's policy"
                ) from None
            raise ConfigurationError(f"{where} answered {status}: {_code(exc)}") from exc
        except NoCredentialsError:
            raise ConfigurationError(
                f"{where}: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile)"
            ) from None
        except BotoCoreError as exc:
            raise ConfigurationError(
                f"{where} cannot be reached ({exc}): check AWS_ENDPOINT_URL_S3 and the network"
            ) from exc

    def put(self, key: str, data: bytes) -> None:
        name = self._name(key)
        if len(data) < self._threshold:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data)
            return
        # The parts are read from a view of `data` (BytesIO shares the bytes until written to). An upload
        # that fails is aborted by the transfer manager: no object appears, no parts are left behind.
        self.client.upload_fileobj(io.BytesIO(data), self.bucket, name, Config=self._transfer)

    def get(self, key: str) -> bytes:
        tries = BODY_ATTEMPTS
        while True:
            body = self._body(key)
            try:
                return body.read()  # read into one buffer of the announced length
            except (HTTPClientError, IncompleteReadError, FlexibleChecksumError):
                body.close()
                tries -= 1
                if not tries:
                    raise

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            # S3 answers 204 for a missing key; some compatible stores answer 404.
            if _code(exc) not in ("NoSuchKey", "404"):
                raise

    def _body(self, key: str):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                raise BlobMissing(key) from None
            raise

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
