"""Protocol v1 end to end: the real server process, real TLS, httpx, and a movable server clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.refserver import RefServer

pytestmark = pytest.mark.integration

BASE = "https://vms-tray.example/problems/"
LAPTOP = {"device": "laptop", "software": "vms-tray", "version": "0.1.0"}
DESK = {"device": "desk", "software": "vms-tray", "version": "0.1.0"}
PHONE = {"device": "phone", "software": "other-client", "version": "2.0"}

Factory = Callable[..., RefServer]


def v1_limit(limit: dict[str, Any]) -> dict[str, Any]:
    """The v1 members of a limit object (v1.1 adds held and next_free_at)."""
    return {k: limit[k] for k in ("scope", "max", "active")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(
    http: httpx.Client, client: dict[str, str] = LAPTOP, login: str = "anna", pw: str = "pw",
    **extra: Any,
) -> httpx.Response:  # fmt: skip
    return http.post(
        "/api/v1/sessions", json={"login": login, "password": pw, "client": client, **extra}
    )


def signed_in(http: httpx.Client, client: dict[str, str] = LAPTOP) -> dict[str, Any]:
    r = sign_in(http, client)
    assert r.status_code == 201, r.text
    return dict(r.json())


def problem(r: httpx.Response, name: str, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = dict(r.json())
    assert body["type"] == BASE + name and body["status"] == status
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    if status == 401:
        assert r.headers["www-authenticate"] == 'Bearer realm="vms-tray", error="invalid_token"'
    if status in (429, 503):
        assert int(r.headers["retry-after"]) >= 1
    return body


def test_limit_conflict_list_end_one_and_finish_with_the_conflict_token(
    refserver_factory: Factory,
) -> None:
    server = refserver_factory(max_sessions=2)
    with server.client() as http:
        signed_in(http, LAPTOP)
        desk = signed_in(http, DESK)
        conflict = problem(sign_in(http, PHONE), "session-limit", 409)
        assert v1_limit(conflict["limit"]) == {"scope": "account", "max": 2, "active": 2}
        assert [s["device"] for s in conflict["sessions"]] == ["laptop", "desk"]
        assert conflict["conflict_expires_in"] == 120
        token = conflict["conflict_token"]

        listed = http.get("/api/v1/sessions", headers=bearer(token))
        assert listed.status_code == 200
        assert [s["id"] for s in listed.json()["sessions"]] == [
            s["id"] for s in conflict["sessions"]
        ]
        problem(
            http.get("/api/v1/sessions/current", headers=bearer(token)), "session-not-found", 404
        )
        r = http.delete(f"/api/v1/sessions/{desk['session_id']}", headers=bearer(token))
        assert r.status_code == 204

        r = http.post("/api/v1/sessions", json={"conflict_token": token})
        assert r.status_code == 201, r.text
        phone = r.json()
        assert v1_limit(phone["limit"]) == {"scope": "account", "max": 2, "active": 2}
        me = http.get("/api/v1/sessions/current", headers=bearer(phone["access_token"])).json()
        assert (me["device"], me["software"], me["current"]) == ("phone", "other-client", True)

        gone = problem(
            http.get("/api/v1/sessions", headers=bearer(desk["access_token"])), "session-ended", 401
        )
        assert gone["reason"] == "ended_by_other"
        assert gone["ended_by"] == {"device": "phone", "software": "other-client"}
        spent = http.post("/api/v1/sessions", json={"conflict_token": token})
        problem(spent, "token-expired", 401)


def test_finish_while_still_full_hands_out_a_fresh_conflict_token(
    refserver_factory: Factory,
) -> None:
    server = refserver_factory(max_sessions=1)
    with server.client() as http:
        signed_in(http, LAPTOP)
        first = problem(sign_in(http, DESK), "session-limit", 409)["conflict_token"]
        again = problem(
            http.post("/api/v1/sessions", json={"conflict_token": first}), "session-limit", 409
        )
        assert again["conflict_token"] != first and again["conflict_expires_in"] == 120


def test_conflict_token_expires_after_120_s(refserver_factory: Factory) -> None:
    server = refserver_factory(max_sessions=1)
    with server.client() as http:
        signed_in(http)
        token = problem(sign_in(http, DESK), "session-limit", 409)["conflict_token"]
        server.advance_clock(121)
        problem(http.get("/api/v1/sessions", headers=bearer(token)), "token-expired", 401)
        problem(http.post("/api/v1/sessions", json={"conflict_token": token}), "token-expired", 401)


def test_refresh_rotation_and_reuse_refusal(refserver_factory: Factory) -> None:
    server = refserver_factory()
    with server.client() as http:
        first = signed_in(http)
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 200, r.text
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert second["expires_in"] == 300 and second["refresh_expires_in"] == 43200
        # Presented again at once (as by a client whose answer was lost): a retry, and the
        # pair it never saw is revoked.
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 200, r.text
        third = r.json()
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": second["refresh_token"]})
        problem(r, "token-expired", 401)
        # After the grace it is reuse.
        server.advance_clock(61)
        reuse = http.post(
            "/api/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]}
        )
        problem(reuse, "token-expired", 401)
        # The family is revoked: the newest tokens are dead too, and say so.
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": third["refresh_token"]})
        assert problem(r, "session-ended", 401)["reason"] == "expired"


def test_access_token_expiry_then_refresh(refserver_factory: Factory) -> None:
    server = refserver_factory(access_ttl=60)
    with server.client() as http:
        tokens = signed_in(http)
        assert tokens["expires_in"] == 60
        server.advance_clock(61)
        r = http.get("/api/v1/sessions/current", headers=bearer(tokens["access_token"]))
        problem(r, "token-expired", 401)
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 200
        current = http.get("/api/v1/sessions/current", headers=bearer(r.json()["access_token"]))
        assert current.status_code == 200


def test_idle_expiry_frees_the_seat_and_tells_the_client(
    refserver_factory: Factory,
) -> None:
    server = refserver_factory(max_sessions=2, idle_timeout=600, access_ttl=3600)
    with server.client() as http:
        laptop = signed_in(http, LAPTOP)
        desk = signed_in(http, DESK)
        server.advance_clock(400)
        listed = http.get("/api/v1/sessions", headers=bearer(laptop["access_token"])).json()
        assert [(s["device"], s["idle"]) for s in listed["sessions"]] == [
            ("laptop", False),
            ("desk", True),  # no activity for more than half the idle timeout
        ]
        server.advance_clock(201)  # desk: 601 s idle; the laptop was active 201 s ago
        listed = http.get("/api/v1/sessions", headers=bearer(laptop["access_token"])).json()
        assert [s["device"] for s in listed["sessions"]] == ["laptop"]
        assert listed["limit"]["active"] == 1
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": desk["refresh_token"]})
        ended = problem(r, "session-ended", 401)
        assert ended["reason"] == "idle_timeout" and "ended_by" not in ended
        signed_in(http, PHONE)


def test_ending_own_sessions_and_nobody_elses(refserver_factory: Factory) -> None:
    server = refserver_factory(users={"anna": "pw", "bob": "pw-b"})
    with server.client() as http:
        laptop = signed_in(http, LAPTOP)
        desk = signed_in(http, DESK)
        r = sign_in(http, PHONE, "bob", "pw-b")
        bob = r.json()
        r = http.delete(
            f"/api/v1/sessions/{bob['session_id']}", headers=bearer(laptop["access_token"])
        )
        problem(r, "session-not-found", 404)
        listed = http.get("/api/v1/sessions", headers=bearer(laptop["access_token"])).json()
        assert {s["device"] for s in listed["sessions"]} == {"laptop", "desk"}
        r = http.delete(
            f"/api/v1/sessions/{desk['session_id']}", headers=bearer(laptop["access_token"])
        )
        assert r.status_code == 204
        r = http.get("/api/v1/sessions/current", headers=bearer(desk["access_token"]))
        ended = problem(r, "session-ended", 401)
        assert ended["reason"] == "ended_by_other"
        assert ended["ended_by"] == {"device": "laptop", "software": "vms-tray"}
        again = http.delete(
            f"/api/v1/sessions/{desk['session_id']}", headers=bearer(laptop["access_token"])
        )
        problem(again, "session-not-found", 404)


def test_sign_out_is_idempotent_and_frees_the_seat(refserver_factory: Factory) -> None:
    server = refserver_factory(max_sessions=1)
    with server.client() as http:
        tokens = signed_in(http)
        problem(sign_in(http, DESK), "session-limit", 409)
        for _ in range(2):
            r = http.delete("/api/v1/sessions/current", headers=bearer(tokens["access_token"]))
            assert r.status_code == 204
        r = http.get("/api/v1/sessions/current", headers=bearer(tokens["access_token"]))
        assert problem(r, "session-ended", 401)["reason"] == "logout"
        signed_in(http, DESK)
        problem(
            http.delete("/api/v1/sessions/current", headers=bearer("x" * 43)), "token-expired", 401
        )


def test_captcha_always_required_invalid_expired_then_accepted(
    refserver_factory: Factory,
) -> None:
    server = refserver_factory(captcha="always")
    with server.client() as http:
        assert http.get("/api/v1/server").json()["captcha"] == "always"
        body = problem(sign_in(http), "captcha-required", 403)
        captcha = body["captcha"]
        assert captcha["expires_in"] == 60
        wrong = sign_in(http, captcha={"id": captcha["captcha_id"], "answer": "WRONG"})
        captcha = problem(wrong, "captcha-invalid", 403)["captcha"]
        answer = server.captcha_answer(captcha["captcha_id"])
        server.advance_clock(61)
        late = sign_in(http, captcha={"id": captcha["captcha_id"], "answer": answer})
        captcha = problem(late, "captcha-expired", 403)["captcha"]
        answer = server.captcha_answer(captcha["captcha_id"])
        ok = sign_in(http, captcha={"id": captcha["captcha_id"], "answer": answer.lower()})
        assert ok.status_code == 201, ok.text
        reused = sign_in(http, DESK, captcha={"id": captcha["captcha_id"], "answer": answer})
        problem(reused, "captcha-invalid", 403)


def test_captcha_endpoint_and_replacement(refserver_factory: Factory) -> None:
    server = refserver_factory(captcha="always")
    with server.client() as http:
        first = http.post("/api/v1/captcha")
        assert first.status_code == 201
        old = first.json()["captcha_id"]
        second = http.post("/api/v1/captcha", json={"replaces": old}).json()
        r = sign_in(http, captcha={"id": old, "answer": server.captcha_answer(old)})
        problem(r, "captcha-invalid", 403)
        cid = second["captcha_id"]
        assert (
            sign_in(http, captcha={"id": cid, "answer": server.captcha_answer(cid)}).status_code
            == 201
        )


def test_failures_lead_to_captcha_then_throttling(refserver_factory: Factory) -> None:
    server = refserver_factory(captcha="after-failures")
    with server.client() as http:
        for _ in range(2):
            problem(sign_in(http, pw="wrong"), "invalid-credentials", 401)
        # Two wrong passwords of this (login, address) pair: its third attempt needs a captcha,
        # another login from the same address does not.
        problem(sign_in(http), "captcha-required", 403)
        problem(sign_in(http, login="nobody"), "invalid-credentials", 401)
        body = problem(sign_in(http, pw="wrong"), "captcha-required", 403)
        for attempt in (3, 4, 5):
            cid = body["captcha"]["captcha_id"]
            r = sign_in(http, pw="wrong", captcha={"id": cid, "answer": server.captcha_answer(cid)})
            problem(r, "invalid-credentials", 401)
            if attempt < 5:
                body = problem(sign_in(http), "captcha-required", 403)
        # The pair's fifth failure: even the right password and a captcha wait 30 s.
        throttled = problem(sign_in(http), "login-throttled", 429)
        assert 1 <= throttled["retry_after"] <= 30
        assert throttled["retry_after"] == int(sign_in(http).headers["retry-after"])
        server.advance_clock(31)
        body = problem(sign_in(http), "captcha-required", 403)
        cid = body["captcha"]["captcha_id"]
        r = sign_in(http, captcha={"id": cid, "answer": server.captcha_answer(cid)})
        assert r.status_code == 201, r.text
        # The pair signed in: its captcha requirement is over.
        assert sign_in(http, DESK).status_code == 201


def test_invalid_request_and_unknown_login(refserver: RefServer) -> None:
    with refserver.client() as http:
        r = http.post(
            "/api/v1/sessions", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        problem(r, "invalid-request", 400)
        problem(http.post("/api/v1/sessions", json={"login": "anna"}), "invalid-request", 400)
        a = problem(sign_in(http, login="nobody"), "invalid-credentials", 401)
        b = problem(sign_in(http, pw="nope"), "invalid-credentials", 401)
        assert a == b


def test_server_busy_while_in_maintenance(refserver: RefServer) -> None:
    with refserver.client() as http:
        tokens = signed_in(http)
        refserver.set_busy(17)
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert problem(r, "server-busy", 503)["retry_after"] == 17
        assert r.headers["retry-after"] == "17"
        assert http.get("/api/v1/server").status_code == 200
        refserver.clear_busy()
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 200


def test_restart_and_kill_keep_sessions_and_tombstones(
    refserver_factory: Factory,
) -> None:
    server = refserver_factory()
    with server.client() as http:
        kept = signed_in(http, LAPTOP)
        out = signed_in(http, DESK)
        http.delete("/api/v1/sessions/current", headers=bearer(out["access_token"]))
    fingerprint, port = server.fingerprint, server.port
    assert server.stop() == 0
    server.restart()
    server.kill()
    server.restart()
    assert (server.fingerprint, server.port) == (fingerprint, port)
    with server.client() as http:
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": kept["refresh_token"]})
        assert r.status_code == 200, r.text
        r = http.get("/api/v1/sessions/current", headers=bearer(out["access_token"]))
        assert problem(r, "session-ended", 401)["reason"] == "logout"


def test_server_info_and_document(refserver_factory: Factory) -> None:
    server = refserver_factory(idle_timeout=600, name="Site A")
    with server.client() as http:
        info = http.get("/api/v1/server").json()
        assert info["name"] == "Site A" and info["idle_timeout"] == 600
        assert info["captcha"] == "never" and info["api_version"] == "1.1"
        assert info["server_time"].endswith("Z")
        assert http.get("/openapi.json").json()["openapi"] == "3.1.0"


def test_no_secret_reaches_the_server_log(refserver_factory: Factory) -> None:
    server = refserver_factory(captcha="always", extra_args=["--access-log"], max_sessions=1)
    secrets: list[str] = ["pw", "wrong-password-123"]
    with server.client() as http:
        captcha = problem(sign_in(http, pw="wrong-password-123"), "captcha-required", 403)
        cid = captcha["captcha"]["captcha_id"]
        answer = server.captcha_answer(cid)
        r = sign_in(http, captcha={"id": cid, "answer": answer})
        tokens = r.json()
        secrets += [answer, tokens["access_token"], tokens["refresh_token"]]
        r = http.post("/api/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]})
        secrets += [r.json()["access_token"], r.json()["refresh_token"]]
        captcha = problem(sign_in(http, DESK), "captcha-required", 403)["captcha"]
        cid = captcha["captcha_id"]
        conflict = problem(
            sign_in(http, DESK, captcha={"id": cid, "answer": server.captcha_answer(cid)}),
            "session-limit",
            409,
        )
        secrets.append(conflict["conflict_token"])
        http.get("/api/v1/sessions", headers=bearer(conflict["conflict_token"]))
        http.delete("/api/v1/sessions/current", headers=bearer(tokens["access_token"]))
    assert server.stop() == 0
    log = server.stderr()
    assert "POST /api/v1/sessions" in log  # the access log is on
    for secret in secrets:
        assert f"{secret}" not in log.replace("vms_tray.refserver", "")
