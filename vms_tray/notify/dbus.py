"""freedesktop Notifications over D-Bus, with action buttons, via jeepney (no GLib needed).

``notify``, ``withdraw`` and ``withdraw_all`` only enqueue: a worker thread makes the D-Bus calls
in order, so the daemon never waits on the bus. A notice replaces the one on screen with the same
topic (``replaces_id``); a withdrawal is ``CloseNotification``; ``close()`` withdraws everything
this process still shows before it lets go of the bus. A second thread receives
``ActionInvoked`` signals and hands the action id of *our* notifications to the registered
handler. When a call fails (no service, service crashed), the notice goes to the ``fallback``
notifier instead and nothing is raised.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

# jeepney is a dependency on Linux only (pyproject's marker), the one platform that imports
# this module (vms_tray.notify chooses it); keyring's Secret Service loads it there anyway.
from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io import blocking
from jeepney.io import threading as dbus_threading

from vms_tray.notify.base import Notice, Notifier, icon_path

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
CALL_TIMEOUT = 5.0
QUIT_TIMEOUT = 3.0  # close(): the withdrawals at quit wait at most this long

_STOP = object()
_ALL = "*"  # a _Withdraw of every notice of ours


@dataclass(frozen=True)
class _Withdraw:
    topic: str  # _ALL: every notice of ours


def expire_timeout(notice: Notice) -> int:
    """``Notify``'s expire_timeout in ms: 0 stays until dismissed or withdrawn."""
    return 0 if notice.expires is None else max(1, round(notice.expires * 1000))


def _notifications_address() -> Any:
    return DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)


def service_available(bus: str = "SESSION", timeout: float = 2.0) -> bool:
    """True when a notification service owns, or can be activated for, the well-known name."""
    try:
        with blocking.open_dbus_connection(bus=bus) as conn:
            owned = conn.send_and_get_reply(message_bus.NameHasOwner(BUS_NAME), timeout=timeout)
            if owned.body[0]:
                return True
            names = conn.send_and_get_reply(message_bus.ListActivatableNames(), timeout=timeout)
            return BUS_NAME in names.body[0]
    except Exception as exc:  # no bus, no address, auth failure: all mean "not available"
        log.debug("no notification service on the %s bus: %s", bus, type(exc).__name__)
        return False


class DBusNotifier(Notifier):
    name = "dbus"
    supports_actions = True

    def __init__(
        self,
        *,
        app_name: str = "vms-tray",
        icon: str = "",
        fallback: Notifier | None = None,
        bus: str = "SESSION",
    ) -> None:
        super().__init__()
        self.app_name = app_name
        self.icon = icon
        self.fallback = fallback
        self._bus = bus
        self._router: Any = None
        self._filter: Any = None
        self._signals: queue.Queue[Any] = queue.Queue()
        self._outbox: queue.Queue[object] = queue.Queue()
        self._ours: set[int] = set()
        self._topic_ids: dict[str, int] = {}  # topic -> the id of its notice on screen
        self._default_actions: dict[int, str] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name="notify-dbus", daemon=True)
        self._listener = threading.Thread(
            target=self._listen_loop, name="notify-dbus-signals", daemon=True
        )
        self._started = False
        self.delivered: list[int] = []  # notification ids the service accepted (diagnostics)

    # --- lifecycle ------------------------------------------------------------------------------

    def _connect(self) -> None:
        conn = dbus_threading.open_dbus_connection(bus=self._bus)
        router = dbus_threading.DBusRouter(conn)
        rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH)
        self._filter = router.filter(rule, queue=self._signals)
        dbus_threading.Proxy(message_bus, router, timeout=CALL_TIMEOUT).AddMatch(rule)
        self._router = router

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self._sender.start()

    def close(self) -> None:
        """Withdraw what is still on screen (bounded by the call timeout), then stop."""
        if self._closed.is_set():
            return
        self._closed.set()  # notices queued from here on are dropped, withdrawals still made
        self._outbox.put(_Withdraw(_ALL))
        self._outbox.put(_STOP)
        self._signals.put(_STOP)
        if self._sender.is_alive():
            self._sender.join(timeout=QUIT_TIMEOUT)
        if self._listener.is_alive():
            self._listener.join(timeout=2)
        router = self._router
        if router is not None:
            try:
                router.close()
                router.conn.close()
            except Exception:  # closing a dead connection: nothing left to do
                log.debug("closing the D-Bus connection failed", exc_info=True)
        if self.fallback is not None:
            self.fallback.close()

    # --- sending --------------------------------------------------------------------------------

    def notify(self, notice: Notice) -> None:
        if self._closed.is_set():
            return
        self.start()
        self._outbox.put(notice)

    def withdraw(self, topic: str) -> None:
        if self._closed.is_set() or not topic:
            return
        self.start()
        self._outbox.put(_Withdraw(topic))

    def withdraw_all(self) -> None:
        if self._closed.is_set():
            return
        self.start()
        self._outbox.put(_Withdraw(_ALL))

    def shown(self) -> dict[str, int]:
        """Topic -> notification id of what this process shows now (diagnostics, tests)."""
        with self._lock:
            return dict(self._topic_ids)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notice was sent (tests, shutdown); True if drained in time."""
        done = threading.Event()
        self._outbox.put(done)
        return done.wait(timeout)

    def _send_loop(self) -> None:
        while True:
            item = self._outbox.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            if isinstance(item, _Withdraw):
                self._close_notices(item.topic)
                continue
            assert isinstance(item, Notice)
            if self._closed.is_set():
                continue  # quitting: it would only be withdrawn again
            try:
                self._send(item)
            except Exception as exc:
                log.warning(
                    "desktop notification failed (%s); showing it another way",
                    type(exc).__name__,
                )
                self._drop_router()
                if self.fallback is not None:
                    self.fallback.notify(item)

    def _drop_router(self) -> None:
        router, self._router = self._router, None
        if router is not None:
            try:
                router.close()
                router.conn.close()
            except Exception:
                log.debug("closing the D-Bus connection failed", exc_info=True)

    def _send(self, notice: Notice) -> None:
        if self._router is None:
            self._connect()
            if not self._listener.is_alive():
                self._listener.start()
        actions: list[str] = []
        for i, action in enumerate(notice.actions):
            if i == 0:
                # Clicking the bubble itself does the first action.
                actions += ["default", action.label]
            actions += [action.id, action.label]
        hints: dict[str, tuple[str, Any]] = {
            "urgency": ("y", int(notice.urgency)),
            "desktop-entry": ("s", "vms-tray"),
            "category": ("s", "network"),
        }
        image = icon_path(notice.icon)
        if image:
            # The state the notice reports; the app icon stays the program's own.
            hints["image-path"] = ("s", image)
        with self._lock:
            replaces = self._topic_ids.get(notice.topic, 0) if notice.topic else 0
        body = (
            self.app_name,
            replaces,
            self.icon,
            notice.title,
            notice.body,
            actions,
            hints,
            expire_timeout(notice),
        )
        msg = new_method_call(_notifications_address(), "Notify", "susssasa{sv}i", body)
        reply = self._router.send_and_get_reply(msg, timeout=CALL_TIMEOUT)
        if reply.header.message_type is MessageType.error:
            raise RuntimeError(f"Notify returned a D-Bus error: {reply.header}")
        (nid,) = reply.body
        with self._lock:
            if replaces and replaces != nid:
                # A server that gave the replacement a new id: the old one is gone.
                self._forget(replaces)
            self._ours.add(nid)
            if notice.topic:
                self._topic_ids[notice.topic] = nid
            self.delivered.append(nid)
            if notice.actions:
                self._default_actions[nid] = notice.actions[0].id
            else:
                self._default_actions.pop(nid, None)
        log.debug("notification %s sent (%s, topic %s)", nid, notice.kind, notice.topic or "-")

    def _forget(self, nid: int) -> None:
        """Drop every record of ``nid`` (caller holds ``_lock``)."""
        self._ours.discard(nid)
        self._default_actions.pop(nid, None)
        for topic, known in list(self._topic_ids.items()):
            if known == nid:
                del self._topic_ids[topic]

    def _close_notices(self, topic: str) -> None:
        """``CloseNotification`` for ``topic``'s notice, or (``_ALL``) every notice of ours."""
        with self._lock:
            if topic == _ALL:
                ids = sorted(self._ours)
            else:
                nid = self._topic_ids.get(topic)
                ids = [] if nid is None else [nid]
            for nid in ids:
                self._forget(nid)
        if not ids or self._router is None:
            return
        for nid in ids:
            try:
                msg = new_method_call(_notifications_address(), "CloseNotification", "u", (nid,))
                reply = self._router.send_and_get_reply(msg, timeout=CALL_TIMEOUT)
                if reply.header.message_type is MessageType.error:
                    # Already gone (dismissed, expired): nothing left to take back.
                    log.debug("CloseNotification %s: %s", nid, reply.body)
                else:
                    log.debug("notification %s withdrawn", nid)
            except Exception as exc:
                log.debug("withdrawing notification %s failed (%s)", nid, type(exc).__name__)
                self._drop_router()
                return

    # --- receiving ------------------------------------------------------------------------------

    def _listen_loop(self) -> None:
        while not self._closed.is_set():
            msg = self._signals.get()
            if msg is _STOP:
                return
            try:
                member = msg.header.fields.get(_member_field())
                if member == "ActionInvoked":
                    nid, key = msg.body
                    self._on_invoked(nid, key)
                elif member == "NotificationClosed":
                    nid, _reason = msg.body
                    with self._lock:
                        self._forget(nid)
            except Exception:
                log.exception("could not handle a notification signal")

    def _on_invoked(self, nid: int, key: str) -> None:
        with self._lock:
            ours = nid in self._ours
        if not ours or self._on_action is None:
            return
        if key == "default":
            # The first real action is the bubble's default; the signal carries "default".
            key = self._default_for(nid)
            if not key:
                return
        log.info("notification action %s invoked", key)
        self._on_action(key)

    def _default_for(self, nid: int) -> str:
        with self._lock:
            return self._default_actions.get(nid, "")


def _member_field() -> Any:
    return HeaderFields.member
