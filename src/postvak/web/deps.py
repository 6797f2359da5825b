"""What every citizen page needs: the signed-in citizen (both factors done), and CSRF for forms.

The auth domain fills these in (postvak.auth.service); pages only depend on this module.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class CitizenSession:
    """A session that passed the password AND the second factor, of an activated account."""

    token_hash: str
    citizen_id: uuid.UUID
    mailbox_id: uuid.UUID
    csrf_token: str
    language: str  # "nl" or "en"


class LoginRequired(Exception):
    """Raised by require_citizen; the web app answers it with a redirect to the right step."""

    def __init__(self, location: str) -> None:
        self.location = location
