"""One Settings object, read from POSTVAK_* environment variables."""

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(ValueError):
    """The installation cannot start as configured: a setting is wrong, or what it names is missing or out of
    reach. The message says which setting, and what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSTVAK_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str = "smtp://127.0.0.1:1025"  # or file:///some/dir: e-mails as .eml files (development)
    mail_from: str = "Postvak <noreply@postvak.localhost>"

    # Where attachments live: file:///path (default <data dir>/blobs), or s3://bucket/prefix with the standard
    # AWS_* environment (AWS_ENDPOINT_URL_S3 for a store other than AWS). Every process of an installation
    # that runs on more than one machine needs the same S3 bucket.
    blob_url: str = ""
    # The key-encryption keys (default <data dir>/keys.json): every process of one installation reads the
    # same file, e.g. on a shared mount or installed from a secret store.
    key_file: Path | None = None

    # SMS: "console" writes them to the log (development, the demo); "http" posts them to a gateway,
    # which reports delivery to our callback, signed with the shared secret.
    sms_provider: str = "console"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    sms_callback_secret: str = ""

    # Citizens' passwords: argon2id cost (time, memory; one lane); tests lower it.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536

    # Sender API limits; the message limits themselves are fixed by API.md (messages/rules.py).
    max_request_bytes: int = 1 * 1024 * 1024
    max_message_request_bytes: int = 32 * 1024 * 1024
    max_batch_request_bytes: int = 64 * 1024 * 1024
    sender_rate_per_second: float = 50.0
    sender_rate_burst: int = 100

    # PDF inspection runs in a child process with these limits.
    pdf_check_seconds: float = 10.0
    pdf_check_memory_mib: int = 512

    worker_poll_seconds: float = 1.0
    # A claimed job not finished by then (its worker died) is claimed again.
    worker_lease_seconds: float = 300.0
    # A job whose run raised (or whose worker died running it) this many times is parked: never run
    # again until an operator retries it (`postvak jobs`). Notifications refused by the mail server
    # are not failures: they give up after 48 hours on their own.
    job_max_failures: int = 10
    # Notifications per second per worker process and channel (0: as fast as the server takes them).
    # A mass mailing then reaches the mail relay and the SMS gateway at a pace they can carry.
    notify_email_per_second: float = 200.0
    notify_sms_per_second: float = 20.0
    # Webhooks: only https to public addresses unless this development switch is on (tests, demos);
    # then http and loopback/private addresses are allowed too. Never on by default.
    webhooks_allow_private: bool = False
    log_level: str = "INFO"
    log_json: bool = False

    # Paper fallback: where print batches go (default <data dir>/print), and Postvak's return address,
    # printed above the envelope window ("Postvak, Postbus 12345, 2500 AA  Den Haag").
    print_dir: Path | None = None
    print_return_address: str = "Postvak"
    # Tests only: the print provider pauses this long after each PDF and after the hand-over, so that a
    # crash test can kill a worker mid-batch. It only ever slows printing down; leave it 0.
    print_test_pause_seconds: float = 0.0

    # Statements (GET /api/v1/statements/{YYYY-MM}, `postvak statements`): euros per unit, as decimals
    # ("0.12"; never floats), at most four decimals. E-mails have no tariff: they are part of the letter's.
    # The paper equivalent is what one letter costs a sender on paper (printing, envelope, postage).
    tariff_letter: Decimal = Field(default=Decimal("0.10"), ge=0, decimal_places=4)
    tariff_sms: Decimal = Field(default=Decimal("0.07"), ge=0, decimal_places=4)
    tariff_print: Decimal = Field(default=Decimal("1.25"), ge=0, decimal_places=4)
    tariff_paper_equivalent: Decimal = Field(default=Decimal("1.50"), ge=0, decimal_places=4)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'postvak.db').resolve()}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "keys.json"

    @property
    def blob_dir(self) -> Path:
        """The filesystem blob store's directory: from a file:// POSTVAK_BLOB_URL, else under the data dir."""
        if not self.blob_url.startswith("file:"):
            return self.data_dir / "blobs"
        parts = urlsplit(self.blob_url)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/") or parts.query:
            raise ConfigurationError("POSTVAK_BLOB_URL: a file URL names an absolute path, file:///srv/blobs")
        return Path(unquote(parts.path))

    @property
    def resolved_print_dir(self) -> Path:
        return self.print_dir or self.data_dir / "print"


@lru_cache
def get_settings() -> Settings:
    return Settings()
