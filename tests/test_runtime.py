"""The runtime's parts built from Settings: here, the SMS provider."""

import pytest

from postvak.notifications.sms import ConsoleSms, HttpGatewaySms
from postvak.runtime import build_sms


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
