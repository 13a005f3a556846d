"""The client side of AIPIX's logout push (note §3 E12), so "ended by another device" is heard
at once instead of at the next poll.

``GET /api/v1/wsurl`` says where the server's websocket is (404: none, and the poll alone
notices); the socket speaks the Pusher protocol the note names: the server's
``pusher:connection_established`` gives a ``socket_id``, ``POST /api/v1/broadcasting/auth``
(with the bearer token) signs ``private-token.{access_token_id}`` for it, and an
``App\\Events\\TokenPush`` event whose ``data.type`` is ``logout`` means this token was logged
out. The listener then calls back (the daemon checks the session at once, and the poll's 401
ends it with its notice); it never ends anything itself.

Library: ``websockets`` (python-websockets, maintained, typed, no dependencies), for its
synchronous client: the listener is one daemon thread per watched token, like the daemon's own
threads, with no event loop to run beside them. The socket is opened with the connection's own
TLS trust (its pin is checked in the handshake) and through its proxy (our CONNECT tunnel).
A dropped socket is not redialled here: the next keep-alive poll starts a new listener.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from hashlib import sha256
from typing import Any
from urllib.parse import urlsplit

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from vms_tray import APP_NAME, __version__
from vms_tray.connections.model import Trust
from vms_tray.errors import BadResponse, ServerError, VmsTrayError
from vms_tray.net import tls
from vms_tray.net.http import Reply
from vms_tray.net.proxy import open_tunnel

log = logging.getLogger(__name__)

TOKEN_CHANNEL = "private-token.{}"  # noqa: S105 (a channel name) note §3 E12
TOKEN_EVENT = "App\\Events\\TokenPush"  # noqa: S105 (an event name) note §3 E12
# Pusher's default activity timeout: ping after this long without a frame, or be dropped.
ACTIVITY_TIMEOUT = 120.0
OPEN_TIMEOUT = 10.0


def socket_url(where: Mapping[str, Any]) -> str | None:
    """The websocket's URL from ``GET /wsurl`` (note §3 E12 names ``ws_url`` and its parts
    ``host, port, path, is_encrypted``; either may be what the server fills in), or None."""
    key = where.get("app_key")
    path = where.get("path") if isinstance(where.get("path"), str) else ""
    if not path and isinstance(key, str) and key:
        path = f"/app/{key}"  # Pusher's path for an application key
    url = where.get("ws_url")
    if isinstance(url, str) and url.startswith(("ws://", "wss://")):
        if urlsplit(url).path in ("", "/") and path:
            url = url.rstrip("/") + path
    else:
        host, port = where.get("host"), where.get("port")
        if not isinstance(host, str) or not host or not path:
            return None
        scheme = "wss" if where.get("is_encrypted", True) is not False else "ws"
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        url = f"{scheme}://{shown}" + (f":{port}" if isinstance(port, int) else "") + path
    if not url.startswith("wss://"):
        return None  # the token's channel auth is not sent in the clear
    return f"{url}?protocol=7&client={APP_NAME}&version={__version__}&flash=false"


class PushListener:
    """One token's channel, listened to on a daemon thread until ``stop()`` or the socket ends."""

    def __init__(
        self,
        url: str,
        channel: str,
        *,
        context: ssl.SSLContext,
        proxy: str | None,
        authorize: Callable[[str], str],
        on_logout: Callable[[], None],
        label: str,
    ) -> None:
        self.url = url
        self.channel = channel
        self._context = context
        self._proxy = proxy
        self._authorize = authorize
        self._on_logout = on_logout
        self._label = label
        self._stop = threading.Event()
        self.subscribed = threading.Event()  # the server confirmed the subscription
        self._ws: ClientConnection | None = None
        self._thread = threading.Thread(target=self._run, name="aipix-push", daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        ws = self._ws
        if ws is not None:
            ws.close()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(5)

    def _open(self) -> ClientConnection:
        parts = urlsplit(self.url)
        host, port = parts.hostname or "", parts.port or 443
        sock: socket.socket | None = None
        if self._proxy:
            sock = open_tunnel(self._proxy, host, port, OPEN_TIMEOUT)
        return connect(
            self.url,
            sock=sock,
            ssl=self._context,
            server_hostname=host,
            proxy=None,  # never the environment's: the connection's proxy is the tunnel above
            open_timeout=OPEN_TIMEOUT,
            close_timeout=2,
            ping_interval=None,  # Pusher pings in its own frames (pusher:ping)
            user_agent_header=f"{APP_NAME}/{__version__}",
        )

    def _run(self) -> None:
        try:
            with self._open() as ws:
                self._ws = ws
                if self._stop.is_set():
                    return
                self._listen(ws)
        except (OSError, WebSocketException, VmsTrayError, ValueError, TimeoutError) as exc:
            if not self._stop.is_set():
                log.info(
                    "the push channel of %s closed (%s): the poll still notices",
                    self._label,
                    type(exc).__name__,
                )
        finally:
            self._stop.set()

    def _listen(self, ws: ClientConnection) -> None:
        hello = _frame(ws.recv(timeout=OPEN_TIMEOUT))
        data = _data(hello)
        socket_id = data.get("socket_id")
        if hello.get("event") != "pusher:connection_established" or not isinstance(socket_id, str):
            raise ValueError("not a Pusher socket")
        timeout = data.get("activity_timeout")
        idle = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else None
        auth = self._authorize(socket_id)
        subscribe = {"channel": self.channel, "auth": auth}
        ws.send(json.dumps({"event": "pusher:subscribe", "data": subscribe}))
        log.info("listening to %s's logout push", self._label)
        while not self._stop.is_set():
            try:
                frame = _frame(ws.recv(timeout=idle or ACTIVITY_TIMEOUT))
            except TimeoutError:
                ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
                continue
            event = frame.get("event")
            if event == "pusher_internal:subscription_succeeded":
                self.subscribed.set()
            if event == "pusher:error":
                raise ValueError("the server refused the subscription")
            ours = event == TOKEN_EVENT and frame.get("channel") == self.channel
            if ours and _data(frame).get("type") == "logout":
                log.info("%s pushed a logout for this session", self._label)
                self._on_logout()
                return


def _frame(text: str | bytes) -> dict[str, Any]:
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):  # nested too deep: a hostile server
        return {}
    return frame if isinstance(frame, dict) else {}


def _data(frame: Mapping[str, Any]) -> dict[str, Any]:
    """A Pusher frame's ``data``: a JSON string (events) or an object (some servers)."""
    data = frame.get("data")
    if isinstance(data, str):
        data = _frame(data)
    return data if isinstance(data, dict) else {}


class PushWatch:
    """The token whose channel is listened to (one at a time) for a kind that asks the server
    with ``authed(method, path, token, ...)`` (the aipix kind's authenticated call)."""

    def __init__(
        self, authed: Callable[..., Reply], *, trust: Trust, proxy: str | None, label: str
    ) -> None:
        self.callback: Callable[[], None] | None = None
        self._authed = authed
        self._trust = trust
        self._proxy = proxy
        self._label = label
        self._listener: PushListener | None = None
        self._token_ids: dict[str, str] = {}  # token digest -> access_token_id (its channel)
        self._no_push: set[str] = set()  # token digests the server offers no websocket for
        self._lock = threading.Lock()

    @staticmethod
    def _digest(token: str) -> str:
        return sha256(token.encode("utf-8")).hexdigest()

    def remember(self, token: str, user: Any) -> None:
        """The ``access_token_id`` of a sign-in's ``user`` (note §3 E3): it names the channel."""
        token_id = user.get("access_token_id") if isinstance(user, Mapping) else None
        if isinstance(token_id, str) and token_id:
            with self._lock:
                self._token_ids[self._digest(token)] = token_id

    def follow(self, token: str) -> None:
        """Listen to ``token``'s channel unless that runs already or the server offers none;
        a failure here never fails the caller (the poll goes on noticing)."""
        digest = self._digest(token)
        listener = self._listener
        if digest in self._no_push or (listener is not None and listener.alive):
            return
        try:
            where = self._authed("GET", "/wsurl", token, accept=(404,))
            url = socket_url(where.data) if isinstance(where.data, Mapping) else None
            token_id = self._token_ids.get(digest) or self._token_id(token)
        except ServerError as exc:
            log.info("no push channel on %s now (%s): polling", self._label, type(exc).__name__)
            return
        if where.status != 200 or url is None or not token_id:
            self._no_push.add(digest)
            log.info("%s offers no websocket push: the poll notices a session ended", self._label)
            return
        channel = TOKEN_CHANNEL.format(token_id)
        self._listener = PushListener(
            url,
            channel,
            context=tls.ssl_context_for(self._trust),
            proxy=self._proxy,
            authorize=lambda socket_id: self._authorize(token, socket_id, channel),
            on_logout=self.callback or (lambda: None),
            label=self._label,
        )
        self._listener.start()

    def subscribed(self, timeout: float) -> bool:
        """Whether the channel is subscribed (waiting up to ``timeout`` for it; tests)."""
        listener = self._listener
        return listener is not None and listener.subscribed.wait(timeout) and listener.alive

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()

    def _token_id(self, token: str) -> str | None:
        # note §3 E7: the user object carries ``access_token_id`` as the sign-in's does.
        self.remember(token, self._authed("GET", "/users/self", token).data)
        return self._token_ids.get(self._digest(token))

    def _authorize(self, token: str, socket_id: str, channel: str) -> str:
        body = {"socket_id": socket_id, "channel_name": channel}
        data = self._authed("POST", "/broadcasting/auth", token, body=body).data
        auth = data.get("auth") if isinstance(data, Mapping) else None
        if not isinstance(auth, str) or not auth:
            raise BadResponse(f"{self._label} did not authorise the push channel")
        return auth
