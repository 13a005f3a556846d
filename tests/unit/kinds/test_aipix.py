"""The ``aipix`` kind's logic over httpx.MockTransport fakes: headers, every sign-in answer,
the session choice, the keep-alive, sign-out, and each reading where the sources disagree."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from vms_tray.connections.model import Connection
from vms_tray.errors import (
    AccessDenied,
    InvalidCredentials,
    InvalidInput,
    LoginThrottled,
    ProtocolError,
    ServerBusy,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
    Unsupported,
)
from vms_tray.kinds.aipix import API_VERSION, AipixServer
from vms_tray.kinds.aipix_profile import DEVICE_FILE, learnt_limit
from vms_tray.kinds.base import ClientInfo
from vms_tray.session.records import (
    CaptchaAnswer,
    CaptchaChallenge,
    LimitConflict,
    SignedIn,
    Tokens,
)

from .fakes import Canned
from .fakes_aipix import PNG, FakeAipix, answer, invalid

DESK = ClientInfo("desk-1", "vms-tray", "0.1.0")
LAPTOP = ClientInfo("laptop-2", "vms-tray", "0.1.0")
CONN = Connection("HQ", "https://vms.example.com", "anna", kind="aipix")
KEY = "https://vms.example.com anna"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make(tmp_path: Path, clock: Clock) -> Callable[..., AipixServer]:
    def build(transport: httpx.BaseTransport, profile: str = "p1", **kw: Any) -> AipixServer:
        return AipixServer(
            CONN,
            transport=transport,
            profile_dir=tmp_path / profile,
            clock=clock,
            language=lambda: "ru",
            **kw,
        )

    return build


def signed_in(outcome: object) -> Tokens:
    assert isinstance(outcome, SignedIn), outcome
    return outcome.tokens


def test_every_request_carries_the_aipix_headers(
    make: Callable[..., AipixServer], tmp_path: Path
) -> None:
    # note §1: Accept, Content-Type, hl, X-UUID, X-Client, X-Version, User-Agent
    fake = FakeAipix()
    server = make(fake.transport())
    tokens = signed_in(server.sign_in("anna", "pw", DESK))
    server.check(tokens)
    uuid = (tmp_path / "p1" / DEVICE_FILE).read_text().strip()
    for request in fake.requests:
        h = request.headers
        assert "application/json" in h["accept"]
        assert h["content-type"] == "application/json"
        assert (h["hl"], h["x-uuid"], h["x-client"]) == ("ru", uuid, "thick-legal")
        assert h["x-version"] == API_VERSION
        assert h["user-agent"].startswith("vms-tray/0.1.0 (") and h["user-agent"].endswith(
            "; desk-1)"
        )
    assert fake.requests[-1].headers["authorization"] == f"Bearer {tokens.access_token}"
    assert make(fake.transport()).sign_in("anna", "pw", DESK)  # same profile, same id
    assert fake.requests[-1].headers["x-uuid"] == uuid


def test_x_client_is_configurable(make: Callable[..., AipixServer], tmp_path: Path) -> None:
    fake = FakeAipix()
    make(fake.transport(), x_client="web").server_info()
    assert fake.requests[0].headers["x-client"] == "web"
    # Per connection: servers.toml's client_type.
    conn = replace(CONN, client_type="android")
    AipixServer(conn, transport=fake.transport(), profile_dir=tmp_path).server_info()
    assert fake.requests[-1].headers["x-client"] == "android"
    with pytest.raises(InvalidInput, match="client_type of 'HQ'"):
        AipixServer(replace(CONN, client_type="bad value\r\n"), transport=fake.transport())


def test_server_info(make: Callable[..., AipixServer]) -> None:
    info = make(FakeAipix(captcha_on=True).transport()).server_info()
    assert (info.product, info.version, info.captcha) == ("AIPIX", "24.03.0.0", "always")
    assert make(FakeAipix().transport()).server_info().captcha == "never"


def test_a_server_that_is_not_aipix_is_bad_response(make: Callable[..., AipixServer]) -> None:
    from vms_tray.errors import BadResponse

    with pytest.raises(BadResponse, match="AIPIX"):
        make(Canned(answer(200, {"name": "other"})).transport()).server_info()


def test_sign_in_returns_the_token_the_session_and_the_count(
    make: Callable[..., AipixServer],
) -> None:
    fake = FakeAipix()
    outcome = make(fake.transport()).sign_in("anna", "pw", DESK)
    assert isinstance(outcome, SignedIn)
    tokens = outcome.tokens
    assert tokens.refresh_token == tokens.access_token == "token-0"
    assert tokens.session_id == "s0" and tokens.expires_in > 0
    assert outcome.limit is not None and (outcome.limit.active, outcome.limit.max) == (1, None)
    assert "pw" not in repr(outcome) and "token-0" not in repr(outcome)
    assert fake.bodies("/token") == [{"login": "anna", "password": "pw"}]


def test_a_bearer_prefixed_token_is_used_bare(make: Callable[..., AipixServer]) -> None:
    # note §7.6
    fake = FakeAipix(token_prefix=True)
    server = make(fake.transport())
    tokens = signed_in(server.sign_in("anna", "pw", DESK))
    assert tokens.access_token == "token-0"
    server.check(tokens)


def test_captcha_required_wrong_expired_then_right(
    make: Callable[..., AipixServer], clock: Clock
) -> None:
    # note §4 step 1 (the captcha before any POST), §1 errors.captcha, §3 E2 ttl
    fake = FakeAipix(captcha_on=True)
    server = make(fake.transport())
    first = server.sign_in("anna", "pw", DESK)
    assert isinstance(first, CaptchaChallenge) and first.reason == "required"
    assert first.captcha.image_png == PNG and first.captcha.expires_in == 60
    assert fake.bodies("/token") == []
    wrong = server.sign_in("anna", "pw", DESK, CaptchaAnswer(first.captcha.id, "nope"))
    assert isinstance(wrong, CaptchaChallenge) and wrong.reason == "invalid"
    assert wrong.captcha.id != first.captcha.id
    clock.now += 61
    late = server.sign_in("anna", "pw", DESK, CaptchaAnswer(wrong.captcha.id, "x"))
    assert isinstance(late, CaptchaChallenge) and late.reason == "expired"
    right = CaptchaAnswer(late.captcha.id, fake.keys[late.captcha.id])
    signed_in(server.sign_in("anna", "pw", DESK, right))
    assert fake.bodies("/token")[-1] == {
        "login": "anna",
        "password": "pw",
        "captcha": right.answer,
        "key": right.id,
    }


def test_a_refresh_is_a_new_picture(make: Callable[..., AipixServer]) -> None:
    server = make(FakeAipix().transport())
    first = server.new_captcha()
    assert server.new_captcha(replaces=first.id).id != first.id


def test_wrong_password_says_the_servers_words(make: Callable[..., AipixServer]) -> None:
    server = make(FakeAipix().transport())
    with pytest.raises(InvalidCredentials) as info:
        server.sign_in("anna", "secret-wrong", DESK)
    assert "These credentials do not match our records." in str(info.value)
    assert "secret-wrong" not in str(info.value)


def test_a_401_at_sign_in_is_wrong_credentials(make: Callable[..., AipixServer]) -> None:
    # the 401 reading of note §3 E3 "422 ... wrong credentials [INF]"
    canned = Canned(answer(200, {"is_captcha_available": False}), answer(401, {"message": "x"}))
    with pytest.raises(InvalidCredentials):
        make(canned.transport()).sign_in("anna", "pw", DESK)


def test_other_validation_errors_are_one_line(make: Callable[..., AipixServer]) -> None:
    canned = Canned(
        answer(200, {"is_captcha_available": False}),
        invalid("client", "The client\nfield is odd."),
    )
    with pytest.raises(ProtocolError, match=r"The client field is odd\.$"):
        make(canned.transport()).sign_in("anna", "pw", DESK)


def _fill(fake: FakeAipix, make: Callable[..., AipixServer], n: int) -> list[Tokens]:
    return [
        signed_in(make(fake.transport(), f"seat-{i}").sign_in("anna", "pw", DESK)) for i in range(n)
    ]


def test_the_limit_conflict_and_the_choice(
    make: Callable[..., AipixServer], tmp_path: Path
) -> None:
    # note §3 E3 419 and call shape 3; §4 step 3
    fake = FakeAipix(captcha_on=False, limit=2)
    held = _fill(fake, make, 2)
    late = make(fake.transport())
    conflict = late.sign_in("anna", "pw", LAPTOP)
    assert isinstance(conflict, LimitConflict)
    assert (conflict.limit.max, conflict.limit.active) == (2, 2)
    assert [s.device for s in conflict.sessions] == ["desk-1", "desk-1"]
    assert "pw" not in repr(conflict) and conflict.conflict_token not in repr(conflict)
    assert late.list_sessions(conflict.conflict_token).sessions == conflict.sessions
    learnt = learnt_limit(KEY, tmp_path / "p1")
    assert learnt is not None and learnt.max == 2
    late.end_session(conflict.conflict_token, "s0")
    assert fake.bodies("/token")[-1] == {"login": "anna", "password": "pw", "session_id": "s0"}
    done = late.finish_sign_in(conflict.conflict_token, LAPTOP)
    mine = signed_in(done)
    assert mine.session_id not in ("s0", "s1")
    with pytest.raises(SessionEnded):
        make(fake.transport(), "seat-0").check(held[0])
    # The conflict is spent: its handle no longer names anything.
    with pytest.raises(TokenExpired):
        late.finish_sign_in(conflict.conflict_token, LAPTOP)


def test_waiting_asks_again_and_gets_a_new_conflict_or_the_seat(
    make: Callable[..., AipixServer],
) -> None:
    fake = FakeAipix(limit=1)
    (held,) = _fill(fake, make, 1)
    late = make(fake.transport())
    conflict = late.sign_in("anna", "pw", LAPTOP)
    assert isinstance(conflict, LimitConflict)
    again = late.finish_sign_in(conflict.conflict_token, LAPTOP)
    assert isinstance(again, LimitConflict) and again.conflict_token != conflict.conflict_token
    make(fake.transport(), "seat-0").sign_out(held)
    signed_in(late.finish_sign_in(again.conflict_token, LAPTOP))


def test_a_conflict_expires(make: Callable[..., AipixServer], clock: Clock) -> None:
    fake = FakeAipix(limit=1)
    _fill(fake, make, 1)
    late = make(fake.transport())
    conflict = late.sign_in("anna", "pw", LAPTOP)
    assert isinstance(conflict, LimitConflict)
    clock.now += conflict.expires_in + 1
    with pytest.raises(TokenExpired):
        late.finish_sign_in(conflict.conflict_token, LAPTOP)


def test_choosing_a_session_that_is_gone(make: Callable[..., AipixServer]) -> None:
    fake = FakeAipix(limit=1)
    _fill(fake, make, 1)
    late = make(fake.transport())
    conflict = late.sign_in("anna", "pw", LAPTOP)
    assert isinstance(conflict, LimitConflict)
    with pytest.raises(SessionNotFound):
        late.end_session(conflict.conflict_token, "gone")


@pytest.mark.parametrize("status", [419, 429])
def test_a_419_on_the_choice_is_a_fresh_conflict(
    make: Callable[..., AipixServer], status: int
) -> None:
    # note §3 E3 419 on call shape 3: another device took the freed seat first; the user is
    # asked again with the list as it is now (a 429 with sessions is the limit too, §7.2).
    fake = FakeAipix(limit=1, limit_status=status)
    _fill(fake, make, 1)
    late = make(fake.transport())
    conflict = late.sign_in("anna", "pw", LAPTOP)
    assert isinstance(conflict, LimitConflict)
    fake.rival_on_replace = True
    late.end_session(conflict.conflict_token, "s0")
    again = late.finish_sign_in(conflict.conflict_token, LAPTOP)
    assert isinstance(again, LimitConflict), again
    assert again.conflict_token != conflict.conflict_token
    assert [s.device for s in again.sessions] == ["rival-phone"]
    assert (again.limit.max, again.limit.active) == (1, 1)
    # The new conflict is the one to answer: choosing the rival's session signs in.
    fake.rival_on_replace = False
    late.end_session(again.conflict_token, again.sessions[0].id)
    signed_in(late.finish_sign_in(again.conflict_token, LAPTOP))


@pytest.mark.parametrize("status", [419, 429])
def test_bare_array_and_429_readings(make: Callable[..., AipixServer], status: int) -> None:
    # note §7.1 and §7.2: the limit as a bare array, and as 429; the limit comes from memory
    fake = FakeAipix(limit=1)
    _fill(fake, make, 1)
    server = make(fake.transport())
    assert isinstance(server.sign_in("anna", "pw", LAPTOP), LimitConflict)
    fake.array_body, fake.limit_status = True, status
    conflict = server.sign_in("anna", "pw", LAPTOP)
    assert isinstance(conflict, LimitConflict)
    assert (conflict.limit.max, conflict.limit.active) == (1, 1)


def test_throttled_says_when_to_try_again(make: Callable[..., AipixServer]) -> None:
    # note §3 E2 429 (20 per 10 minutes); no body, or Laravel's with Retry-After (§7.5)
    basic = answer(200, {"is_captcha_available": False})
    with pytest.raises(LoginThrottled, match="try again in 10 min") as info:
        make(Canned(basic, answer(429)).transport()).sign_in("anna", "pw", DESK)
    assert info.value.retry_after == 600
    limited = answer(429, {"message": "Too Many Attempts."}, {"Retry-After": "120"})
    with pytest.raises(LoginThrottled, match="try again in 2 min") as info:
        make(Canned(basic, limited).transport()).sign_in("anna", "pw", DESK)
    assert info.value.retry_after == 120
    with pytest.raises(LoginThrottled):
        make(Canned(answer(429)).transport()).new_captcha()


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (402, ProtocolError, "licence"),
        (403, AccessDenied, "Manage access to API"),
        (409, Unsupported, "newer client"),
        (503, ServerBusy, "maintenance"),
    ],
)
def test_402_403_409_503(
    make: Callable[..., AipixServer], status: int, error: type[Exception], words: str
) -> None:
    # note §1 status codes
    refusal = answer(status, {"message": "said by the server"})
    with pytest.raises(error, match=words) as info:
        make(Canned(refusal).transport()).server_info()
    assert "said by the server" in str(info.value)
    with pytest.raises(error):
        make(Canned(refusal).transport()).check(Tokens("t", 60, refresh_token="t"))


def test_the_poll_401_is_the_session_ended(make: Callable[..., AipixServer]) -> None:
    # note §1 401 "log out"; §3 E5 the ended device
    fake = FakeAipix()
    mine, theirs = _fill(fake, make, 2)
    me = make(fake.transport(), "seat-0")
    me.end_session(mine.access_token, "s1")
    assert fake.requests[-1].content == b"" and fake.requests[-1].method == "POST"
    with pytest.raises(SessionEnded) as info:
        make(fake.transport(), "seat-1").refresh(theirs)
    assert info.value.reason == "ended_by_other"
    with pytest.raises(SessionNotFound):
        me.end_session(mine.access_token, "s1")
    assert me.refresh(mine).access_token == mine.access_token


def test_sign_out_posts_logout_with_the_device_and_is_idempotent(
    make: Callable[..., AipixServer], tmp_path: Path
) -> None:
    # note §3 E6
    fake = FakeAipix()
    server = make(fake.transport())
    tokens = signed_in(server.sign_in("anna", "pw", DESK))
    server.sign_out(tokens)
    server.sign_out(tokens)
    uuid = (tmp_path / "p1" / DEVICE_FILE).read_text().strip()
    assert fake.bodies("/logout") == [{"uuid": uuid}, {"uuid": uuid}]
    with pytest.raises(SessionEnded) as info:
        server.check(tokens)
    assert info.value.reason == "logout"


def test_the_learnt_limit_shows_in_the_session_list(
    make: Callable[..., AipixServer], clock: Clock
) -> None:
    # issue 11: the limit is known only from a 419 and remembered per connection, with its date
    fake = FakeAipix(limit=1)
    (held,) = _fill(fake, make, 1)
    seat = make(fake.transport(), "seat-0")
    assert seat.list_sessions(held.access_token).limit.max is None
    conflict = seat.sign_in("anna", "pw", LAPTOP)
    assert isinstance(conflict, LimitConflict) and conflict.limit.as_of is None  # said just now
    limit = seat.list_sessions(held.access_token).limit
    assert limit.max == 1 and limit.as_of is not None
    assert limit.as_of.timestamp() == clock.now
    assert seat.list_sessions(held.access_token).to_json()["limit"]["as_of"].endswith("Z")


def test_special_session_ids_are_refused(make: Callable[..., AipixServer]) -> None:
    server = make(FakeAipix().transport())
    for sid in ("", ".", ".."):
        with pytest.raises(SessionNotFound):
            server.end_session("t", sid)


def test_no_secret_in_any_request_url(make: Callable[..., AipixServer]) -> None:
    fake = FakeAipix()
    server = make(fake.transport())
    tokens = signed_in(server.sign_in("anna", "pw", DESK))
    server.check(tokens)
    server.sign_out(tokens)
    for request in fake.requests:
        assert tokens.access_token not in str(request.url) and "pw" not in str(request.url)
        if request.content:
            json.loads(request.content)  # every body is JSON
