"""Sessions and throttles through the service, on the real database."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select

from postvak.auth import rules, service
from postvak.auth.models import Throttle, WebSession
from postvak.kit import clock
from tests.support.citizens import make_citizen


def test_start_session_stores_only_the_hash_and_resolves(runtime, bsns):
    citizen = make_citizen(runtime, bsns[0])
    with runtime.database.unit_of_work() as session:
        token = service.start_session(
            session, citizen_id=citizen.id, stage="full", ip="192.0.2.1", user_agent="test"
        )
    with runtime.database.unit_of_work(write=False) as session:
        [row] = session.scalars(select(WebSession))
        view = service.resolve_session(session, token=token)
    assert row.token_hash == rules.hash_token(token) and row.csrf_token != token
    assert view.citizen_id == citizen.id and view.mailbox_id == citizen.mailbox_id and view.activated
    with runtime.database.unit_of_work(write=False) as session:
        assert service.resolve_session(session, token=token + "x") is None
        assert service.resolve_session(session, token=None) is None


def test_only_a_full_session_starts_as_recently_authenticated(runtime, bsns):
    citizen = make_citizen(runtime, bsns[0])
    with runtime.database.unit_of_work() as session:
        full = service.start_session(session, citizen_id=citizen.id, stage="full", ip=None, user_agent=None)
        halfway = service.start_session(
            session, citizen_id=citizen.id, stage="password", ip=None, user_agent=None
        )
    with runtime.database.unit_of_work(write=False) as session:
        full_view = service.resolve_session(session, token=full)
        halfway_view = service.resolve_session(session, token=halfway)
    assert full_view.recently_authenticated(clock.now()) and full_view.authenticated_at is not None
    assert halfway_view.authenticated_at is None


def test_reauthentication_is_recorded_on_the_session_and_in_the_history(runtime, bsns):
    citizen = make_citizen(runtime, bsns[0])
    moment = [datetime(2027, 3, 1, 9, 0, tzinfo=UTC)]
    clock.set_clock(lambda: moment[0])
    with runtime.database.unit_of_work() as session:
        token = service.start_session(
            session, citizen_id=citizen.id, stage="full", ip="192.0.2.1", user_agent=None
        )
    moment[0] += rules.REAUTHENTICATION_WINDOW
    with runtime.database.unit_of_work() as session:
        view = service.resolve_session(session, token=token)
        assert not view.recently_authenticated(clock.now())
        attempt = service.throttle_password_attempt(session, username=view.username, ip="192.0.2.1")
        service.pass_reauthentication(session, view=view, attempt=attempt, ip="192.0.2.1", user_agent=None)
    with runtime.database.unit_of_work(write=False) as session:
        view = service.resolve_session(session, token=token)
        [event] = service.list_login_events(session, citizen_id=citizen.id)
        throttled = session.scalars(select(Throttle.failures)).all()
    assert view.recently_authenticated(clock.now()) and view.authenticated_at == moment[0]
    assert event.kind == "reauth-ok" and throttled == [0, 0, 0]  # the right password is forgiven


def test_revoke_all_sessions_logs_out_everywhere(runtime, bsns):
    citizen, other = make_citizen(runtime, bsns[0]), make_citizen(runtime, bsns[1])
    with runtime.database.unit_of_work() as session:
        mine = [
            service.start_session(session, citizen_id=citizen.id, stage="full", ip=None, user_agent=None)
            for _ in range(3)
        ]
        theirs = service.start_session(session, citizen_id=other.id, stage="full", ip=None, user_agent=None)
    with runtime.database.unit_of_work() as session:
        assert service.revoke_all_sessions(session, citizen_id=citizen.id) == 3
    with runtime.database.unit_of_work(write=False) as session:
        assert all(service.resolve_session(session, token=token) is None for token in mine)
        assert service.resolve_session(session, token=theirs) is not None


def test_parallel_attempts_are_all_counted(runtime):
    keys = rules.throttle_keys("jan@example.nl", "192.0.2.44").all

    def attempt(_):
        with runtime.database.unit_of_work() as session:
            return service.throttle_attempt(session, keys=keys).allowed

    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(attempt, range(24)))
    assert sum(allowed) == rules.PER_USERNAME_FROM_IP.threshold  # never more got through than the rule allows
    with runtime.database.unit_of_work(write=False) as session:
        counts = {row.key: row.failures for row in session.scalars(select(Throttle))}
    assert counts[keys[2][0]] == rules.PER_USERNAME_FROM_IP.threshold
