"""The HTTP face of protocol v1 (Starlette): parse, call ``Service``, render JSON or a problem.

Service calls run in the thread pool: they hash passwords (scrypt) and touch SQLite, neither of
which may block the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sqlite3
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from vms_tray.refserver.problems import MEDIA_TYPE, Problem, http_problem, with_retry_after
from vms_tray.refserver.service import ClientDescription, Service
from vms_tray.refserver.stream import EventStreams

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_BODY = 64 * 1024
DEFAULT_MAX_PENDING_SIGN_INS = 128
T = TypeVar("T")


@cache
def openapi_document() -> bytes:
    return (resources.files("vms_tray") / "data" / "openapi.json").read_bytes()


class _ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def problem_response(problem: Problem) -> Response:
    headers = {"Cache-Control": "no-store", **problem.headers}
    return _ProblemResponse(problem.body(), status_code=problem.status, headers=headers)


def _json(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def _bad(detail: str) -> Problem:
    return Problem("invalid-request", detail)


def _is_json(content_type: str) -> bool:
    return content_type.partition(";")[0].strip().lower() == "application/json"


async def _body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    # A body is JSON and says so: a "simple" cross-origin request (text/plain, form types) that
    # a web page could send without a CORS preflight never reaches the service.
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    if has_body and not _is_json(request.headers.get("content-type", "")):
        raise Problem(
            "unsupported-media-type", "send the body as JSON with 'Content-Type: application/json'"
        )
    size = 0
    chunks: list[bytes] = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _bad(f"the body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        if optional:
            return {}
        raise _bad("a JSON object body is required")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad("the body is not valid JSON") from None
    except RecursionError:
        # Tens of thousands of nested brackets fit in the body limit and exhaust the parser.
        raise _bad("the body is nested too deeply") from None
    if not isinstance(data, dict):
        raise _bad("the body must be a JSON object")
    return data


def _str(
    data: dict[str, Any], key: str, *, max_len: int = 200, where: str = "", min_len: int = 1
) -> str:
    value = data.get(key)
    name = where + key
    if not isinstance(value, str):
        raise _bad(f"{name!r} must be a string")
    if not min_len <= len(value) <= max_len:
        raise _bad(f"{name!r} must be {min_len} to {max_len} characters long")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate escape ("\\ud800"): not Unicode text (RFC 8259 section 8.2, I-JSON).
        raise _bad(f"{name!r} is not valid Unicode text") from None
    return value


# C0 and C1 controls, DEL, line/paragraph separators and bidi formatting characters: a device
# name other clients show must not be able to drive their terminal or reorder their text.
_NOT_SHOWN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _shown(client: dict[str, Any], key: str) -> str:
    """A ``client`` field other devices are shown (``device``, ``software``, ``version``)."""
    value = _str(client, key, where="client.")
    if _NOT_SHOWN.search(value):
        raise _bad(f"'client.{key}' must not contain control or bidi formatting characters")
    return value


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise _bad(f"{key!r} must be an object")
    return value


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        raise Problem("token-expired", "send 'Authorization: Bearer <token>'; sign in to get one")
    return token


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Api:
    def __init__(
        self,
        service: Service,
        *,
        maintenance_file: Path | None = None,
        max_pending_sign_ins: int = DEFAULT_MAX_PENDING_SIGN_INS,
    ) -> None:
        self.service = service
        self.maintenance_file = maintenance_file
        self.max_pending_sign_ins = max_pending_sign_ins
        self._pending_sign_ins = 0
        # scrypt is CPU- and memory-bound (16 MiB each): run as many as there are CPUs and
        # queue the rest here, in the event loop, so they never take every worker thread
        # from cheap requests such as refreshes.
        self._kdf_slots = asyncio.Semaphore(os.cpu_count() or 1)
        self.streams = EventStreams(service, self._call)

    def _check_busy(self) -> None:
        """Maintenance mode: while the file exists, API calls answer 503 (its content: seconds)."""
        if self.maintenance_file is None:
            return
        try:
            text = self.maintenance_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return
        except OSError:
            text = ""
        try:
            seconds = float(text) if text else 30.0
        except ValueError:
            seconds = 30.0
        raise with_retry_after("server-busy", "the server is in maintenance; retry later", seconds)

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await run_in_threadpool(fn, *args, **kwargs)
        except sqlite3.OperationalError as exc:
            log.warning("storage busy: %s", exc)
            raise with_retry_after("server-busy", "the session store is busy; retry", 1) from None

    async def server(self, request: Request) -> Response:
        return _json(self.service.info())

    async def openapi(self, request: Request) -> Response:
        return Response(openapi_document(), media_type="application/json")

    async def captcha(self, request: Request) -> Response:
        self._check_busy()
        data = await _body(request, optional=True)
        replaces = data.get("replaces")
        if replaces is not None and (not isinstance(replaces, str) or len(replaces) > 200):
            raise _bad("'replaces' must be a captcha id")
        captcha = await self._call(self.service.request_captcha, _address(request), replaces)
        return _json(captcha, 201)

    async def sign_in(self, request: Request) -> Response:
        self._check_busy()
        data = await _body(request)
        address = _address(request)
        if "conflict_token" in data:
            token = _str(data, "conflict_token", max_len=512)
            wait = data.get("wait", False)
            if not isinstance(wait, bool):
                raise _bad("'wait' must be true or false")
            result = await self._call(self.service.finish_sign_in, token, address, wait)
            return _json(result, 201)
        login = _str(data, "login", max_len=128)
        password = _str(data, "password", max_len=1024)
        c = _obj(data, "client")
        client = ClientDescription(
            _shown(c, "device"),
            _shown(c, "software"),
            _shown(c, "version"),
        )
        device_token: str | None = None
        if data.get("device_token") is not None:
            device_token = _str(data, "device_token", max_len=512)
        captcha: tuple[str, str] | None = None
        if data.get("captcha") is not None:
            cap = _obj(data, "captcha")
            captcha = (
                _str(cap, "id", where="captcha."),
                _str(cap, "answer", where="captcha.", max_len=64, min_len=0),
            )
        if self._pending_sign_ins >= self.max_pending_sign_ins:
            raise with_retry_after("server-busy", "too many sign-ins in progress; retry", 1)
        self._pending_sign_ins += 1
        try:
            async with self._kdf_slots:
                result = await self._call(
                    self.service.sign_in, login, password, client, address, captcha, device_token
                )
        finally:
            self._pending_sign_ins -= 1
        return _json(result, 201)

    async def refresh(self, request: Request) -> Response:
        self._check_busy()
        data = await _body(request)
        token = _str(data, "refresh_token", max_len=512)
        return _json(await self._call(self.service.refresh, token))

    async def list_sessions(self, request: Request) -> Response:
        self._check_busy()
        caller = await self._call(self.service.authenticate, _bearer(request), allow_conflict=True)
        return _json(await self._call(self.service.list_sessions, caller))

    async def current(self, request: Request) -> Response:
        self._check_busy()
        caller = await self._call(self.service.authenticate, _bearer(request), allow_conflict=True)
        return _json(await self._call(self.service.current, caller))

    async def sign_out(self, request: Request) -> Response:
        self._check_busy()
        await self._call(self.service.sign_out, _bearer(request))
        return Response(status_code=204, headers={"Cache-Control": "no-store"})

    async def events(self, request: Request) -> Response:
        """Protocol v1.1's live events (docs/protocol.md; refserver/stream.py)."""
        self._check_busy()
        return await self.streams.respond(_bearer(request))

    async def end_session(self, request: Request) -> Response:
        self._check_busy()
        session_id = str(request.path_params["id"])
        caller = await self._call(self.service.authenticate, _bearer(request), allow_conflict=True)
        await self._call(self.service.end_session, caller, session_id)
        return Response(status_code=204, headers={"Cache-Control": "no-store"})

    async def handover(self, request: Request) -> Response:
        """Protocol v1.1: ask a session to hand its seat over (docs/protocol.md)."""
        self._check_busy()
        session_id = str(request.path_params["id"])
        await _body(request, optional=True)
        caller = await self._call(self.service.authenticate, _bearer(request), allow_conflict=True)
        return _json(await self._call(self.service.request_handover, caller, session_id), 202)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    return _ProblemResponse(
        http_problem(exc.status_code, str(exc.detail), f"{request.method} {request.url.path}"),
        status_code=exc.status_code,
        headers=headers,
    )


async def _on_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected %s in %s %s", type(exc).__name__, request.method, request.url.path)
    return _ProblemResponse(
        http_problem(500, "Internal Server Error", "the server failed; see its log"),
        status_code=500,
    )


Handler = Callable[[Request], Awaitable[Response]]


class RefuseAmbiguousFraming:
    """A request with both Content-Length and Transfer-Encoding has two lengths (RFC 9112
    section 6.3; h11 silently prefers the chunked one): the way requests are smuggled past a
    proxy that reads the other. Refused with 400, and the connection closed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            names = {name.lower() for name, _ in scope["headers"]}
            if b"content-length" in names and b"transfer-encoding" in names:
                response = problem_response(
                    _bad("send either Content-Length or Transfer-Encoding, not both")
                )
                response.headers["Connection"] = "close"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _dispatch(by_method: dict[str, Handler]) -> Handler:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await by_method[method](request)

    return endpoint


def build_app(
    service: Service,
    *,
    maintenance_file: Path | None = None,
    max_pending_sign_ins: int = DEFAULT_MAX_PENDING_SIGN_INS,
) -> Starlette:
    api = Api(service, maintenance_file=maintenance_file, max_pending_sign_ins=max_pending_sign_ins)
    table: dict[str, dict[str, Handler]] = {
        "/openapi.json": {"GET": api.openapi},
        f"{API}/server": {"GET": api.server},
        f"{API}/captcha": {"POST": api.captcha},
        f"{API}/sessions": {"POST": api.sign_in, "GET": api.list_sessions},
        f"{API}/sessions/refresh": {"POST": api.refresh},
        f"{API}/sessions/current": {"GET": api.current, "DELETE": api.sign_out},
        f"{API}/sessions/{{id}}": {"DELETE": api.end_session},
        f"{API}/sessions/{{id}}/handover": {"POST": api.handover},
        f"{API}/events": {"GET": api.events},
    }
    app = Starlette(
        # One route per path, so a 405 lists every method of the path in Allow.
        routes=[
            Route(path, _dispatch(by_method), methods=list(by_method))
            for path, by_method in table.items()
        ],
        middleware=[Middleware(RefuseAmbiguousFraming)],
        exception_handlers={
            Problem: _on_problem,
            HTTPException: _on_http,
            Exception: _on_error,
        },
    )
    # "/sessions/" is not "/sessions": no redirects, a 404 problem instead.
    app.router.redirect_slashes = False
    app.state.service = service
    return app
