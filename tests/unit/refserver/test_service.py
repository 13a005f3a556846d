"""Protocol semantics without HTTP: seats, conflicts, refresh rotation, idle expiry, tombstones."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.refserver import logged_captcha_answer
from tests.unit.refserver.conftest import DESK, LAPTOP, PHONE
from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.problems import Problem
from vms_tray.refserver.service import ConflictCaller, Service, SessionCaller
from vms_tray.refserver.storage import SCHEMA_VERSION, Store
from vms_tray.refserver.throttle import ThrottlePolicy
from vms_tray.testing.clock import FakeServerClock


def v1_limit(limit: dict[str, Any]) -> dict[str, Any]:
    """The v1 members of a limit object (v1.1 adds held and next_free_at)."""
    return {k: limit[k] for k in ("scope", "max", "active")}


def problem(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Problem:
    with pytest.raises(Problem) as info:
        fn(*args, **kwargs)
    return info.value


def sign_in(service: Service, client: Any = LAPTOP, login: str = "anna", pw: str = "pw") -> Any:
    return service.sign_in(login, pw, client, "10.0.0.1")


def caller(service: Service, access: str) -> SessionCaller:
    c = service.authenticate(access, allow_conflict=False)
    assert isinstance(c, SessionCaller)
    return c


def test_sign_in_returns_tokens_and_limit(service: Service) -> None:
    r = sign_in(service)
    assert r["token_type"] == "Bearer"
    assert len(r["access_token"]) >= 43 and r["access_token"] != r["refresh_token"]
    assert r["expires_in"] == 300 and r["refresh_expires_in"] == 43200 and r["idle_timeout"] == 900
    assert v1_limit(r["limit"]) == {"scope": "account", "max": 2, "active": 1}


def test_tokens_are_stored_hashed_only(service: Service) -> None:
    # A password long and odd enough that it cannot turn up by chance inside base64 hashes
    # (a two-letter one did, once in a few hundred runs).
    secret = "Plain-Text-Password-Marker-7Q"
    service.add_user("carol", secret)
    r = sign_in(service, login="carol", pw=secret)
    dump = "\n".join(service.store._conn.iterdump())
    assert r["access_token"] not in dump and r["refresh_token"] not in dump
    assert secret not in dump


def test_unknown_login_and_wrong_password_get_the_same_answer(service: Service) -> None:
    a = problem(service.sign_in, "nobody", "pw", LAPTOP, "10.0.0.1")
    b = problem(service.sign_in, "anna", "wrong", LAPTOP, "10.0.0.2")
    assert a.name == b.name == "invalid-credentials"
    assert a.body() == b.body()
    assert a.headers == b.headers


def test_full_account_gives_conflict_with_sessions_and_token(service: Service) -> None:
    sign_in(service, LAPTOP)
    sign_in(service, DESK)
    p = problem(sign_in, service, PHONE)
    assert p.name == "session-limit" and p.status == 409
    ext = p.extensions
    assert v1_limit(ext["limit"]) == {"scope": "account", "max": 2, "active": 2}
    assert [s["device"] for s in ext["sessions"]] == ["laptop", "desk"]
    assert all(s["current"] is False for s in ext["sessions"])
    assert ext["conflict_expires_in"] == 120 and len(ext["conflict_token"]) >= 43


def test_conflict_token_lists_ends_one_and_finishes_without_password(service: Service) -> None:
    sign_in(service, LAPTOP)
    desk = sign_in(service, DESK)
    token = problem(sign_in, service, PHONE).extensions["conflict_token"]
    c = service.authenticate(token, allow_conflict=True)
    assert isinstance(c, ConflictCaller)
    listed = service.list_sessions(c)
    assert [s["device"] for s in listed["sessions"]] == ["laptop", "desk"]
    service.end_session(c, desk["session_id"])
    done = service.finish_sign_in(token, "10.0.0.9")
    assert done["limit"]["active"] == 2
    me = caller(service, done["access_token"])
    assert (me.session.device, me.session.software) == ("phone", "other-client")
    # The desk learns who ended it.
    p = problem(service.authenticate, desk["access_token"], allow_conflict=False)
    assert p.name == "session-ended"
    assert p.extensions["reason"] == "ended_by_other"
    assert p.extensions["ended_by"] == {"device": "phone", "software": "other-client"}
    # A conflict token is single use.
    assert problem(service.finish_sign_in, token, "10.0.0.9").name == "token-expired"


def test_conflict_token_cannot_act_as_a_session(service: Service) -> None:
    sign_in(service, LAPTOP)
    sign_in(service, DESK)
    token = problem(sign_in, service, PHONE).extensions["conflict_token"]
    assert problem(service.authenticate, token, allow_conflict=False).name == "token-expired"
    c = service.authenticate(token, allow_conflict=True)
    assert problem(service.current, c).name == "session-not-found"
    assert problem(service.refresh, token).name == "token-expired"


def test_conflict_token_ends_only_its_accounts_listed_sessions(service: Service) -> None:
    bob = sign_in(service, LAPTOP, "bob", "pw-b")
    sign_in(service, LAPTOP)
    sign_in(service, DESK)
    token = problem(sign_in, service, PHONE).extensions["conflict_token"]
    c = service.authenticate(token, allow_conflict=True)
    assert problem(service.end_session, c, bob["session_id"]).name == "session-not-found"
    assert problem(service.end_session, c, "no-such-id").name == "session-not-found"
    caller(service, bob["access_token"])  # untouched


def test_finishing_while_still_full_gives_a_fresh_conflict_token(service: Service) -> None:
    sign_in(service, LAPTOP)
    sign_in(service, DESK)
    first = problem(sign_in, service, PHONE).extensions["conflict_token"]
    again = problem(service.finish_sign_in, first, "10.0.0.1")
    assert again.name == "session-limit"
    second = again.extensions["conflict_token"]
    assert second != first
    assert problem(service.finish_sign_in, first, "10.0.0.1").name == "token-expired"
    assert problem(service.finish_sign_in, second, "10.0.0.1").name == "session-limit"


def test_conflict_token_expires_after_120_s(service: Service, clock: FakeServerClock) -> None:
    sign_in(service, LAPTOP)
    desk = sign_in(service, DESK)
    token = problem(sign_in, service, PHONE).extensions["conflict_token"]
    clock.advance(121)
    # Keep the seats busy so only the token's age matters.
    service.refresh(desk["refresh_token"])
    assert problem(service.finish_sign_in, token, "10.0.0.1").name == "token-expired"
    assert problem(service.authenticate, token, allow_conflict=True).name == "token-expired"


def test_waiting_for_an_idle_session_to_close(service: Service, clock: FakeServerClock) -> None:
    """The client retries the finish every 100 s; each 409 hands it a fresh conflict token."""
    laptop = sign_in(service, LAPTOP)
    sign_in(service, DESK)
    token = problem(sign_in, service, PHONE).extensions["conflict_token"]
    for _ in range(8):  # 800 s: the desk (idle since 0) is still within its 900 s
        clock.advance(100)
        laptop = service.refresh(laptop["refresh_token"])  # the laptop stays active
        token = problem(service.finish_sign_in, token, "10.0.0.1").extensions["conflict_token"]
    clock.advance(101)
    laptop = service.refresh(laptop["refresh_token"])
    done = service.finish_sign_in(token, "10.0.0.1")
    assert done["limit"]["active"] == 2
    listed = service.list_sessions(caller(service, done["access_token"]))
    assert [s["device"] for s in listed["sessions"]] == ["laptop", "phone"]


def test_user_limit_overrides_the_default(make_service: Callable[..., Service]) -> None:
    service = make_service(max_sessions=1)
    service.add_user("carl", "pw-c", max_sessions=3)
    for client in (LAPTOP, DESK, PHONE):
        assert service.sign_in("carl", "pw-c", client, "a")["limit"]["max"] == 3
    sign_in(service)
    assert problem(sign_in, service, DESK).extensions["limit"]["max"] == 1


def test_no_limit(make_service: Callable[..., Service]) -> None:
    service = make_service(max_sessions=None)
    for _ in range(5):
        r = sign_in(service)
    assert v1_limit(r["limit"]) == {"scope": "account", "max": None, "active": 5}


def test_refresh_rotates_and_refuses_reuse_by_ending_the_family(
    service: Service, clock: FakeServerClock
) -> None:
    first = sign_in(service)
    clock.advance(10)
    middle = service.refresh(first["refresh_token"])
    assert middle["refresh_token"] != first["refresh_token"]
    assert middle["access_token"] != first["access_token"]
    assert middle["session_id"] == first["session_id"]
    second = service.refresh(middle["refresh_token"])
    # The first token's successor was used: presenting it now means two parties hold it.
    reuse = problem(service.refresh, first["refresh_token"])
    assert reuse.name == "token-expired"
    assert reuse.headers["WWW-Authenticate"].startswith("Bearer")
    # The whole family is gone: the current tokens too.
    ended = problem(service.refresh, second["refresh_token"])
    assert ended.name == "session-ended" and ended.extensions["reason"] == "expired"
    assert problem(service.authenticate, second["access_token"], allow_conflict=False).name == (
        "session-ended"
    )


def test_a_refresh_retried_after_a_lost_reply_replaces_the_pair_it_never_saw(
    service: Service, clock: FakeServerClock
) -> None:
    first = sign_in(service)
    clock.advance(100)
    unseen = service.refresh(first["refresh_token"])  # the reply is lost on the way
    clock.advance(30)
    retried = service.refresh(first["refresh_token"])
    assert retried["session_id"] == first["session_id"]
    assert retried["refresh_token"] not in (first["refresh_token"], unseen["refresh_token"])
    # Only one pair lives on: the unseen one is gone, the client's old access token still works.
    assert problem(service.refresh, unseen["refresh_token"]).name == "token-expired"
    p = problem(service.authenticate, unseen["access_token"], allow_conflict=False)
    assert p.name == "token-expired"
    caller(service, first["access_token"])
    # Retried again within the grace (the second reply lost too): still the same session.
    clock.advance(30)
    again = service.refresh(first["refresh_token"])
    assert problem(service.refresh, retried["refresh_token"]).name == "token-expired"
    nxt = service.refresh(again["refresh_token"])
    # From now on the first token is plain reuse: its rotation's successor has been used.
    assert problem(service.refresh, first["refresh_token"]).name == "token-expired"
    assert problem(service.refresh, nxt["refresh_token"]).name == "session-ended"


def test_a_retry_after_the_new_access_token_was_used_is_reuse(
    service: Service, clock: FakeServerClock
) -> None:
    """Whoever used the rotation's access token received the answer: the spent refresh token
    presented again within the grace comes from someone else, and ends the session."""
    first = sign_in(service)
    rotated = service.refresh(first["refresh_token"])
    caller(service, first["access_token"])  # the old access token: still no proof of receipt
    caller(service, rotated["access_token"])
    clock.advance(5)
    p = problem(service.refresh, first["refresh_token"])
    assert p.name == "token-expired" and "already used" in p.detail
    ended = problem(service.authenticate, rotated["access_token"], allow_conflict=False)
    assert ended.name == "session-ended" and ended.extensions["reason"] == "expired"


def test_a_schema_1_database_gains_the_used_column(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema', '1');"
            "CREATE TABLE tokens (hash TEXT PRIMARY KEY, kind TEXT NOT NULL, "
            "session_id TEXT NOT NULL, expires_at REAL NOT NULL, rotated_at REAL);"
            "INSERT INTO tokens VALUES ('h', 'access', 's', 1e12, NULL);"
        )
        db.commit()
    store = Store(path)
    try:
        token = store.get_token("h")
        assert token is not None and token.used_at is None
        store.mark_used("h", 5.0)
        token = store.get_token("h")
        assert token is not None and token.used_at == 5.0
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (
            str(SCHEMA_VERSION),
        )
        assert db.execute("SELECT count(*) FROM devices").fetchone() == (0,)


def test_a_retry_after_the_grace_is_reuse(service: Service, clock: FakeServerClock) -> None:
    first = sign_in(service)
    unseen = service.refresh(first["refresh_token"])
    clock.advance(service.config.refresh_grace + 1)
    assert problem(service.refresh, first["refresh_token"]).name == "token-expired"
    ended = problem(service.refresh, unseen["refresh_token"])
    assert ended.name == "session-ended" and ended.extensions["reason"] == "expired"


def test_old_access_token_lives_until_its_own_expiry(
    service: Service, clock: FakeServerClock
) -> None:
    first = sign_in(service)
    service.refresh(first["refresh_token"])
    caller(service, first["access_token"])
    clock.advance(301)
    p = problem(service.authenticate, first["access_token"], allow_conflict=False)
    assert p.name == "token-expired"


def test_access_token_expiry_is_not_the_end_of_the_session(
    service: Service, clock: FakeServerClock
) -> None:
    r = sign_in(service)
    clock.advance(301)
    assert problem(service.authenticate, r["access_token"], allow_conflict=False).name == (
        "token-expired"
    )
    fresh = service.refresh(r["refresh_token"])
    caller(service, fresh["access_token"])


def test_a_refresh_token_is_not_a_bearer_token(service: Service) -> None:
    r = sign_in(service)
    p = problem(service.authenticate, r["refresh_token"], allow_conflict=True)
    assert p.name == "token-expired"


def test_idle_session_ends_with_reason_and_frees_the_seat(
    make_service: Callable[..., Service], clock: FakeServerClock
) -> None:
    service = make_service(access_ttl=3600.0)
    a = sign_in(service, LAPTOP)
    sign_in(service, DESK)
    clock.advance(899)
    caller(service, a["access_token"])  # activity: the laptop stays
    clock.advance(2)
    listed = service.list_sessions(caller(service, a["access_token"]))
    assert [s["device"] for s in listed["sessions"]] == ["laptop"]
    assert listed["limit"]["active"] == 1


def test_idle_expiry_reason_reaches_the_client(service: Service, clock: FakeServerClock) -> None:
    r = sign_in(service)
    clock.advance(901)
    p = problem(service.refresh, r["refresh_token"])
    assert p.name == "session-ended" and p.extensions["reason"] == "idle_timeout"
    assert "ended_by" not in p.extensions


def test_refresh_is_activity(service: Service, clock: FakeServerClock) -> None:
    """Nothing but refreshes for 3000 s, past three idle timeouts (900 s): the session stays,
    its last activity the last refresh."""
    r = sign_in(service)
    (signed_in,) = service.store.active_sessions("anna")
    for _ in range(5):
        clock.advance(600)
        r = service.refresh(r["refresh_token"])
    (session,) = service.store.active_sessions("anna")
    assert session.id == signed_in.id
    assert session.started_at == clock.now() - 3000 and session.last_activity == clock.now()


def test_idle_flag_after_half_the_idle_timeout_capped_at_5_minutes(
    make_service: Callable[..., Service], clock: FakeServerClock
) -> None:
    service = make_service(idle_timeout=400.0, access_ttl=3600.0)
    a = sign_in(service, LAPTOP)
    sign_in(service, DESK)
    clock.advance(150)
    listed = service.list_sessions(caller(service, a["access_token"]))
    assert [s["idle"] for s in listed["sessions"]] == [False, False]
    clock.advance(51)  # the desk: 201 s > 400/2
    listed = service.list_sessions(caller(service, a["access_token"]))
    assert [s["idle"] for s in listed["sessions"]] == [False, True]

    long = make_service(idle_timeout=3600.0, access_ttl=3600.0)
    b = sign_in(long, LAPTOP)
    sign_in(long, DESK)
    clock.advance(301)
    listed = long.list_sessions(caller(long, b["access_token"]))
    assert [s["idle"] for s in listed["sessions"]] == [False, True]


def test_sessions_without_idle_timeout_expire_with_their_refresh_token(
    make_service: Callable[..., Service], clock: FakeServerClock
) -> None:
    service = make_service(idle_timeout=None, refresh_ttl=1000.0, access_ttl=100.0)
    r = sign_in(service)
    assert r["idle_timeout"] is None
    clock.advance(999)
    r = service.refresh(r["refresh_token"])
    clock.advance(1001)
    p = problem(service.refresh, r["refresh_token"])
    assert p.extensions["reason"] == "expired"


def test_list_is_own_account_only_and_marks_current(service: Service) -> None:
    a = sign_in(service, LAPTOP)
    sign_in(service, DESK)
    sign_in(service, PHONE, "bob", "pw-b")
    listed = service.list_sessions(caller(service, a["access_token"]))
    assert [(s["device"], s["current"]) for s in listed["sessions"]] == [
        ("laptop", True),
        ("desk", False),
    ]
    entry = listed["sessions"][0]
    assert set(entry) == {
        "id",
        "device",
        "software",
        "version",
        "address",
        "started_at",
        "last_activity",
        "idle",
        "current",
        "ends_by_itself_at",
    }
    assert entry["address"] == "10.0.0.1" and entry["started_at"].endswith("Z")
    assert service.current(caller(service, a["access_token"]))["current"] is True


def test_ending_another_accounts_session_is_not_found(service: Service) -> None:
    a = sign_in(service)
    bob = sign_in(service, LAPTOP, "bob", "pw-b")
    me = caller(service, a["access_token"])
    p = problem(service.end_session, me, bob["session_id"])
    assert p.name == "session-not-found" and p.status == 404
    # Same answer as for an id that never existed: nothing is revealed.
    assert p.body() == problem(service.end_session, me, "never-existed").body()


def test_ending_own_other_session_and_own_id(service: Service) -> None:
    a = sign_in(service, LAPTOP)
    d = sign_in(service, DESK)
    service.end_session(caller(service, a["access_token"]), d["session_id"])
    p = problem(service.authenticate, d["access_token"], allow_conflict=False)
    assert p.extensions["ended_by"] == {"device": "laptop", "software": "vms-tray"}
    assert problem(
        service.end_session, caller(service, a["access_token"]), d["session_id"]
    ).name == ("session-not-found")
    service.end_session(caller(service, a["access_token"]), a["session_id"])
    p = problem(service.authenticate, a["access_token"], allow_conflict=False)
    assert p.extensions["reason"] == "logout"


def test_sign_out_is_idempotent_frees_the_seat_and_accepts_any_session_token(
    service: Service, clock: FakeServerClock
) -> None:
    a = sign_in(service, LAPTOP)
    b = sign_in(service, DESK)
    service.sign_out(a["access_token"])
    service.sign_out(a["access_token"])
    service.sign_out(a["refresh_token"])
    p = problem(service.authenticate, a["access_token"], allow_conflict=False)
    assert p.name == "session-ended" and p.extensions["reason"] == "logout"
    sign_in(service, PHONE)  # the seat is free
    clock.advance(400)  # b's access token expired: sign-out still works with it
    service.sign_out(b["access_token"])
    assert problem(service.refresh, b["refresh_token"]).extensions["reason"] == "logout"
    assert problem(service.sign_out, "never-issued").name == "token-expired"


def test_sign_out_with_a_conflict_token_abandons_it(service: Service) -> None:
    sign_in(service, LAPTOP)
    sign_in(service, DESK)
    token = problem(sign_in, service, PHONE).extensions["conflict_token"]
    service.sign_out(token)
    assert problem(service.finish_sign_in, token, "a").name == "token-expired"


def test_tombstones_are_forgotten_after_their_lifetime(
    make_service: Callable[..., Service], clock: FakeServerClock
) -> None:
    service = make_service(tombstone_ttl=3600.0)
    r = sign_in(service)
    service.sign_out(r["access_token"])
    clock.advance(3000)
    assert problem(service.refresh, r["refresh_token"]).name == "session-ended"
    clock.advance(44000)  # beyond the tombstone and the refresh token's own lifetime
    assert problem(service.refresh, r["refresh_token"]).name == "token-expired"


def test_throttle_after_five_failures_of_a_pair(service: Service, clock: FakeServerClock) -> None:
    for _ in range(5):
        problem(service.sign_in, "anna", "wrong", LAPTOP, "10.6.6.6")
    clock.advance(10)
    p = problem(service.sign_in, "anna", "pw", LAPTOP, "10.6.6.6")
    assert p.name == "login-throttled" and p.status == 429
    assert p.headers["Retry-After"] == "20" and p.extensions["retry_after"] == 20
    service.sign_in("bob", "pw-b", LAPTOP, "10.6.6.6")  # other logins from there are fine
    clock.advance(20)
    service.sign_in("anna", "pw", LAPTOP, "10.6.6.6")


def test_a_guesser_elsewhere_never_locks_the_owner_out(
    service: Service, clock: FakeServerClock
) -> None:
    """Issue 14 item 2: 5 wrong passwords a minute from one address refused the real user at
    another address 50 times in 50."""
    refused = 0
    for _ in range(50):
        for _ in range(5):
            p = problem(service.sign_in, "anna", "wrong", LAPTOP, "10.6.6.6")
            assert p.name in ("invalid-credentials", "login-throttled")
        try:
            r = service.sign_in("anna", "pw", DESK, "10.0.0.2")
        except Problem as exc:
            assert exc.name == "login-throttled"
            refused += 1
        else:
            service.sign_out(r["access_token"])
        clock.advance(60)
    assert refused == 0


def test_a_distributed_guesser_stops_unknown_devices_not_a_known_one(
    make_service: Callable[..., Service], clock: FakeServerClock
) -> None:
    service = make_service(throttle=ThrottlePolicy(login_ceiling=10))
    known = service.sign_in("anna", "pw", DESK, "10.0.0.2")
    token = known["device_token"]
    assert isinstance(token, str) and len(token) >= 32
    service.sign_out(known["access_token"])
    for i in range(10):
        problem(service.sign_in, "anna", "wrong", LAPTOP, f"10.6.6.{i}")
    # The login's ceiling: a device that never signed in waits, wherever it is.
    p = problem(service.sign_in, "anna", "pw", LAPTOP, "10.0.0.3")
    assert p.name == "login-throttled" and p.extensions["retry_after"] == 900
    # The known device is not stopped by the others' failures, from any address.
    again = service.sign_in("anna", "pw", DESK, "10.0.0.4", device_token=token)
    assert again["device_token"] == token
    # A device token of another login makes a device unknown, not known.
    bob = service.sign_in("bob", "pw-b", PHONE, "10.0.0.5")
    p = problem(service.sign_in, "anna", "pw", LAPTOP, "10.0.0.3", device_token=bob["device_token"])
    assert p.name == "login-throttled"
    p = problem(service.sign_in, "anna", "pw", LAPTOP, "10.0.0.3", device_token="made-up")
    assert p.name == "login-throttled"


def test_a_known_device_behind_the_guessers_address(
    make_service: Callable[..., Service], clock: FakeServerClock, captcha_log: Path
) -> None:
    service = make_service(captcha="after-failures")
    token = service.sign_in("anna", "pw", DESK, "10.0.0.1")["device_token"]
    for _ in range(5):  # a guesser behind the same NAT address, solving every captcha
        solved = captcha_answer(captcha_log, service.request_captcha("10.0.0.1"))
        p = problem(service.sign_in, "anna", "wrong", LAPTOP, "10.0.0.1", solved)
        assert p.name == "invalid-credentials"
    # That pair waits (and needs a captcha); the known device at the same address does not.
    assert problem(service.sign_in, "anna", "pw", LAPTOP, "10.0.0.1").name == "login-throttled"
    # Signed in at once, without a captcha (none was sent), keeping its device token.
    known = service.sign_in("anna", "pw", DESK, "10.0.0.1", device_token=token)
    assert known["device_token"] == token
    assert caller(service, known["access_token"]).session.id == known["session_id"]
    assert known["limit"]["active"] == 2  # its first session and this one


def test_every_correct_password_hands_out_a_device_token(service: Service) -> None:
    first = sign_in(service)
    second = sign_in(service, DESK)
    assert first["device_token"] != second["device_token"]
    p = problem(sign_in, service, PHONE)
    assert p.name == "session-limit" and len(p.extensions["device_token"]) >= 32
    kept = problem(
        service.sign_in, "anna", "pw", PHONE, "10.0.0.1", device_token=p.extensions["device_token"]
    )
    assert kept.extensions["device_token"] == p.extensions["device_token"]


def test_device_tokens_expire_after_90_days_unused(
    make_service: Callable[..., Service], clock: FakeServerClock
) -> None:
    service = make_service(max_sessions=None)
    token = sign_in(service)["device_token"]
    clock.advance(89 * 86400)
    assert sign_in_with(service, token)["device_token"] == token  # extends it
    clock.advance(89 * 86400)
    assert sign_in_with(service, token)["device_token"] == token
    clock.advance(91 * 86400)
    assert sign_in_with(service, token)["device_token"] != token


def sign_in_with(service: Service, device_token: str) -> Any:
    return service.sign_in("anna", "pw", LAPTOP, "10.0.0.1", device_token=device_token)


def captcha_answer(log: Path, captcha: dict[str, Any]) -> tuple[str, str]:
    cid = captcha["captcha_id"]
    return cid, logged_captcha_answer(log, cid)


def test_captcha_always(
    make_service: Callable[..., Service], clock: FakeServerClock, captcha_log: Path
) -> None:
    service = make_service(captcha="always")
    p = problem(sign_in, service)
    assert p.name == "captcha-required" and p.status == 403
    cid, answer = captcha_answer(captcha_log, p.extensions["captcha"])
    p = problem(service.sign_in, "anna", "pw", LAPTOP, "a", (cid, "WRONG1"))
    assert p.name == "captcha-invalid"
    # Single use: the right answer no longer helps.
    assert problem(service.sign_in, "anna", "pw", LAPTOP, "a", (cid, answer)).name == (
        "captcha-invalid"
    )
    cid, answer = captcha_answer(captcha_log, p.extensions["captcha"])
    clock.advance(61)
    p = problem(service.sign_in, "anna", "pw", LAPTOP, "a", (cid, answer))
    assert p.name == "captcha-expired" and p.extensions["captcha"]["expires_in"] == 60
    cid, answer = captcha_answer(captcha_log, p.extensions["captcha"])
    service.sign_in("anna", "pw", LAPTOP, "a", (cid, answer.lower()))


def test_captcha_is_checked_before_the_password(make_service: Callable[..., Service]) -> None:
    service = make_service(captcha="always")
    # No password oracle without a captcha: a wrong password still asks for the captcha.
    assert problem(service.sign_in, "anna", "wrong", LAPTOP, "a").name == "captcha-required"


def test_captcha_after_two_wrong_passwords_of_the_pair(
    make_service: Callable[..., Service], captcha_log: Path
) -> None:
    """Issue 10 item 7: the README says two wrong passwords bring the captcha; it took three."""
    service = make_service(captcha="after-failures")
    for _ in range(2):
        assert problem(service.sign_in, "anna", "bad", LAPTOP, "a").name == ("invalid-credentials")
    p = problem(service.sign_in, "anna", "pw", LAPTOP, "a")
    assert p.name == "captcha-required"
    # Only that (login, address) pair: the login elsewhere and other logins there sign in.
    service.sign_in("anna", "pw", DESK, "b")
    service.sign_in("bob", "pw-b", LAPTOP, "a")
    cid, answer = captcha_answer(captcha_log, p.extensions["captcha"])
    service.sign_in("anna", "pw", PHONE, "a", (cid, answer))


def test_a_successful_sign_in_ends_the_pairs_captcha(
    make_service: Callable[..., Service], clock: FakeServerClock, captcha_log: Path
) -> None:
    """Issue 10 item 7: after the captcha every sign-in from the machine needed one for 15
    minutes, which stopped a later 'wait for a seat, then sign in by itself'."""
    service = make_service(captcha="after-failures", max_sessions=None)
    for _ in range(2):
        problem(service.sign_in, "anna", "bad", LAPTOP, "a")
    p = problem(service.sign_in, "anna", "pw", LAPTOP, "a")
    cid, answer = captcha_answer(captcha_log, p.extensions["captcha"])
    service.sign_in("anna", "pw", LAPTOP, "a", (cid, answer))
    clock.advance(60)
    r = service.sign_in("anna", "pw", LAPTOP, "a")  # no captcha any more
    assert r["access_token"] and service.captchas.outstanding() == 0  # none drawn for it
    # The pair's count of wrong passwords starts again: one more is refused, not captcha'd.
    assert problem(service.sign_in, "anna", "bad", LAPTOP, "a").name == "invalid-credentials"


def test_captcha_never_ignores_captchas(service: Service) -> None:
    r = service.sign_in("anna", "pw", LAPTOP, "a", ("bogus", "bogus"))
    assert r["access_token"] and r["limit"]["active"] == 1
    assert service.captchas.outstanding() == 0  # nothing was drawn or checked
    for _ in range(6):
        problem(service.sign_in, "anna", "bad", LAPTOP, "a")
    # Throttled, never asked for a captcha: the policy is "never".
    assert problem(service.sign_in, "anna", "pw", LAPTOP, "a").name == "login-throttled"
    assert service.captchas.outstanding() == 0


def test_info(make_service: Callable[..., Service], clock: FakeServerClock) -> None:
    info = make_service(captcha="after-failures", name="Site A").info()
    assert info["name"] == "Site A" and info["captcha"] == "after-failures"
    assert info["api_version"] == "1.1" and info["idle_timeout"] == 900
    assert info["server_time"] == "2027-01-15T08:00:00Z"
    assert clock.now() == 1_800_000_000.0


def test_restart_keeps_sessions(tmp_path: Any, clock: FakeServerClock) -> None:
    from tests.unit.refserver.conftest import FAST_KDF
    from vms_tray.refserver.storage import Store

    config = ServerConfig(kdf=FAST_KDF, throttle=ThrottlePolicy())
    first = Service(Store(tmp_path / "db.sqlite3"), clock, config)
    first.add_user("anna", "pw")
    r = first.sign_in("anna", "pw", LAPTOP, "a")
    first.store.close()
    second = Service(Store(tmp_path / "db.sqlite3"), clock, config)
    assert (
        second.current(second.authenticate(r["access_token"], allow_conflict=False))["id"]
        == (r["session_id"])
    )
    second.refresh(r["refresh_token"])
    second.store.close()


def test_captcha_pictures_are_rate_limited_per_address(service: Service) -> None:
    for _ in range(30):
        service.request_captcha("10.1.1.1")
    p = problem(service.request_captcha, "10.1.1.1")
    assert p.name == "login-throttled" and p.status == 429 and "Retry-After" in p.headers
    service.request_captcha("10.1.1.2")


def test_sign_ins_that_draw_a_captcha_share_the_addresss_rate_and_bound(
    make_service: Callable[..., Service],
    clock: FakeServerClock,
    monkeypatch: pytest.MonkeyPatch,
    captcha_log: Path,
) -> None:
    """Issue 14 item 3: sign-ins needing a captcha drew one each with no limit, until the
    10,000 outstanding answered everyone server-busy."""
    from vms_tray.refserver import captcha

    monkeypatch.setattr(captcha, "render", lambda answer: b"png")
    service = make_service(captcha="always")
    names = []
    for _ in range(200):  # a minute of flooding from one address, bounded in count
        try:
            service.sign_in("anna", "x", LAPTOP, "10.6.6.6")
        except Problem as exc:
            names.append(exc.name)
    assert names.count("captcha-required") == 30
    assert names.count("login-throttled") == 170
    assert service.captchas.outstanding("10.6.6.6") == captcha.MAX_PER_OWNER
    assert service.captchas.outstanding() == captcha.MAX_PER_OWNER
    # Another address is served at once, and so is the flooder a minute later.
    p = problem(service.sign_in, "anna", "pw", DESK, "10.0.0.2")
    cid, answer = captcha_answer(captcha_log, p.extensions["captcha"])
    service.sign_in("anna", "pw", DESK, "10.0.0.2", (cid, answer))
    clock.advance(60)
    assert problem(service.sign_in, "anna", "x", LAPTOP, "10.6.6.6").name == "captcha-required"
