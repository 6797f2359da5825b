"""Webhook tests deliver to receivers on loopback over plain http: the development switch
POSTVAK_WEBHOOKS_ALLOW_PRIVATE=true is on here (tests/kit/test_netguard.py covers the guard itself)."""

import pytest

from postvak.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhooks_allow_private": True})
