"""Fixtures of the citizen web tests: a citizen with an account, signed in on the web client."""

import pytest

from tests.support.citizens import make_citizen, sign_in


@pytest.fixture
def citizen(runtime, bsns):
    return make_citizen(runtime, bsns[0])


@pytest.fixture
def csrf(runtime, web_client, citizen):
    """Signs the citizen in on `web_client`; the session's CSRF token."""
    return sign_in(web_client, runtime, citizen)
