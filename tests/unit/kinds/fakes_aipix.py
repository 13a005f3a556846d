"""A small AIPIX Client API for httpx.MockTransport: enough of the note's behaviour to drive the
``aipix`` kind's logic (the full simulator is ``vms_tray.refserver.aipix``, tested over TLS)."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

PNG = b"\x89PNG\r\n\x1a\nfake"
IMG = "data:image/png;base64," + base64.b64encode(PNG).decode()


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def invalid(field_: str, text: str, status: int = 422) -> httpx.Response:
    return answer(status, {"message": "The given data was invalid.", "errors": {field_: [text]}})


@dataclass
class _Session:
    id: str
    token: str
    user_agent: str
    client: str
    ip: str = "10.0.0.5"
    online: bool = True
    last: int = 1_800_000_000


@dataclass
class FakeAipix:
    password: str = "pw"
    limit: int = 2
    captcha_on: bool = False
    limit_status: int = 419
    array_body: bool = False
    token_prefix: bool = False
    # Another device signs in between a session_id retry's end of the chosen session and its
    # own sign-in: the freed seat is taken first (the retry meets the limit again).
    rival_on_replace: bool = False
    sessions: dict[str, _Session] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def bodies(self, path: str) -> list[Any]:
        return [
            json.loads(r.content) if r.content else None
            for r in self.requests
            if r.url.path.endswith(path)
        ]

    def _entry(self, s: _Session, me: str | None) -> dict[str, Any]:
        return {
            "id": s.id,
            "online": s.online,
            "last": s.last,
            "user_agent": s.user_agent,
            "client": s.client,
            "ip": s.ip,
            "is_current": s.id == me,
        }

    def _me(self, request: httpx.Request) -> _Session | None:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        return next((s for s in self.sessions.values() if s.token == bearer), None)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        path = request.url.path.removeprefix("/api/v1")
        body = json.loads(request.content) if request.content else {}
        if path == "/static/basic":
            return answer(
                200,
                {
                    "is_captcha_available": self.captcha_on,
                    "is_external_auth_enabled": False,
                    "version": "24.03.0.0",
                    "available_locales": ["en", "ru"],
                },
            )
        if path == "/captcha":
            n = next(self._ids)
            key = f"$2y$10$key{n}"
            self.keys[key] = f"ans{n}"
            return answer(200, {"key": key, "img": IMG, "ttl": 60})
        if path == "/token":
            return self._token(request, body)
        me = self._me(request)
        if me is None:
            return answer(401, {"message": "Unauthenticated."})
        if path == "/sessions":
            return answer(200, [self._entry(s, me.id) for s in self.sessions.values()])
        if path.startswith("/sessions/"):
            sid = path.removeprefix("/sessions/")
            if sid not in self.sessions:
                return answer(404, {"message": "Not Found."})
            del self.sessions[sid]
            return answer(200, {"status": "ok"})
        if path == "/logout":
            del self.sessions[me.id]
            return answer(204)
        return answer(404, {"message": "Not Found."})

    def _token(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        sid = body.get("session_id")
        if self.captcha_on and sid is None:
            key, given = body.get("key"), body.get("captcha")
            if not given or self.keys.pop(str(key), None) != given:
                return invalid("captcha", "Invalid captcha.")
        if body.get("password") != self.password:
            return invalid("login", "These credentials do not match our records.")
        if sid is not None:
            if sid not in self.sessions:
                return invalid("session_id", "The selected session id is invalid.")
            del self.sessions[sid]
            if self.rival_on_replace:
                self._open("rival-phone", "android")
        if len(self.sessions) >= self.limit:
            listed = [self._entry(s, None) for s in self.sessions.values()]
            if self.array_body:
                return answer(self.limit_status, listed)
            return answer(
                self.limit_status,
                {"sessions": listed, "sessions_limit": self.limit, "key": "login-key"},
            )
        session = self._open(
            request.headers.get("user-agent", ""), request.headers.get("x-client", "")
        )
        shown = "Bearer " + session.token if self.token_prefix else session.token
        return answer(200, {"user": {"id": 1, "login": body["login"]}, "access_token": shown})

    def _open(self, user_agent: str, client: str) -> _Session:
        n = next(self._ids)
        session = _Session(f"s{n}", f"token-{n}", user_agent, client)
        self.sessions[session.id] = session
        return session
