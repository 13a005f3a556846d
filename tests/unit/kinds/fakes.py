"""Small fake servers for httpx.MockTransport: just enough protocol v1 to drive the client."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

PROBLEM_BASE = "https://vms-tray.example/problems/"
PNG = b"\x89PNG\r\n\x1a\nfake"


def problem(
    name: str, status: int, headers: dict[str, str] | None = None, **extensions: Any
) -> httpx.Response:
    body = {"type": PROBLEM_BASE + name, "title": name, "status": status, **extensions}
    body.setdefault("detail", f"{name} happened")
    return httpx.Response(
        status,
        headers={"Content-Type": "application/problem+json", **(headers or {})},
        content=json.dumps(body).encode(),
    )


def ok(status: int = 200, body: Any = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status)
    return httpx.Response(status, json=body)


class Canned:
    """Answers every request with the next canned response (or a raised exception); records
    the requests it saw."""

    def __init__(self, *answers: httpx.Response | Exception | Callable[[], httpx.Response]):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer()
        return answer

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def captcha_json(cid: str = "c1") -> dict[str, Any]:
    return {
        "captcha_id": cid,
        "image_png": base64.b64encode(PNG).decode(),
        "expires_in": 60,
    }


def entry(sid: str, current: bool = False, device: str = "desk") -> dict[str, Any]:
    return {
        "id": sid,
        "device": device,
        "software": "vms-tray",
        "version": "0.1.0",
        "address": "10.0.0.5",
        "started_at": "2026-11-27T06:00:00Z",
        "last_activity": "2026-11-27T06:01:00Z",
        "idle": False,
        "current": current,
    }


@dataclass
class FakeSession:
    id: str
    device: str
    access: str
    refresh: str
    ended: str | None = None  # the reason, as the protocol's session-ended names it
    ended_by: str | None = None  # the device that ended it (reason ended_by_other)


@dataclass
class FakeV1:
    """A tiny stateful protocol v1 server: one account, a seat limit, optional captcha."""

    password: str = "s3cret-pass"
    max_sessions: int = 1
    captcha: str = "never"
    captcha_answer: str = "42x7"
    sessions: dict[str, FakeSession] = field(default_factory=dict)
    conflicts: dict[str, dict[str, str]] = field(default_factory=dict)
    spent_refresh: set[str] = field(default_factory=set)
    requests: list[httpx.Request] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def _new(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}-{'x' * 12}"

    def _active(self) -> list[FakeSession]:
        return [s for s in self.sessions.values() if s.ended is None]

    def _limit(self) -> dict[str, Any]:
        return {"scope": "account", "max": self.max_sessions, "active": len(self._active())}

    def _open(self, device: str) -> httpx.Response:
        s = FakeSession(self._new("sid"), device, self._new("acc"), self._new("ref"))
        self.sessions[s.id] = s
        return ok(
            201,
            {
                "session_id": s.id,
                "access_token": s.access,
                "token_type": "Bearer",
                "expires_in": 300,
                "refresh_token": s.refresh,
                "refresh_expires_in": 3600,
                "idle_timeout": 900,
                "limit": self._limit(),
            },
        )

    def _conflict(self, device: str) -> httpx.Response:
        token = self._new("conf")
        self.conflicts[token] = {"device": device}
        return problem(
            "session-limit",
            409,
            limit=self._limit(),
            sessions=[entry(s.id, device=s.device) for s in self._active()],
            conflict_token=token,
            conflict_expires_in=120,
        )

    @staticmethod
    def _ended(s: FakeSession) -> httpx.Response:
        # As the reference server: who ended it only when another device did.
        extra: dict[str, Any] = {}
        if s.ended == "ended_by_other":
            extra["ended_by"] = {"device": s.ended_by or "", "software": "vms-tray"}
        return problem("session-ended", 401, reason=s.ended, **extra)

    def _caller(self, request: httpx.Request) -> FakeSession | str | httpx.Response:
        auth: str = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        if token in self.conflicts:
            return token
        for s in self.sessions.values():
            if token == s.access:
                if s.ended:
                    return self._ended(s)
                return s
        return problem("token-expired", 401)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        path = request.url.path.removeprefix("/api/v1")
        body = json.loads(request.content) if request.content else {}
        method = request.method
        if (method, path) == ("GET", "/server"):
            return ok(
                200,
                {
                    "name": "Fake",
                    "product": "fake-vms",
                    "version": "1.0",
                    "api_version": "1.0",
                    "captcha": self.captcha,
                    "idle_timeout": 900,
                    "server_time": "2026-11-27T06:00:00Z",
                },
            )
        if (method, path) == ("POST", "/captcha"):
            return ok(201, captcha_json(self._new("cap")))
        if (method, path) == ("POST", "/sessions"):
            if "conflict_token" in body:
                conflict = self.conflicts.pop(body["conflict_token"], None)
                if conflict is None:
                    return problem("token-expired", 401)
                if len(self._active()) >= self.max_sessions:
                    return self._conflict(conflict["device"])
                return self._open(conflict["device"])
            if self.captcha == "always":
                answer = body.get("captcha")
                if answer is None:
                    return problem("captcha-required", 403, captcha=captcha_json())
                if answer["answer"] != self.captcha_answer:
                    return problem("captcha-invalid", 403, captcha=captcha_json("c2"))
            if body.get("password") != self.password:
                return problem("invalid-credentials", 401)
            device = body["client"]["device"]
            if len(self._active()) >= self.max_sessions:
                return self._conflict(device)
            return self._open(device)
        if (method, path) == ("POST", "/sessions/refresh"):
            token = body.get("refresh_token")
            for s in self.sessions.values():
                if s.refresh == token and token not in self.spent_refresh:
                    if s.ended:
                        return self._ended(s)
                    self.spent_refresh.add(token)
                    s.access, s.refresh = self._new("acc"), self._new("ref")
                    return ok(
                        200,
                        {
                            "session_id": s.id,
                            "access_token": s.access,
                            "token_type": "Bearer",
                            "expires_in": 300,
                            "refresh_token": s.refresh,
                            "refresh_expires_in": 3600,
                        },
                    )
            return problem("token-expired", 401)
        caller = self._caller(request)
        if isinstance(caller, httpx.Response):
            if method == "DELETE" and path == "/sessions/current":
                return ok(204)
            return caller
        if (method, path) == ("GET", "/sessions"):
            me = caller.id if isinstance(caller, FakeSession) else None
            return ok(
                200,
                {
                    "limit": self._limit(),
                    "sessions": [entry(s.id, s.id == me, device=s.device) for s in self._active()],
                },
            )
        if (method, path) == ("GET", "/sessions/current"):
            if not isinstance(caller, FakeSession):
                return problem("session-not-found", 404)
            return ok(200, entry(caller.id, True, caller.device))
        if method == "DELETE" and path == "/sessions/current":
            if isinstance(caller, FakeSession):
                caller.ended = "logout"
            else:
                self.conflicts.pop(caller, None)
            return ok(204)
        if method == "DELETE" and path.startswith("/sessions/"):
            target = self.sessions.get(path.rsplit("/", 1)[1])
            if target is None or target.ended:
                return problem("session-not-found", 404)
            target.ended = "ended_by_other"
            if isinstance(caller, FakeSession):
                target.ended_by = caller.device
            else:
                target.ended_by = self.conflicts[caller]["device"]
            return ok(204)
        return problem("invalid-request", 400)
