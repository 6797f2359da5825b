"""Sending SMS through a provider: a console provider (default) and an HTTP gateway client.

A gateway answers a send with its own reference and later posts a delivery report to
our callback, signed with a shared secret (HMAC-SHA256 over the raw body).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

import httpx
import structlog

from postvak.notifications.rules import single_line

log = structlog.get_logger("postvak.sms")


class SmsFailed(Exception):
    """The provider refused or could not be reached; `permanent` says whether retrying can help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class SmsProvider(Protocol):
    reports_delivery: bool  # whether signed delivery reports will arrive at /callbacks/sms

    def send(self, to: str, text: str, reference: str) -> str:
        """Hand one SMS to the provider; returns the provider's reference for delivery reports."""
        ...


class ConsoleSms:
    """Writes SMS to the log instead of sending them (development and the demo)."""

    reports_delivery = False  # no delivery reports will come: handed over counts as delivered

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, text: str, reference: str) -> str:
        self.sent.append((to, text, reference))
        log.info("sms (console)", to=mask_number(to), reference=reference, text=single_line(text, 160))
        return f"console-{reference}"


class HttpGatewaySms:
    """Client of an HTTP SMS gateway: POST {to, text, reference, callbackUrl} with a bearer token."""

    reports_delivery = True

    def __init__(self, url: str, token: str, callback_url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.callback_url = callback_url
        self.timeout = timeout

    def send(self, to: str, text: str, reference: str) -> str:
        body = {
            "to": to,
            "text": single_line(text, 640),
            "reference": reference,
            "callbackUrl": self.callback_url,
        }
        try:
            response = httpx.post(
                self.url, json=body, timeout=self.timeout, headers={"Authorization": f"Bearer {self.token}"}
            )
        except httpx.TransportError as exc:
            raise SmsFailed(f"gateway unreachable: {type(exc).__name__}", permanent=False) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise SmsFailed(f"gateway answered {response.status_code}", permanent=False)
        if response.status_code >= 400:
            raise SmsFailed(f"gateway refused the message ({response.status_code})", permanent=True)
        return str(response.json()["id"])


def sign_report(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def report_is_authentic(body: bytes, signature: str, secret: str) -> bool:
    return hmac.compare_digest(sign_report(body, secret), signature or "")


def mask_number(number: str) -> str:
    """Phone numbers are personal data: logs show only the last two digits."""
    return "•" * max(len(number) - 2, 0) + number[-2:]
