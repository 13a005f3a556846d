"""The simulator's websocket push (note §3 E12) over real TLS: where it is, the private-channel
auth, and the ``logout`` event when another device ends the session."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from vms_tray.refserver.aipix.config import AipixConfig, Readings
from vms_tray.refserver.aipix.push import TOKEN_EVENT
from vms_tray.refserver.aipix.runner import AipixHandle
from vms_tray.refserver.tokens import KdfParams

JSON = {"Accept": "application/json", "Content-Type": "application/json"}


class Sim:
    def __init__(self, handle: AipixHandle) -> None:
        self.handle = handle
        self.ctx = ssl.create_default_context(cadata=handle.cert_pem.decode("ascii"))
        self.http = httpx.Client(base_url=handle.url, verify=self.ctx, headers=JSON)

    def sign_in(self, uuid: str) -> tuple[str, str]:
        r = self.http.post(
            "/api/v1/token", json={"login": "anna", "password": "pw"}, headers={"X-UUID": uuid}
        )
        body = r.json()
        return body["access_token"], body["user"]["access_token_id"]

    def authed(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., Sim]]:
    made: list[Sim] = []

    def start(**readings: Any) -> Sim:
        config = replace(AipixConfig(), readings=Readings(**readings))
        handle = AipixHandle(tmp_path / f"s{len(made)}", config=config, kdf=KdfParams(n=16))
        handle.service.add_user("anna", "pw")
        made.append(Sim(handle))
        return made[-1]

    yield start
    for sim in made:
        sim.http.close()
        sim.handle.stop()


def _recv(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=5))
    return frame


def test_wsurl_shapes(make: Callable[..., Sim]) -> None:
    for shape in ("full", "parts", "off"):
        sim = make(websocket=shape)
        token, _ = sim.sign_in("u")
        r = sim.http.get("/api/v1/wsurl", headers=sim.authed(token))
        if shape == "off":
            assert r.status_code == 404
            continue
        body = r.json()
        assert body["path"] == f"/app/{body['app_key']}" and body["is_encrypted"] is True
        assert body["port"] == sim.handle.port
        assert body["ws_url"] == (
            f"wss://127.0.0.1:{sim.handle.port}{body['path']}" * (shape == "full")
        )
    assert sim.http.get("/api/v1/wsurl").status_code == 401


def test_only_the_tokens_own_channel_is_authorised(make: Callable[..., Sim]) -> None:
    sim = make()
    token, token_id = sim.sign_in("u")
    body = {"socket_id": "1.2", "channel_name": f"private-token.{token_id}"}
    r = sim.http.post("/api/v1/broadcasting/auth", json=body, headers=sim.authed(token))
    assert r.status_code == 200 and r.json()["auth"].count(":") == 1
    other = {**body, "channel_name": "private-token.someone-else"}
    assert (
        sim.http.post(
            "/api/v1/broadcasting/auth", json=other, headers=sim.authed(token)
        ).status_code
        == 403
    )
    form = sim.http.post(
        "/api/v1/broadcasting/auth",
        content=f"socket_id=1.2&channel_name=private-token.{token_id}",
        headers={**sim.authed(token), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 200  # pusher-js posts a form


def test_ending_a_session_pushes_logout_to_its_channel(make: Callable[..., Sim]) -> None:
    sim = make()
    mine, my_id = sim.sign_in("mine")
    theirs, _ = sim.sign_in("theirs")
    url = sim.http.get("/api/v1/wsurl", headers=sim.authed(mine)).json()["ws_url"]
    with connect(url, ssl=sim.ctx, proxy=None, open_timeout=5) as ws:
        hello = _recv(ws)
        assert hello["event"] == "pusher:connection_established"
        socket_id = json.loads(hello["data"])["socket_id"]
        channel = f"private-token.{my_id}"
        ws.send(
            json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, "auth": "x:y"}})
        )
        assert _recv(ws)["event"] == "pusher:error"  # a forged signature
        auth = sim.http.post(
            "/api/v1/broadcasting/auth",
            json={"socket_id": socket_id, "channel_name": channel},
            headers=sim.authed(mine),
        ).json()["auth"]
        ws.send(
            json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, "auth": auth}})
        )
        assert _recv(ws)["event"] == "pusher_internal:subscription_succeeded"
        ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
        assert _recv(ws)["event"] == "pusher:pong"
        listed = sim.http.get("/api/v1/sessions", headers=sim.authed(theirs)).json()
        target = next(s["id"] for s in listed if not s["is_current"])
        sim.http.post(f"/api/v1/sessions/{target}", headers=sim.authed(theirs))
        pushed = _recv(ws)
        assert (pushed["event"], pushed["channel"]) == (TOKEN_EVENT, channel)
        assert json.loads(pushed["data"])["type"] == "logout"


def test_a_wrong_app_key_is_refused(make: Callable[..., Sim]) -> None:
    sim = make()
    url = f"wss://127.0.0.1:{sim.handle.port}/app/nope"
    # The handshake fails (websockets calls it InvalidStatus or a closed connection).
    with pytest.raises(Exception), connect(url, ssl=sim.ctx, proxy=None) as ws:  # noqa: B017
        ws.recv(timeout=5)
