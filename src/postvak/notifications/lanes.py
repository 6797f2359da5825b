"""The worker lanes that send notifications: e-mail over one reused SMTP connection, SMS through the
provider, each at a steady configurable rate, in batches whose outcome is committed together.

A crash after the server accepted an e-mail and before the batch's commit sends that e-mail
again on the next run, with the same Message-ID: duplicates are recognisable, none is lost.
An exception is another matter: one job that raises (in preparing, composing or recording) fails
alone, and the outcome of every other job of its batch is committed; a send is never repeated
because something after it raised (see service.record_outcomes).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import structlog

from postvak.config import Settings
from postvak.db import Database
from postvak.jobs.models import ClaimedJob
from postvak.jobs.rules import error_summary
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
        self.max_failures = settings.job_max_failures
        # Sending stops halfway through the lease: the rest of the batch waits for the next round,
        # and the other half of the lease is left for recording the outcome, however slowly that
        # goes, so that no other worker claims a job this one has sent and not yet recorded.
        self.lease = timedelta(seconds=settings.worker_lease_seconds)

    def run(self, claimed: list[ClaimedJob]) -> None:
        results = self.send_all(self.decide(claimed), self._stop_sending_at(claimed))
        failures = self.record_outcomes(results)
        for failure in failures:
            log.warning(
                "notification job parked" if failure.parked else "notification job failed",
                job_id=failure.job.id,
                attempt=failure.job.attempt,
                error=failure.error,
            )
        sent = sum(r.outcome == "sent" for r in results)
        retried = sum(r.outcome == "retry" for r in results)
        log.info(
            "notifications handled",
            channel=self.channel,
            jobs=len(results),
            sent=sent,
            retry=retried,
            failed_jobs=len(failures),
        )

    def _stop_sending_at(self, claimed: list[ClaimedJob]) -> datetime:
        ends = [j.leased_until for j in claimed if j.leased_until is not None]
        return (min(ends) if ends else clock.now() + self.lease) - self.lease / 2

    def decide(self, claimed: list[ClaimedJob]) -> list[Prepared]:
        """The batch decided together; if that raises, each job alone, and one that still raises
        fails alone (a payload that is not what it should be, a message that cannot be read)."""
        try:
            with self.database.unit_of_work(write=False) as session:
                return service.decide_notifications(
                    session, channel=self.channel, claimed=claimed, now=clock.now()
                )
        except Exception as exc:  # noqa: BLE001 - find the job that raised; its neighbours go on
            log.warning(
                "preparing a batch failed; preparing its jobs one by one",
                channel=self.channel,
                error=error_summary(exc),
            )
        prepared = []
        for job in claimed:
            try:
                with self.database.unit_of_work(write=False) as session:
                    prepared += service.decide_notifications(
                        session, channel=self.channel, claimed=[job], now=clock.now()
                    )
            except Exception as exc:  # noqa: BLE001 - this job fails alone
                prepared.append(
                    service.undecidable_notification(job, channel=self.channel, error=error_summary(exc))
                )
        return prepared

    def record_outcomes(self, results: list[Result]) -> list[service.Failure]:
        """The batch's outcomes in one transaction; if that write fails, each job's alone."""
        options = {"sms_reports": self.reports_delivery, "max_failures": self.max_failures}
        try:
            with self.database.unit_of_work() as session:
                return service.record_outcomes(session, results=results, now=clock.now(), **options)
        except Exception as exc:  # noqa: BLE001 - find the job whose record fails; the others are written
            # The summary only: a database error's full text holds the statement's parameters.
            log.warning(
                "recording a batch failed; recording its jobs one by one",
                channel=self.channel,
                error=error_summary(exc),
            )
        failures = []
        for result in results:
            failures += self._record_alone(result, options)
        return failures

    def _record_alone(self, result: Result, options: dict) -> list[service.Failure]:
        try:
            with self.database.unit_of_work() as session:
                return service.record_outcomes(session, results=[result], now=clock.now(), **options)
        except Exception as exc:  # noqa: BLE001 - then its outcome without the follow-ups
            error = f"its follow-ups failed: {error_summary(exc)}"
        try:
            with self.database.unit_of_work() as session:
                return service.record_outcomes(
                    session, results=[result], now=clock.now(), follow_ups_failed=error, **options
                )
        except Exception as exc:  # noqa: BLE001 - then only the job's own end
            error = error_summary(exc)
        with self.database.unit_of_work() as session:
            failure = service.fail_unrecorded_job(
                session, result=result, error=error, now=clock.now(), max_failures=self.max_failures
            )
        return [failure]

    def send_all(self, prepared: Sequence[Prepared], stop_at: datetime | None = None) -> list[Result]:
        results, unreachable = [], None
        stop_at = stop_at or clock.now() + self.lease / 2
        for p in prepared:
            if p.decision == "error":
                results.append(Result(p, "error", error=p.error))
            elif p.decision != "send":
                results.append(Result(p, "digest" if p.decision == "digest" else "skipped"))
            elif unreachable:  # one connection failure says enough about the rest of the batch
                results.append(self._try_again(p, unreachable))
            elif clock.now() > stop_at:  # a slow server: never let the lease run out mid-batch
                results.append(Result(p, "retry", error="the batch took too long", retry_at=clock.now()))
            else:
                self.pace.wait()
                try:
                    result = self.send(p)
                except Exception as exc:  # noqa: BLE001 - composing it raised: nothing went out
                    result = Result(p, "error", error=error_summary(exc))
                if result.outcome == "retry" and result.error.startswith("unreachable"):
                    unreachable = result.error
                results.append(result)
        return results

    def hand_over(self, p: Prepared, send: Callable[[], Result]) -> Result:
        """Run the call that hands the notification over. An exception other than the channel's own
        means it may have gone out: the job is parked rather than sent again."""
        try:
            return send()
        except Exception as exc:  # noqa: BLE001 - see above
            return Result(p, "unsure", error=f"it may have gone out: {error_summary(exc)}")

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
            summary=p.state.summary,
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
        mail, transport = self.compose(p), self.transport
        return self.hand_over(p, lambda: self._deliver(p, mail, transport))

    def _deliver(self, p: Prepared, mail: OutgoingMail, transport: MailTransport) -> Result:
        try:
            transport.send(mail)
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
                [content.DigestEntry(s.summary, self.link(s.message_id)) for s in p.digest],
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
        reference, text = f"{p.reason}.{p.state.message_id}", content.notice_sms(self.notice(p))
        return self.hand_over(p, lambda: self._deliver(p, text, reference))

    def _deliver(self, p: Prepared, text: str, reference: str) -> Result:
        try:
            provider_id = self.provider.send(p.reader.phone, text, reference)
        except SmsFailed as exc:
            if exc.permanent:
                return Result(p, "failed", error=str(exc))
            return self._try_again(p, f"unreachable: {exc}")
        return Result(p, "sent", reference=provider_id)
