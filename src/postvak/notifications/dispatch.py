"""The worker lanes that send notifications: e-mail over one reused SMTP connection, SMS through the
provider, each at a steady configurable rate, in batches whose outcome is committed together.

A crash after the server accepted an e-mail and before the batch's commit sends that e-mail
again on the next run, with the same Message-ID: duplicates are recognisable, none is lost.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

import structlog

from postvak.config import Settings
from postvak.db import Database
from postvak.jobs.repository import ClaimedJob
from postvak.kit import clock
from postvak.kit.mail import MailError, MailRefused, MailTransport, OutgoingMail, mail_domain, open_transport
from postvak.kit.ratelimit import Pace
from postvak.notifications import content, rules, service
from postvak.notifications.rules import DIGEST, EMAIL, SMS
from postvak.notifications.service import JOB_KINDS, Prepared, Result
from postvak.notifications.sms import SmsFailed, SmsProvider

log = structlog.get_logger("postvak.notifications")


class _Lane:
    channel: str
    reports_delivery = False  # SMS through a gateway that reports: `notified` waits for the report

    def __init__(self, database: Database, settings: Settings, per_second: float, batch: int) -> None:
        self.database = database
        self.settings = settings
        self.pace = Pace(per_second)
        self.batch = batch
        self.kinds = (JOB_KINDS[self.channel],)
        self.name = f"notify-{self.channel}"
        self.base_url = settings.base_url.rstrip("/")
        # Past this share of the lease another worker may claim the batch: what is left waits for it.
        self.sending_time = timedelta(seconds=settings.worker_lease_seconds * 0.8)

    def run(self, claimed: list[ClaimedJob]) -> None:
        with self.database.unit_of_work(write=False) as session:
            prepared = service.prepare(session, self.channel, claimed, clock.now())
        results = self.send_all(prepared)
        with self.database.unit_of_work() as session:
            service.record(session, results, clock.now(), sms_reports=self.reports_delivery)
        sent = sum(r.outcome == "sent" for r in results)
        retried = sum(r.outcome == "retry" for r in results)
        log.info("notifications handled", channel=self.channel, jobs=len(results), sent=sent, retry=retried)

    def send_all(self, prepared: Sequence[Prepared]) -> list[Result]:
        results, unreachable = [], None
        stop_at = clock.now() + self.sending_time
        for p in prepared:
            if p.decision != "send":
                results.append(Result(p, "digest" if p.decision == "digest" else "skipped"))
            elif unreachable:  # one connection failure says enough about the rest of the batch
                results.append(self._try_again(p, unreachable))
            elif clock.now() > stop_at:  # a slow server: never let the lease run out mid-batch
                results.append(Result(p, "retry", error="the batch took too long", retry_at=clock.now()))
            else:
                self.pace.wait()
                try:
                    result = self.send(p)
                except Exception as exc:  # noqa: BLE001 - one bad notification must not stall its batch
                    log.exception("notification could not be sent", job_id=p.job.id)
                    result = self._try_again(p, f"internal error: {type(exc).__name__}")
                if result.outcome == "retry" and result.error.startswith("unreachable"):
                    unreachable = result.error
                results.append(result)
        return results

    def send(self, p: Prepared) -> Result:
        raise NotImplementedError

    def _try_again(self, p: Prepared, error: str) -> Result:
        now = clock.now()
        retry_at = rules.next_attempt(p.since, p.job.attempt, now, random.random())
        if retry_at is None:
            return Result(p, "failed", error=f"no success in 48 hours ({error})")
        return Result(p, "retry", error=error, retry_at=retry_at)

    def link(self, message_id) -> str:
        return f"{self.base_url}/letters/{message_id}"

    def notice(self, p: Prepared) -> content.Notice:
        return content.Notice(
            reason=p.reason,
            letter=p.state.letter,
            link=self.link(p.state.message_id),
            settings_link=f"{self.base_url}/settings",
            language=p.reader.language,
        )

    def idle(self) -> None:
        pass


class EmailLane(_Lane):
    channel = EMAIL

    def __init__(self, database: Database, settings: Settings, batch: int = 100) -> None:
        super().__init__(database, settings, settings.notify_email_per_second, batch)
        self.domain = mail_domain(settings.mail_from)
        self._transport: MailTransport | None = None

    def send(self, p: Prepared) -> Result:
        mail = self.compose(p)
        try:
            self.transport.send(mail)
        except MailRefused as exc:
            if exc.permanent:
                return Result(p, "failed", error=str(exc))
            return self._try_again(p, str(exc))
        except MailError as exc:
            self.idle()
            return self._try_again(p, f"unreachable: {exc}")
        return Result(p, "sent", reference=mail.message_id)

    @property
    def transport(self) -> MailTransport:
        if self._transport is None:
            self._transport = open_transport(self.settings.smtp_url, sender=self.settings.mail_from)
        return self._transport

    def compose(self, p: Prepared) -> OutgoingMail:
        if p.reason == DIGEST:
            day = p.job.payload["since"][:10]
            return content.digest_mail(
                [content.DigestEntry(s.letter, self.link(s.message_id)) for s in p.digest],
                to=p.reader.addresses,
                message_id=rules.message_id(f"{p.reader.mailbox_id}.{day}", EMAIL, DIGEST, self.domain),
                language=p.reader.language,
                inbox_link=f"{self.base_url}/",
                settings_link=f"{self.base_url}/settings",
            )
        return content.notice_mail(
            self.notice(p),
            to=p.reader.addresses,
            message_id=rules.message_id(str(p.state.message_id), EMAIL, p.reason, self.domain),
        )

    def idle(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()


class SmsLane(_Lane):
    channel = SMS

    def __init__(
        self, database: Database, settings: Settings, provider: SmsProvider, batch: int = 50
    ) -> None:
        super().__init__(database, settings, settings.notify_sms_per_second, batch)
        self.provider = provider
        self.reports_delivery = getattr(provider, "reports_delivery", False)

    def send(self, p: Prepared) -> Result:
        reference = f"{p.reason}.{p.state.message_id}"
        try:
            provider_id = self.provider.send(p.reader.phone, content.notice_sms(self.notice(p)), reference)
        except SmsFailed as exc:
            if exc.permanent:
                return Result(p, "failed", error=str(exc))
            return self._try_again(p, f"unreachable: {exc}")
        return Result(p, "sent", reference=provider_id)
