"""The HTTP layer: shapes, headers, parsing, routing.

The app runs in-process (``ServerHandle``, real uvicorn and TLS on loopback) with a fake clock.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from tests.unit.refserver.conftest import FAST_KDF
from vms_tray.refserver.app import build_app
from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.problems import PROBLEM_BASE, STATUS
from vms_tray.refserver.runner import ServerHandle, ServerOptions
from vms_tray.refserver.service import Service
from vms_tray.testing.clock import FakeServerClock

CLIENT = {"device": "laptop", "software": "vms-tray", "version": "0.1.0"}
PROBLEM = "application/problem+json"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def make_client(clock: FakeServerClock, tmp_path: Path) -> Iterator[Callable[..., httpx.Client]]:
    started: list[tuple[ServerHandle, httpx.Client]] = []

    def make(**config: Any) -> httpx.Client:
        handle = ServerHandle.start(
            tmp_path / f"server-{len(started)}",
            config=replace(ServerConfig(kdf=FAST_KDF), **config),
            clock=clock,
            options=ServerOptions(maintenance_file=tmp_path / "maintenance"),
        )
        handle.service.add_user("anna", "pw")
        context = ssl.create_default_context(cadata=handle.cert_pem.decode("ascii"))
        client = httpx.Client(base_url=handle.url, verify=context, timeout=10)
        started.append((handle, client))
        return client

    yield make
    for handle, client in started:
        client.close()
        handle.stop()


@pytest.fixture
def http(make_client: Callable[..., httpx.Client]) -> httpx.Client:
    return make_client()


def sign_in(http: httpx.Client, device: str = "laptop") -> dict[str, Any]:
    r = http.post(
        "/api/v1/sessions",
        json={"login": "anna", "password": "pw", "client": {**CLIENT, "device": device}},
    )
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    return dict(r.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(r: Any, name: str, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = dict(r.json())
    assert body["type"] == PROBLEM_BASE + name
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_server_info(http: httpx.Client) -> None:
    r = http.get("/api/v1/server")
    assert r.status_code == 200
    assert set(r.json()) == {
        "name",
        "product",
        "version",
        "api_version",
        "features",
        "captcha",
        "idle_timeout",
        "server_time",
    }


def test_openapi_is_served_from_the_package(http: httpx.Client) -> None:
    r = http.get("/openapi.json")
    shipped = (resources.files("vms_tray") / "data" / "openapi.json").read_bytes()
    assert r.status_code == 200 and r.content == shipped


def test_every_route_is_documented_and_every_documented_operation_routed(
    http: httpx.Client, service: Service
) -> None:
    doc = json.loads(http.get("/openapi.json").content)
    documented = {
        (path, method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method != "parameters"
    }
    routed = {
        (route.path, method)
        for route in build_app(service).routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or ())
        if method != "HEAD"
    }
    assert routed == documented


def test_every_problem_type_is_documented() -> None:
    doc = (resources.files("vms_tray") / "data" / "openapi.json").read_text()
    for name in STATUS:
        assert f'"{PROBLEM_BASE}{name}"' in doc, name


def test_invalid_bodies(http: httpx.Client) -> None:
    for body in (b"", b"not json", b"[]", b'"x"', b"\xff\xfe"):
        r = http.post("/api/v1/sessions", content=body, headers=JSON)
        assert_problem(r, "invalid-request", 400)
    for payload in (
        {"login": "anna"},
        {"login": 5, "password": "pw", "client": CLIENT},
        {"login": "anna", "password": "pw", "client": "laptop"},
        {"login": "anna", "password": "pw", "client": {**CLIENT, "device": ""}},
        {"login": "anna", "password": "pw", "client": CLIENT, "captcha": {"id": 1}},
        {"login": "x" * 129, "password": "pw", "client": CLIENT},
        {"conflict_token": 7},
    ):
        assert_problem(http.post("/api/v1/sessions", json=payload), "invalid-request", 400)
    big = {"login": "anna", "password": "x" * 70000, "client": CLIENT}
    assert_problem(http.post("/api/v1/sessions", json=big), "invalid-request", 400)
    assert_problem(http.post("/api/v1/sessions/refresh", json={}), "invalid-request", 400)
    lone = b'{"login": "\\ud800", "password": "pw", "client": {}}'
    assert_problem(
        http.post("/api/v1/sessions", content=lone, headers=JSON), "invalid-request", 400
    )


@pytest.mark.parametrize("field", ["device", "software", "version"])
@pytest.mark.parametrize(
    "bad",
    [
        "EVIL\x1b]0;title\x07\x1b[2J",  # terminal escapes
        "line\nbreak",
        "tab\there",
        "del\x7f",
        "c1\x9b2J",
        "admin\u202etxt.exe",  # RIGHT-TO-LEFT OVERRIDE
        "\u2066isolate\u2069",
    ],
)
def test_client_fields_with_control_or_bidi_characters_are_refused(
    http: httpx.Client, field: str, bad: str
) -> None:
    body = {"login": "anna", "password": "pw", "client": {**CLIENT, field: bad}}
    problem = assert_problem(http.post("/api/v1/sessions", json=body), "invalid-request", 400)
    assert f"client.{field}" in problem["detail"]
    # Nothing was opened: the account's seats are untouched.
    assert http.post("/api/v1/sessions", json={**body, "client": CLIENT}).status_code == 201


def test_client_fields_in_any_script_are_accepted(http: httpx.Client) -> None:
    assert sign_in(http, device="Склад №2 камеры — 東京")["session_id"]


def test_401s_carry_www_authenticate(http: httpx.Client) -> None:
    for r in (
        http.get("/api/v1/sessions"),
        http.get("/api/v1/sessions", headers={"Authorization": "Basic abc"}),
        http.get("/api/v1/sessions/current", headers=bearer("nope")),
        http.post("/api/v1/sessions/refresh", json={"refresh_token": "nope"}),
    ):
        assert_problem(r, "token-expired", 401)
        assert r.headers["www-authenticate"] == 'Bearer realm="vms-tray", error="invalid_token"'
    r = http.post("/api/v1/sessions", json={"login": "anna", "password": "bad", "client": CLIENT})
    assert_problem(r, "invalid-credentials", 401)
    assert "www-authenticate" in r.headers


def test_session_flow_over_http(http: httpx.Client) -> None:
    a = sign_in(http, "laptop")
    sign_in(http, "desk")
    r = http.post(
        "/api/v1/sessions",
        json={"login": "anna", "password": "pw", "client": {**CLIENT, "device": "phone"}},
    )
    conflict = assert_problem(r, "session-limit", 409)
    token = conflict["conflict_token"]
    listed = http.get("/api/v1/sessions", headers=bearer(token)).json()
    desk = next(s for s in listed["sessions"] if s["device"] == "desk")
    assert http.delete(f"/api/v1/sessions/{desk['id']}", headers=bearer(token)).status_code == 204
    r = http.post("/api/v1/sessions", json={"conflict_token": token})
    assert r.status_code == 201
    cur = http.get("/api/v1/sessions/current", headers=bearer(a["access_token"]))
    assert cur.json()["current"] is True
    r = http.delete("/api/v1/sessions/current", headers=bearer(a["access_token"]))
    assert r.status_code == 204 and r.content == b""
    r = http.get("/api/v1/sessions/current", headers=bearer(a["access_token"]))
    assert assert_problem(r, "session-ended", 401)["reason"] == "logout"
    r = http.delete("/api/v1/sessions/current", headers=bearer(a["access_token"]))
    assert r.status_code == 204


def test_throttle_sets_retry_after(http: httpx.Client) -> None:
    for _ in range(5):
        http.post("/api/v1/sessions", json={"login": "anna", "password": "x", "client": CLIENT})
    r = http.post("/api/v1/sessions", json={"login": "anna", "password": "pw", "client": CLIENT})
    body = assert_problem(r, "login-throttled", 429)
    # The 5th failure of one (login, address) pair: 30 s, doubling with each further one.
    assert r.headers["retry-after"] == str(body["retry_after"]) == "30"


def test_captcha_endpoint(http: httpx.Client) -> None:
    r = http.post("/api/v1/captcha")
    assert r.status_code == 201
    first = r.json()
    assert first["expires_in"] == 60 and first["image_png"].startswith("iVBORw0KGgo")
    r = http.post("/api/v1/captcha", json={"replaces": first["captcha_id"]})
    assert r.status_code == 201 and r.json()["captcha_id"] != first["captcha_id"]
    assert_problem(http.post("/api/v1/captcha", json={"replaces": 3}), "invalid-request", 400)


def test_captcha_required_over_http(make_client: Callable[..., httpx.Client]) -> None:
    http = make_client(captcha="always")
    r = http.post("/api/v1/sessions", json={"login": "anna", "password": "pw", "client": CLIENT})
    body = assert_problem(r, "captcha-required", 403)
    assert set(body["captcha"]) == {"captcha_id", "image_png", "expires_in"}


def test_maintenance_file_makes_the_api_busy(http: httpx.Client, tmp_path: Path) -> None:
    (tmp_path / "maintenance").write_text("12")
    r = http.post("/api/v1/sessions", json={"login": "anna", "password": "pw", "client": CLIENT})
    body = assert_problem(r, "server-busy", 503)
    assert r.headers["retry-after"] == "12" and body["retry_after"] == 12
    assert http.get("/api/v1/server").status_code == 200  # discovery still works
    (tmp_path / "maintenance").unlink()
    sign_in(http)


def test_unknown_paths_and_methods_are_plain_problems(http: httpx.Client) -> None:
    r = http.get("/api/v1/nothing")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == "about:blank"
    r = http.put("/api/v1/sessions")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "POST", "HEAD"}
    assert http.delete("/api/v1/sessions/").status_code == 404  # no slash redirect


def test_time_in_responses_follows_the_injected_clock(
    http: httpx.Client, clock: FakeServerClock
) -> None:
    clock.advance(3600)
    assert http.get("/api/v1/server").json()["server_time"] == "2027-01-15T09:00:00Z"
