"""Sessions and throttles through the service, on the real database."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from postvak.auth import rules, service
from postvak.auth.models import Throttle, WebSession
from tests.support.citizens import make_citizen


def test_start_session_stores_only_the_hash_and_resolves(runtime, bsns):
    citizen = make_citizen(runtime, bsns[0])
    with runtime.database.unit_of_work() as session:
        token = service.start_session(session, citizen.id, stage="full", ip="192.0.2.1", user_agent="test")
    with runtime.database.unit_of_work(write=False) as session:
        [row] = session.scalars(select(WebSession))
        view = service.resolve_session(session, token)
    assert row.token_hash == rules.hash_token(token) and row.csrf_token != token
    assert view.citizen_id == citizen.id and view.mailbox_id == citizen.mailbox_id and view.activated
    with runtime.database.unit_of_work(write=False) as session:
        assert service.resolve_session(session, token + "x") is None
        assert service.resolve_session(session, None) is None


def test_revoke_all_sessions_logs_out_everywhere(runtime, bsns):
    citizen, other = make_citizen(runtime, bsns[0]), make_citizen(runtime, bsns[1])
    with runtime.database.unit_of_work() as session:
        mine = [
            service.start_session(session, citizen.id, stage="full", ip=None, user_agent=None)
            for _ in range(3)
        ]
        theirs = service.start_session(session, other.id, stage="full", ip=None, user_agent=None)
    with runtime.database.unit_of_work() as session:
        assert service.revoke_all_sessions(session, citizen.id) == 3
    with runtime.database.unit_of_work(write=False) as session:
        assert all(service.resolve_session(session, token) is None for token in mine)
        assert service.resolve_session(session, theirs) is not None


def test_parallel_attempts_are_all_counted(runtime):
    keys = rules.throttle_keys("jan@example.nl", "192.0.2.44").all

    def attempt(_):
        with runtime.database.unit_of_work() as session:
            return service.claim_attempt(session, keys).allowed

    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(attempt, range(24)))
    assert sum(allowed) == rules.PER_ACCOUNT_FROM_IP.threshold  # never more got through than the rule allows
    with runtime.database.unit_of_work(write=False) as session:
        counts = {row.key: row.failures for row in session.scalars(select(Throttle))}
    assert counts[keys[2][0]] == rules.PER_ACCOUNT_FROM_IP.threshold
