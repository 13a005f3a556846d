"""The HTTP face of the AIPIX simulator (Starlette): headers in, JSON (or HTML) out.

note §1: base path ``/api/v1``; ``Accept: application/json`` required (24.12 words it
``Content-Type``; ``Readings.required_headers``): without it errors come back as an HTML page;
language from the ``hl`` header or query parameter; ``Authorization: Bearer``.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from .push import TOKEN_CHANNEL, PushHub
from .service import AipixError, AipixService, Caller, Device, message

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_BODY = 64 * 1024
Handler = Callable[[Request], Awaitable[Response]]


def _lang(request: Request) -> str:
    # note §1 Language: ``Hl`` header (SDKs: lowercase ``hl``) or ``?hl=``.
    lang = (request.headers.get("hl") or request.query_params.get("hl") or "en").lower()
    return lang if lang in ("en", "ru") else "en"


def _device(request: Request) -> Device:
    h = request.headers
    return Device(
        address=request.client.host if request.client else "unknown",
        user_agent=h.get("user-agent", "")[:300],  # note §1 User-Agent, shown as user_agent
        client=h.get("x-client", "")[:64],  # note §1 X-Client, shown as ``client`` [INF]
        uuid=h.get("x-uuid", "")[:128],  # note §1 X-UUID
        version=h.get("x-version", "")[:32],  # note §1 X-Version
        lang=_lang(request),
    )


def _is_json(value: str) -> bool:
    return "application/json" in value.lower()


def _wants_json(request: Request, rule: str) -> bool:
    accept = _is_json(request.headers.get("accept", ""))
    content_type = _is_json(request.headers.get("content-type", ""))
    if rule == "accept":
        return accept
    if rule == "content-type":
        return content_type
    return accept and content_type


async def _body(request: Request) -> dict[str, Any]:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise AipixError(413, {"message": "Payload Too Large."})
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        # Laravel reads an unparsable body as no input: the validation then names the fields.
        return {}
    return data if isinstance(data, dict) else {}


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _json(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-cache, private"})


class AipixApi:
    def __init__(self, service: AipixService, maintenance_file: Path | None) -> None:
        self.service = service
        self.maintenance_file = maintenance_file
        self.hub = PushHub()
        service.on_ended = self.hub.logout

    def _maintenance(self, device: Device) -> None:
        # note §1 503 "maintenance / technical works" (25.06): while the file exists.
        if self.maintenance_file is not None and self.maintenance_file.exists():
            raise AipixError(503, {"message": message("maintenance", device.lang)})

    async def _caller(self, request: Request, device: Device) -> Caller:
        self._maintenance(device)
        return await run_in_threadpool(self.service.authenticate, _bearer(request), device)

    async def basic(self, request: Request) -> Response:
        device = _device(request)
        self._maintenance(device)
        return _json(self.service.basic())

    async def captcha(self, request: Request) -> Response:
        device = _device(request)
        self._maintenance(device)
        self.service.gate(device, licence=False)
        return _json(await run_in_threadpool(self.service.captcha, device))

    async def token(self, request: Request) -> Response:
        device = _device(request)
        self._maintenance(device)
        body = await _body(request)
        return _json(await run_in_threadpool(self.service.token, body, device))

    async def sessions(self, request: Request) -> Response:
        caller = await self._caller(request, _device(request))
        return _json(await run_in_threadpool(self.service.sessions, caller))

    async def end_session(self, request: Request) -> Response:
        caller = await self._caller(request, _device(request))
        body = await _body(request)
        sid = str(request.path_params["id"])
        return _json(await run_in_threadpool(self.service.end_session, caller, sid, body))

    async def logout(self, request: Request) -> Response:
        caller = await self._caller(request, _device(request))
        await _body(request)  # note §3 E6 optional {"uuid"}: accepted, not needed
        reply = await run_in_threadpool(self.service.logout, caller)
        return Response(status_code=204) if reply is None else _json(reply)

    async def wsurl(self, request: Request) -> Response:
        # note §3 E12: where the websocket is; the "websocket" reading decides the shape.
        caller = await self._caller(request, _device(request))
        shape = self.service.config.readings.websocket
        if shape == "off":
            raise AipixError(404, {"message": message("not_found", caller.lang)})
        host, port = request.url.hostname or "127.0.0.1", request.url.port or 443
        path = f"/app/{self.hub.app_key}"
        shown = f"[{host}]" if ":" in host else host
        full = f"wss://{shown}:{port}{path}" if shape == "full" else ""
        return _json(
            {
                "ws_url": full,
                "app_key": self.hub.app_key,
                "port": port,
                "host": host,
                "path": path,
                "is_encrypted": True,
            }
        )

    async def broadcasting_auth(self, request: Request) -> Response:
        # note §3 E12: private-channel auth with the bearer token (Pusher protocol); a token may
        # join only its own channel.
        caller = await self._caller(request, _device(request))
        if "form" in request.headers.get("content-type", ""):
            # pusher-js posts a form (parsed here: Starlette's form parser needs multipart).
            raw = (await request.body())[:MAX_BODY].decode("utf-8", "replace")
            body: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw).items()}
        else:
            body = await _body(request)
        socket_id, channel = str(body.get("socket_id", "")), str(body.get("channel_name", ""))
        mine = TOKEN_CHANNEL.format(await run_in_threadpool(self.service.token_id, caller))
        if not socket_id or channel != mine:
            raise AipixError(403, {"message": "This action is unauthorized."})
        return _json({"auth": self.hub.sign(socket_id, channel)})

    async def users_self(self, request: Request) -> Response:
        caller = await self._caller(request, _device(request))
        return _json(await run_in_threadpool(self.service.users_self, caller))


def _error_page(status: int, text: str) -> Response:
    page = f"<!DOCTYPE html><html><head><title>{status}</title></head><body><h1>{status}</h1>"
    page += f"<p>{html.escape(text)}</p></body></html>"
    return HTMLResponse(page, status_code=status)


def build_aipix_app(service: AipixService, *, maintenance_file: Path | None = None) -> Starlette:
    api = AipixApi(service, maintenance_file)
    rule = service.config.readings.required_headers

    async def on_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, AipixError):
            status, body, headers = exc.status, exc.body, exc.headers
        elif isinstance(exc, HTTPException):
            status, body, headers = exc.status_code, {"message": str(exc.detail)}, {}
        else:
            log.error("unexpected %s in %s %s", type(exc).__name__, request.method, request.url)
            status, body, headers = 500, {"message": "Server Error"}, {}
        if not _wants_json(request, rule):
            # note §1 Accept: "Without it, errors come back as an HTML page."
            text = body.get("message", "") if isinstance(body, dict) else ""
            response = _error_page(status, str(text))
        elif body is None:
            response = Response(status_code=status)
        else:
            response = JSONResponse(body, status_code=status)
        response.headers.update(headers)
        return response

    routes = [
        Route(f"{API}/static/basic", api.basic, methods=["GET"]),  # note §2 E1
        Route(f"{API}/captcha", api.captcha, methods=["GET"]),  # E2
        Route(f"{API}/token", api.token, methods=["POST"]),  # E3
        Route(f"{API}/sessions", api.sessions, methods=["GET"]),  # E4
        Route(f"{API}/sessions/{{id}}", api.end_session, methods=["POST"]),  # E5
        Route(f"{API}/logout", api.logout, methods=["POST"]),  # E6
        Route(f"{API}/users/self", api.users_self, methods=["GET"]),  # E7
        Route(f"{API}/wsurl", api.wsurl, methods=["GET"]),  # E12
        Route(f"{API}/broadcasting/auth", api.broadcasting_auth, methods=["POST"]),  # E12
        WebSocketRoute("/app/{key}", api.hub.serve),  # E12, the Pusher socket
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={AipixError: on_error, HTTPException: on_error, Exception: on_error},
    )
    app.router.redirect_slashes = False
    app.state.service = service
    app.state.hub = api.hub
    return app
