"""The reference server as a real process: starts, serves TLS, signs in, exits 0 on SIGTERM."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.refserver import RefServer

pytestmark = pytest.mark.integration

CLIENT = {"device": "laptop", "software": "vms-tray", "version": "0.1.0"}


def test_serves_tls_signs_in_and_stops_gracefully(refserver: RefServer) -> None:
    assert refserver.url.startswith("https://127.0.0.1:")
    assert len(refserver.fingerprint.split(":")) == 32
    with refserver.client() as http:
        info = http.get("/api/v1/server").json()
        assert info["api_version"] == "1.1"
        r = http.post(
            "/api/v1/sessions", json={"login": "anna", "password": "pw", "client": CLIENT}
        )
        assert r.status_code == 201, r.text
    assert refserver.stop() == 0


def test_restart_keeps_sessions_and_port(
    refserver_factory: Callable[..., RefServer],
) -> None:
    server = refserver_factory()
    with server.client() as http:
        token = http.post(
            "/api/v1/sessions", json={"login": "anna", "password": "pw", "client": CLIENT}
        ).json()["access_token"]
    port = server.port
    server.kill()
    server.restart()
    assert server.port == port
    with server.client() as http:
        r = http.get("/api/v1/sessions/current", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        assert r.json()["current"] is True
