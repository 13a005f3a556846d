"""``vms-tray server run --flavor aipix`` as a separate process: it speaks the AIPIX API on the
reference server's data directory, its readings come from ``--aipix KEY=VALUE``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.refserver import RefServer

pytestmark = pytest.mark.integration

HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


def test_the_simulator_runs_from_the_cli(refserver_factory: Callable[..., RefServer]) -> None:
    server = refserver_factory(
        captcha="always", extra_args=["--flavor", "aipix", "--aipix", "limit_status=429"]
    )
    with server.client(headers=HEADERS) as http:
        assert http.get("/api/v1/static/basic").json()["is_captcha_available"] is True
        key = http.get("/api/v1/captcha").json()["key"]
        body = {"login": "anna", "password": "pw", "captcha": server.captcha_answer(key)}
        r = http.post("/api/v1/token", json={**body, "key": key})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        sessions = http.get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"})
        assert sessions.json()[0]["is_current"] is True


def test_a_bad_setting_is_refused(refserver_factory: Callable[..., RefServer]) -> None:
    with pytest.raises(Exception, match="KEY one of"):
        refserver_factory(extra_args=["--flavor", "aipix", "--aipix", "nonsense=1"])
