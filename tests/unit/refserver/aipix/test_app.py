"""The AIPIX simulator over real loopback TLS with a fake clock: every behaviour and reading.

Each test names the note's section (``../shared/notes/aipix-client-api.md``) it checks.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from vms_tray.refserver.aipix.config import AipixConfig, Readings
from vms_tray.refserver.aipix.runner import AipixHandle
from vms_tray.refserver.runner import ServerOptions
from vms_tray.refserver.tokens import KdfParams
from vms_tray.testing.clock import FakeServerClock

FAST_KDF = KdfParams(n=16)
HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "X-Client": "thick-legal",
    "X-UUID": "uuid-laptop",
    "X-Version": "24.03.0.0",
    "User-Agent": "vms-tray/0.1 (Linux)",
}


class Sim:
    def __init__(self, handle: AipixHandle, http: httpx.Client, log: Path) -> None:
        self.handle = handle
        self.http = http
        self.log = log

    def answer(self, key: str) -> str:
        for line in self.log.read_text(encoding="utf-8").splitlines():
            k, _, a = line.partition(" ")
            if k == key:
                return a
        raise KeyError(key)

    def token(self, **body: Any) -> httpx.Response:
        headers = {**HEADERS, **body.pop("headers", {})}
        return self.http.post("/api/v1/token", json=body, headers=headers)

    def sign_in(self, uuid: str = "uuid-laptop", **body: Any) -> str:
        r = self.token(login="anna", password="pw", headers={"X-UUID": uuid}, **body)
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def get(self, path: str, token: str | None = None, **headers: str) -> httpx.Response:
        h = {**HEADERS, **headers}
        if token:
            h["Authorization"] = f"Bearer {token}"
        return self.http.get(f"/api/v1{path}", headers=h)

    def post(self, path: str, token: str, body: Any = None, **headers: str) -> httpx.Response:
        h = {**HEADERS, "Authorization": f"Bearer {token}", **headers}
        return self.http.post(f"/api/v1{path}", json=body, headers=h)


@pytest.fixture
def clock() -> FakeServerClock:
    return FakeServerClock()


@pytest.fixture
def make(clock: FakeServerClock, tmp_path: Path) -> Iterator[Callable[..., Sim]]:
    started: list[Sim] = []

    def start(readings: Readings | None = None, **config: Any) -> Sim:
        n = len(started)
        log = tmp_path / f"captcha-{n}"
        cfg = replace(AipixConfig(), readings=readings or Readings(), **config)
        handle = AipixHandle(
            tmp_path / f"aipix-{n}",
            config=cfg,
            clock=clock,
            options=ServerOptions(maintenance_file=tmp_path / "maintenance", captcha_log=log),
            kdf=FAST_KDF,
        )
        handle.service.add_user("anna", "pw")
        handle.service.add_user("bob", "pw-b")
        context = ssl.create_default_context(cadata=handle.cert_pem.decode("ascii"))
        http = httpx.Client(base_url=handle.url, verify=context, timeout=10)
        sim = Sim(handle, http, log)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.http.close()
        sim.handle.stop()


def test_static_basic_says_whether_captcha_is_on(make: Callable[..., Sim]) -> None:
    # note §3 E1
    body = make(captcha=True).get("/static/basic").json()
    assert body == {
        "is_captcha_available": True,
        "is_external_auth_enabled": False,
        "version": "24.03.0.0",
        "available_locales": ["en", "ru"],
    }


def test_captcha_is_a_key_a_data_uri_png_and_a_ttl(make: Callable[..., Sim]) -> None:
    # note §3 E2
    body = make().get("/captcha").json()
    assert body["key"].startswith("$2y$10$")
    assert body["ttl"] == 60
    prefix = "data:image/png;base64,"
    assert body["img"].startswith(prefix)
    assert base64.b64decode(body["img"][len(prefix) :]).startswith(b"\x89PNG")


def test_sign_in_returns_a_raw_token_and_the_user(make: Callable[..., Sim]) -> None:
    # note §3 E3 200
    sim = make()
    r = sim.token(login="anna", password="pw")
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["login"] == "anna"
    assert len(body["user"]["access_token_id"]) == 80
    assert not body["access_token"].startswith("Bearer ")
    assert sim.get("/users/self", body["access_token"]).json()["login"] == "anna"


def test_token_prefix_reading(make: Callable[..., Sim]) -> None:
    # note §7.6: the "Bearer token" example value
    sim = make(Readings(token_prefix=True))
    shown = sim.sign_in()
    assert shown.startswith("Bearer ")
    assert sim.get("/sessions", shown.removeprefix("Bearer ")).status_code == 200


@pytest.mark.parametrize("status", [422, 401])
def test_wrong_password_is_a_validation_error(make: Callable[..., Sim], status: int) -> None:
    # note §3 E3 "422 ... Used for wrong credentials [INF]" (and the 401 reading)
    sim = make(Readings(bad_login_status=status))  # type: ignore[arg-type]
    r = sim.token(login="anna", password="nope")
    assert r.status_code == status
    assert set(r.json()["errors"]) == {"login"}
    assert sim.token(login="nobody", password="pw").status_code == status


def test_missing_fields_are_named(make: Callable[..., Sim]) -> None:
    r = make().token(login="anna")
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"password"}


def test_captcha_required_wrong_expired_right(
    make: Callable[..., Sim], clock: FakeServerClock
) -> None:
    # note §1 "captcha inside errors", §3 E2 ttl, §3 E3 call shape 2
    sim = make(captcha=True)
    r = sim.token(login="anna", password="pw")
    assert r.status_code == 422 and "captcha" in r.json()["errors"]
    cap = sim.get("/captcha").json()
    r = sim.token(login="anna", password="pw", captcha="wrong", key=cap["key"])
    assert r.status_code == 422 and r.json()["errors"]["captcha"] == ["Invalid captcha."]
    clock.advance(61)
    r = sim.token(login="anna", password="pw", captcha=sim.answer(cap["key"]), key=cap["key"])
    assert r.json()["errors"]["captcha"] == ["The captcha has expired."]
    cap = sim.get("/captcha").json()
    r = sim.token(login="anna", password="pw", captcha=sim.answer(cap["key"]), key=cap["key"])
    assert r.status_code == 200


def test_a_forged_key_is_refused(make: Callable[..., Sim]) -> None:
    sim = make(captcha=True)
    r = sim.token(login="anna", password="pw", captcha="abcde", key="$2y$10$" + "A" * 43)
    assert r.status_code == 422 and "captcha" in r.json()["errors"]


def _full(sim: Sim) -> tuple[str, str]:
    return sim.sign_in("uuid-a"), sim.sign_in("uuid-b")


def test_the_limit_answers_419_with_the_sessions(make: Callable[..., Sim]) -> None:
    # note §3 E3 419 body and the Session object
    sim = make()
    _full(sim)
    r = sim.token(login="anna", password="pw")
    assert r.status_code == 419
    body = r.json()
    assert body["sessions_limit"] == 2 and isinstance(body["key"], str)
    assert "captcha_will_required_in" not in body
    s = body["sessions"][0]
    assert set(s) == {"id", "online", "last", "user_agent", "client", "ip", "is_current"}
    assert s["client"] == "thick-legal" and s["user_agent"] == HEADERS["User-Agent"]
    assert s["ip"] == "127.0.0.1" and s["online"] is True and s["is_current"] is False


@pytest.mark.parametrize("status", [419, 429])
def test_limit_readings_status_and_bare_array(make: Callable[..., Sim], status: int) -> None:
    # note §7.1 (bare array, Android fallback) and §7.2 (419 or 429)
    sim = make(Readings(limit_status=status, limit_body="array", session_last=False))  # type: ignore[arg-type]
    _full(sim)
    r = sim.token(login="anna", password="pw")
    assert r.status_code == status
    assert isinstance(r.json(), list) and len(r.json()) == 2
    assert "last" not in r.json()[0]


def test_session_id_retry_replaces_that_session(make: Callable[..., Sim]) -> None:
    # note §3 E3 call shape 3, §4 step 3: no captcha resent, the picked session ends
    sim = make(captcha=True)
    tokens = []
    for uuid in ("uuid-a", "uuid-b", "uuid-c"):
        cap = sim.get("/captcha").json()
        r = sim.token(
            login="anna",
            password="pw",
            captcha=sim.answer(cap["key"]),
            key=cap["key"],
            headers={"X-UUID": uuid},
        )
        tokens.append(r)
    assert [r.status_code for r in tokens] == [200, 200, 419]
    victim = tokens[0].json()["access_token"]
    assert len(tokens[2].json()["sessions"]) == 2
    listed = sim.get("/sessions", victim).json()
    pick = next(s["id"] for s in listed if s["is_current"])
    r = sim.token(login="anna", password="pw", session_id=pick)
    assert r.status_code == 200
    assert sim.get("/sessions", victim).status_code == 401
    assert len(sim.get("/sessions", r.json()["access_token"]).json()) == 2


def test_retry_captcha_window_reading(make: Callable[..., Sim], clock: FakeServerClock) -> None:
    # note §3 E3 iOS ``captcha_will_required_in``: the retry is exempt only within it
    sim = make(Readings(retry_captcha="window"), captcha=False, sessions_limit=1)
    sim.sign_in("uuid-a")
    r = sim.token(login="anna", password="pw")
    assert r.json()["captcha_will_required_in"] == 60
    sid = r.json()["sessions"][0]["id"]
    assert sim.token(login="anna", password="pw", session_id=sid).status_code == 200


def test_retry_captcha_window_lapses(make: Callable[..., Sim], clock: FakeServerClock) -> None:
    sim = make(Readings(retry_captcha="window"), captcha=True, sessions_limit=1)
    cap = sim.get("/captcha").json()
    sim.sign_in("uuid-a", captcha=sim.answer(cap["key"]), key=cap["key"])
    cap = sim.get("/captcha").json()
    r = sim.token(login="anna", password="pw", captcha=sim.answer(cap["key"]), key=cap["key"])
    assert r.status_code == 419
    sid = r.json()["sessions"][0]["id"]
    clock.advance(61)
    r = sim.token(login="anna", password="pw", session_id=sid)
    assert r.status_code == 422 and "captcha" in r.json()["errors"]


def test_an_unknown_session_id_is_a_validation_error(make: Callable[..., Sim]) -> None:
    r = make().token(login="anna", password="pw", session_id="nope")
    assert r.status_code == 422 and "session_id" in r.json()["errors"]


def test_captcha_throttle_20_per_10_minutes(
    make: Callable[..., Sim], clock: FakeServerClock
) -> None:
    # note §3 E2 429; §7.5 no body shown
    sim = make()
    assert all(sim.get("/captcha").status_code == 200 for _ in range(20))
    r = sim.get("/captcha")
    assert r.status_code == 429 and r.content == b"" and "retry-after" not in r.headers
    assert sim.token(login="anna", password="pw").status_code == 200  # captcha scope only
    clock.advance(601)
    assert sim.get("/captcha").status_code == 200


def test_throttle_shared_laravel_reading(make: Callable[..., Sim]) -> None:
    # note §7.5 "token retrieval attempts": the /token calls count too
    sim = make(Readings(throttle_scope="shared", throttle_body="laravel"))
    for _ in range(20):
        sim.token(login="anna", password="nope")
    r = sim.get("/captcha")
    assert r.status_code == 429 and r.json()["message"] == "Too Many Attempts."
    assert int(r.headers["retry-after"]) > 0


def test_throttle_can_be_disabled(make: Callable[..., Sim]) -> None:
    # note §1 DISABLE_THROTTLE
    sim = make(throttle=False)
    assert all(sim.get("/captcha").status_code == 200 for _ in range(21))


def test_end_session_logs_that_device_out(make: Callable[..., Sim]) -> None:
    # note §3 E5
    sim = make()
    mine, other = _full(sim)
    sessions = sim.get("/sessions", mine).json()
    target = next(s["id"] for s in sessions if not s["is_current"])
    r = sim.post(f"/sessions/{target}", mine)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert sim.get("/sessions", other).status_code == 401
    assert sim.post(f"/sessions/{target}", mine).status_code == 404


def test_end_session_body_token_must_agree(make: Callable[..., Sim]) -> None:
    # note §3 E5 / §7.3: the doc's optional body ``token`` names the same session
    sim = make()
    mine, _ = _full(sim)
    target = next(s["id"] for s in sim.get("/sessions", mine).json() if not s["is_current"])
    assert sim.post(f"/sessions/{target}", mine, {"token": "else"}).status_code == 422
    assert sim.post(f"/sessions/{target}", mine, {"token": target}).status_code == 200


def test_ending_my_own_session_logs_me_out(make: Callable[..., Sim]) -> None:
    sim = make()
    mine = sim.sign_in()
    me = sim.get("/sessions", mine).json()[0]["id"]
    assert sim.post(f"/sessions/{me}", mine).status_code == 200
    assert sim.get("/sessions", mine).status_code == 401


@pytest.mark.parametrize(("reading", "status"), [("empty", 204), ("status", 200)])
def test_logout_ends_the_token(make: Callable[..., Sim], reading: str, status: int) -> None:
    # note §3 E6 body not specified [GAP]
    sim = make(Readings(logout_reply=reading))  # type: ignore[arg-type]
    token = sim.sign_in()
    assert sim.post("/logout", token, {"uuid": "uuid-laptop"}).status_code == status
    r = sim.get("/sessions", token)
    assert r.status_code == 401 and r.json() == {"message": "Unauthenticated."}


def test_without_accept_errors_are_html(make: Callable[..., Sim]) -> None:
    # note §1 Accept
    sim = make()
    r = sim.get("/sessions", "bad", Accept="text/html")
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert sim.get("/sessions", "bad").headers["content-type"] == "application/json"


def test_content_type_reading(make: Callable[..., Sim]) -> None:
    # note §1 Content-Type (24.12 wording)
    sim = make(Readings(required_headers="both"))
    r = sim.get("/sessions", "bad", **{"Content-Type": "text/plain"})
    assert r.headers["content-type"].startswith("text/html")


def test_language_from_hl(make: Callable[..., Sim]) -> None:
    # note §1 Language
    sim = make()
    r = sim.token(login="anna", password="nope", headers={"hl": "ru"})
    assert r.json()["errors"]["login"] == ["Неверный логин или пароль."]
    r = sim.http.post("/api/v1/token?hl=ru", json={}, headers=HEADERS)
    assert "обязательно" in r.json()["errors"]["login"][0]


def test_force_update_licence_and_maintenance(make: Callable[..., Sim], tmp_path: Path) -> None:
    # note §1 409, 402, 503
    sim = make(min_client_version="25.0")
    assert sim.token(login="anna", password="pw").status_code == 409
    r = sim.token(login="anna", password="pw", headers={"X-Version": "25.06.0.0"})
    assert r.status_code == 200
    assert make(licence_problem=True).token(login="anna", password="pw").status_code == 402
    (tmp_path / "maintenance").write_text("")
    assert sim.get("/static/basic").status_code == 503


def test_uuid_keyed_reading(make: Callable[..., Sim]) -> None:
    # note §1 X-UUID [INF]: the same device signing in again replaces its own session
    plain, keyed = make(sessions_limit=1), make(Readings(uuid_keyed=True), sessions_limit=1)
    plain.sign_in()
    assert plain.token(login="anna", password="pw").status_code == 419
    first = keyed.sign_in()
    second = keyed.sign_in()
    assert keyed.get("/sessions", first).status_code == 401
    assert keyed.get("/sessions", second).status_code == 200


def test_token_idle_ttl_reading(make: Callable[..., Sim], clock: FakeServerClock) -> None:
    # note §3 E3 [GAP] lifetime: both readings
    never, lapsing = make(), make(Readings(token_idle_ttl=600))
    a, b = never.sign_in(), lapsing.sign_in()
    clock.advance(601)
    assert never.get("/sessions", a).status_code == 200
    assert lapsing.get("/sessions", b).status_code == 401


def test_online_follows_activity(make: Callable[..., Sim], clock: FakeServerClock) -> None:
    sim = make()
    a, _ = _full(sim)
    clock.advance(301)
    sessions = {s["is_current"]: s for s in sim.get("/sessions", a).json()}
    assert sessions[True]["online"] is True and sessions[False]["online"] is False
    assert sessions[True]["last"] == int(clock.now())
