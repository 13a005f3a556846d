"""An AIPIX server (the simulator, ``--flavor aipix``): the User Sessions window on a 419 shows
AIPIX's fields (a device read from the User-Agent, the client type, the address, "unknown" for
the start time AIPIX does not report); ending one signs in, replacing that session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.journeys.conftest import PASSWORD
from tests.support.journey import GREY, Journey, server_sessions
from tests.support.refserver import RefServer

pytestmark = pytest.mark.desktop

PHONE = "Samsung / SM-G991B / 13 / 33 / Android"  # note §1 User-Agent, Android SDK
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)


def _device(server: RefServer, user_agent: str, client: str) -> str:
    """Another device signs in over the AIPIX API; its token."""
    headers = {
        "Accept": "application/json",
        "User-Agent": user_agent,
        "X-Client": client,
        "X-UUID": f"uuid-{client}",
    }
    with server.client(headers=headers) as http:
        r = http.post("/api/v1/token", json={"login": "anna", "password": PASSWORD})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


def _clients(server: RefServer, token: str) -> list[str]:
    with server.client(headers={"Accept": "application/json"}) as http:
        r = http.get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return sorted(str(s["client"]) for s in r.json())


def test_aipix_at_the_limit_end_the_phone(
    walk: Journey, refserver_factory: Callable[..., RefServer]
) -> None:
    hq = refserver_factory(
        users={"anna": PASSWORD}, max_sessions=2, extra_args=["--flavor", "aipix"]
    )
    _device(hq, PHONE, "android")
    browser = _device(hq, BROWSER, "web")
    walk.cli(
        "servers", "add", "HQ", hq.url, "--login", "anna", "--kind", "aipix",
        "--ca-file", str(hq.cert_pem_path),
    )  # fmt: skip
    walk.cli("password", "forget", "HQ", check=False)
    walk.start()
    login = walk.wait_dialog("Sign in", contains="Sign in to a video surveillance server")
    walk.type_into(login, PASSWORD, "Return")
    sessions = walk.wait_dialog("User sessions", contains="Chrome on Windows")
    walk.shot("aipix-limit-window")
    assert "2 of 2 sessions in use" in sessions.texts
    rows = {r.text.split(" | ")[0]: r.text for r in sessions.rows}
    assert set(rows) == {"Samsung SM-G991B (Android 13)", "Chrome on Windows"}
    phone = rows["Samsung SM-G991B (Android 13)"]
    assert "AIPIX Android app" in phone and "127.0.0.1" in phone and "unknown" in phone
    assert "web browser" in rows["Chrome on Windows"]
    walk.wait_icon(GREY, "grey blocked at the limit")
    # The phone signed in first, so it is the least recently active: recommended and selected.
    assert "recommended" in phone
    walk.click(sessions, "End session…")
    confirm = walk.wait_dialog("End session?", contains="Samsung SM-G991B")
    walk.click(confirm, "End Samsung SM-G991B")
    walk.wait_state("signed_in", sessions_in_use=2, max_sessions=2)
    walk.wait_no_dialog()
    walk.shot("aipix-signed-in")
    assert _clients(hq, browser) == ["thick-legal", "web"]  # the phone's session was replaced


def test_a_switch_to_an_aipix_server_with_its_captcha_on_asks_it_once(
    walk: Journey, refserver_factory: Callable[..., RefServer]
) -> None:
    """Servers ▸ HQ (AIPIX, captcha on) while signed in to Office: the captcha HQ sent to the
    sign-in made beside Office's session is the one shown (not a second one asked), and its
    answer signs in to HQ with one session there."""
    office = refserver_factory(users={"anna": PASSWORD}, max_sessions=2)
    hq = refserver_factory(
        users={"anna": PASSWORD}, max_sessions=2, captcha="always", extra_args=["--flavor", "aipix"]
    )
    walk.add_server(office)
    walk.cli(
        "servers", "add", "HQ", hq.url, "--login", "anna", "--kind", "aipix",
        "--ca-file", str(hq.cert_pem_path),
    )  # fmt: skip
    walk.store_password("Office", PASSWORD)
    walk.store_password("HQ", PASSWORD)
    walk.start()
    walk.wait_state("signed_in", server="Office")
    walk.menu("Servers", "HQ")
    captcha = walk.wait_dialog("Captcha", contains="HQ asks you to type the characters")
    walk.shot("switch-captcha")
    issued = [line for line in hq.captcha_log.read_text().splitlines() if line.strip()]
    assert len(issued) == 1, issued  # the beside sign-in's captcha, and no other
    _id, _, answer = issued[0].partition(" ")
    walk.type_into(captcha, answer, "Return")
    walk.wait_state("signed_in", server="HQ")
    walk.wait_no_dialog("Captcha")
    walk.shot("switch-signed-in")
    assert len(server_sessions(hq, "anna")) == 1  # taken over, not signed in twice
    assert server_sessions(office, "anna") == []
