"""The server side of AIPIX's session push (note §3 E12): a Pusher-protocol websocket.

note §3 E12: ``GET /api/v1/wsurl`` tells where the websocket is (``ws_url, app_key, port, host,
path, is_encrypted``), ``POST /api/v1/broadcasting/auth`` authorises a private channel with the
bearer token ("Pusher protocol"), the channel of a token is ``private-token.{access_token_id}``
and its event ``App\\Events\\TokenPush`` with ``data.type == "logout"`` means "this token was
logged out (e.g. its session was deleted)". The frames are Pusher's own protocol (version 7),
which the note names: ``pusher:connection_established`` with a ``socket_id``, ``pusher:subscribe``
with ``auth = "<app_key>:<HMAC-SHA256 of 'socket_id:channel'>"``, ``pusher:ping``/``pusher:pong``,
``pusher_internal:subscription_succeeded``, and events whose ``data`` is a JSON string.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

log = logging.getLogger(__name__)

TOKEN_CHANNEL = "private-token.{}"  # noqa: S105 (a channel name) note §3 E12
TOKEN_EVENT = "App\\Events\\TokenPush"  # noqa: S105 (an event name) note §3 E12
PING_TIMEOUT = 120  # Pusher's activity_timeout: the client pings when it heard nothing this long


class PushHub:
    """Subscribed websockets by channel; ``logout(token_id)`` pushes to that token's channel
    from any thread."""

    def __init__(self, app_key: str | None = None, secret: bytes | None = None) -> None:
        self.app_key = app_key or secrets.token_hex(10)
        self._secret = secret or secrets.token_bytes(32)
        self._channels: dict[str, set[WebSocket]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def sign(self, socket_id: str, channel: str) -> str:
        mac = hmac.new(self._secret, f"{socket_id}:{channel}".encode(), hashlib.sha256)
        return f"{self.app_key}:{mac.hexdigest()}"

    def logout(self, token_id: str) -> None:
        """note §3 E12, §3 E5 "its websocket channel receives an event of type logout"."""
        loop = self._loop
        if loop is None or not token_id:
            return
        channel = TOKEN_CHANNEL.format(token_id)
        data = json.dumps({"type": "logout", "subject": "session"})
        frame = json.dumps({"event": TOKEN_EVENT, "channel": channel, "data": data})
        asyncio.run_coroutine_threadsafe(self._send(channel, frame), loop)

    async def _send(self, channel: str, frame: str) -> None:
        for ws in list(self._channels.get(channel, ())):
            try:
                await ws.send_text(frame)
            except (RuntimeError, WebSocketDisconnect):
                self._channels[channel].discard(ws)
        log.info("pushed logout to %d socket(s)", len(self._channels.get(channel, ())))

    async def serve(self, ws: WebSocket) -> None:
        """One client connection, for as long as it lasts."""
        self._loop = asyncio.get_running_loop()
        if ws.path_params.get("key") != self.app_key:
            await ws.close(code=4001)  # Pusher: "application does not exist"
            return
        await ws.accept()
        socket_id = f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}"
        established = {"socket_id": socket_id, "activity_timeout": PING_TIMEOUT}
        await ws.send_text(
            json.dumps({"event": "pusher:connection_established", "data": json.dumps(established)})
        )
        joined: list[str] = []
        try:
            while True:
                message = _frame(await ws.receive_text())
                reply = self._answer(message, socket_id, ws, joined)
                if reply is not None:
                    await ws.send_text(json.dumps(reply))
        except WebSocketDisconnect:
            pass
        finally:
            for channel in joined:
                self._channels.get(channel, set()).discard(ws)

    def _answer(
        self, message: dict[str, Any], socket_id: str, ws: WebSocket, joined: list[str]
    ) -> dict[str, Any] | None:
        event = message.get("event")
        if event == "pusher:ping":
            return {"event": "pusher:pong", "data": "{}"}
        if event != "pusher:subscribe":
            return None
        data = message.get("data")
        data = data if isinstance(data, dict) else {}
        channel, auth = str(data.get("channel", "")), str(data.get("auth", ""))
        if not hmac.compare_digest(auth, self.sign(socket_id, channel)):
            error = {"message": "Invalid signature", "code": 4009}
            return {"event": "pusher:error", "data": json.dumps(error)}
        self._channels.setdefault(channel, set()).add(ws)
        joined.append(channel)
        return {"event": "pusher_internal:subscription_succeeded", "channel": channel, "data": "{}"}


def _frame(text: str) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


Hook = Callable[[str], None]
