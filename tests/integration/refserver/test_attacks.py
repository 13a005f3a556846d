"""Attacks of issue 14 (items 2 and 3) on the real server process, from several addresses:
loopback clients bound to 127.0.0.x, floods bounded in count, the server's clock moved instead
of waiting."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.support.refserver import RefServer

# Issue 14's attacks: also selected by -m security with tests/security/ (see SECURITY.md).
pytestmark = [pytest.mark.integration, pytest.mark.security]

BASE = "https://vms-tray.example/problems/"
CLIENT = {"device": "desk", "software": "vms-tray", "version": "0.1.0"}

Factory = Callable[..., RefServer]


@contextmanager
def client_at(server: RefServer, address: str) -> Iterator[httpx.Client]:
    """An HTTPS client whose connections come from ``address`` (a 127.0.0.0/8 address)."""
    transport = httpx.HTTPTransport(verify=server.ssl_context(), local_address=address)
    with httpx.Client(base_url=server.url, transport=transport, timeout=10.0) as http:
        yield http


def sign_in(http: httpx.Client, pw: str = "pw", **extra: Any) -> httpx.Response:
    body = {"login": "anna", "password": pw, "client": CLIENT, **extra}
    return http.post("/api/v1/sessions", json=body)


def kind(r: httpx.Response) -> str:
    if r.status_code == 201:
        return "signed-in"
    return str(r.json()["type"]).removeprefix(BASE)


def test_the_server_sees_each_clients_own_address(refserver: RefServer) -> None:
    with client_at(refserver, "127.0.0.2") as a, client_at(refserver, "127.0.0.3") as b:
        for http, address in ((a, "127.0.0.2"), (b, "127.0.0.3")):
            r = sign_in(http)
            assert r.status_code == 201, r.text
            me = http.get("/api/v1/sessions/current", headers=auth(r))
            assert me.json()["address"] == address


def auth(r: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_guesser_who_knows_the_login_does_not_lock_its_owner_out(
    refserver_factory: Factory,
) -> None:
    """5 wrong passwords a minute from one address refused the real user at another address
    50 times in 50 (issue 14 item 2)."""
    server = refserver_factory(captcha="after-failures")
    guesses: Counter[str] = Counter()
    owner: Counter[str] = Counter()
    with client_at(server, "127.0.0.2") as guesser, client_at(server, "127.0.0.3") as real:
        for _ in range(50):
            for _ in range(5):
                guesses[kind(sign_in(guesser, pw="guess"))] += 1
            r = sign_in(real)
            owner[kind(r)] += 1
            if r.status_code == 201:
                assert real.delete("/api/v1/sessions/current", headers=auth(r)).status_code == 204
            server.advance_clock(60)
    assert owner == {"signed-in": 50}
    # Without reading captchas the guesser tried 2 passwords per 15 minutes (the captcha window),
    # 8 in 50 minutes; the rest were captcha demands (and, after its 5th failure, waits).
    assert guesses["invalid-credentials"] == 8
    assert guesses["captcha-required"] + guesses["login-throttled"] == 242


def test_a_distributed_guesser_stops_new_devices_never_a_known_one(
    refserver_factory: Factory,
) -> None:
    server = refserver_factory()
    with client_at(server, "127.0.0.4") as known:
        first = sign_in(known)
        assert first.status_code == 201, first.text
        token = first.json()["device_token"]
        known.delete("/api/v1/sessions/current", headers=auth(first))
    refused = 0
    for i in range(60):  # 60 addresses, one wrong password each: no pair is slowed
        with client_at(server, f"127.0.1.{i + 1}") as guesser:
            refused += kind(sign_in(guesser, pw="guess")) == "login-throttled"
    assert refused == 10  # the login's ceiling of 50 failures in 15 minutes
    with client_at(server, "127.0.0.5") as new_device:
        r = sign_in(new_device)
        assert kind(r) == "login-throttled" and 800 <= int(r.headers["retry-after"]) <= 900
    with client_at(server, "127.0.0.6") as known:
        r = sign_in(known, device_token=token)
        assert r.status_code == 201, r.text
        assert r.json()["device_token"] == token


def test_a_captcha_flood_from_one_address_leaves_the_others_served(
    refserver_factory: Factory,
) -> None:
    """Sign-ins that need a captcha drew one each with no limit: ~94 s of flooding reached the
    10,000 outstanding and everyone got server-busy for minutes (issue 14 item 3)."""
    server = refserver_factory(captcha="always")
    answers: Counter[str] = Counter()
    started = time.monotonic()
    with client_at(server, "127.0.0.2") as flood:
        for i in range(300):  # bounded: 300 requests, both paths that draw a picture
            r = sign_in(flood, pw="guess") if i % 2 else flood.post("/api/v1/captcha")
            answers["captcha" if r.status_code in (201, 403) else kind(r)] += 1
    flood_seconds = time.monotonic() - started
    assert answers == {"captcha": 30, "login-throttled": 270}
    with client_at(server, "127.0.0.3") as other:
        r = sign_in(other)
        assert kind(r) == "captcha-required"
        cid = r.json()["captcha"]["captcha_id"]
        ok = sign_in(other, captcha={"id": cid, "answer": server.captcha_answer(cid)})
        assert ok.status_code == 201, ok.text
    print(f"captcha flood: 300 requests in {flood_seconds:.1f} s, {answers['captcha']} drawn")
