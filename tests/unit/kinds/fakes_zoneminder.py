"""A small fake of ZoneMinder 1.36's token API for httpx.MockTransport.

It follows what the real server does (tests/integration/zoneminder checks the same behaviour
against ZoneMinder itself, and tests/unit/kinds/test_contract.py holds the fake to the kind
contract): form fields ``user``/``pass``/``token``, JWTs with ``iat``, ``exp`` and ``type``
claims, CakePHP error bodies on 401, revocation by ``TokenMinExpiry``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs

import httpx

PASSWORD = "s3cret-Passw0rd"
START = 1_800_000_000.0


def jwt(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        raw = base64.urlsafe_b64encode(json.dumps(obj).encode()).decode()
        return raw.rstrip("=")

    return f"{part({'typ': 'JWT', 'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    result: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return result


@dataclass
class User:
    password: str
    api: bool = True
    enabled: bool = True
    token_min_expiry: int = 0


def zm_error(status: int, message: str) -> httpx.Response:
    escaped = message.replace('"', "&quot;")
    body = {
        "success": False,
        "data": {
            "name": escaped,
            "message": escaped,
            "url": "/zm/api/host/login.json",
            "exception": {"class": "UnauthorizedException", "code": status, "message": message},
        },
    }
    return httpx.Response(status, json=body)


@dataclass
class FakeZoneMinder:
    """Just enough of ZoneMinder's HostController and AppController::beforeFilter."""

    now: float = START
    users: dict[str, User] = field(default_factory=lambda: {"admin": User(PASSWORD)})
    access_ttl: int = 7200
    refresh_ttl: int = 86400
    auth: bool = True
    send_date: bool = True
    requests: list[httpx.Request] = field(default_factory=list)
    serial: int = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def issue(self, user: str, kind: str, ttl: int) -> str:
        # A serial claim makes every token distinct, like real ones issued in different seconds.
        self.serial += 1
        iat = int(self.now)
        claims = {"iss": "ZoneMinder", "iat": iat, "exp": iat + ttl, "user": user, "type": kind}
        return jwt({**claims, "n": self.serial})

    def validate(self, token: str, kind: str) -> tuple[str | None, str]:
        try:
            claims = claims_of(token)
        except (ValueError, IndexError):
            return None, "Wrong number of segments"
        if claims["exp"] <= self.now:
            return None, "Expired token"
        if claims["type"] != kind:
            return None, "Incorrect token type"
        user = self.users.get(claims["user"])
        if user is None or not user.enabled:
            return None, "No such user/credentials"
        if claims["iat"] < user.token_min_expiry:
            return None, "Token revoked. Please re-generate"
        return claims["user"], "OK"

    def revoke(self, login: str) -> None:
        self.users[login].token_min_expiry = int(self.now) + 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        response = self.handle(request)
        if self.send_date:
            response.headers["Date"] = formatdate(self.now, usegmt=True)
        return response

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if not path.startswith("/zm/api/"):
            return httpx.Response(404, html="<html><h1>Not Found</h1></html>")
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        action = path.removeprefix("/zm/api/host/").removesuffix(".json")
        user: str | None = None
        if self.auth:
            if action == "login" and "user" in form and "pass" in form:
                known = self.users.get(form["user"])
                if known is None or known.password != form["pass"]:
                    return zm_error(401, f'Login denied for user "{form["user"]}"')
                user = form["user"]
            if "token" in form:
                user, reason = self.validate(
                    form["token"], "refresh" if action == "login" else "access"
                )
                if user is None:
                    return zm_error(401, reason)
            if user is not None and not self.users[user].api:
                return zm_error(401, f"API disabled for: {user}")
            if action != "logout" and user is None:
                return zm_error(401, "Not Authenticated")
            if user is not None and not self.users[user].enabled:
                return zm_error(401, "User is not enabled")
        if action == "getVersion":
            return httpx.Response(200, json={"version": "1.36.33", "apiversion": "2.0"})
        if action == "logout":
            return httpx.Response(200, json={"result": "ok"})
        if action == "login":
            body: dict[str, Any] = {}
            if not self.auth:
                body = {"access_token": None, "access_token_expires": None}
            elif "pass" in form:
                assert user is not None
                body = {
                    "access_token": self.issue(user, "access", self.access_ttl),
                    "access_token_expires": self.access_ttl,
                    "refresh_token": self.issue(user, "refresh", self.refresh_ttl),
                    "refresh_token_expires": self.refresh_ttl,
                }
            else:
                assert user is not None
                body = {
                    "access_token": self.issue(user, "access", self.access_ttl),
                    "access_token_expires": self.access_ttl,
                }
            body.update(credentials="auth=", append_password=0, version="1.36.33")
            body["apiversion"] = "2.0"
            return httpx.Response(200, json=body)
        return zm_error(401, "Not Authenticated")
