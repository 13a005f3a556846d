"""freedesktop Notifications over D-Bus, with action buttons, via jeepney (no GLib needed).

``notify`` only enqueues: a worker thread makes the D-Bus call, so the daemon never waits on the
bus. A second thread receives ``ActionInvoked`` signals and hands the action id of *our*
notifications to the registered handler. When the call fails (no service, service crashed), the
notice goes to the ``fallback`` notifier instead and nothing is raised.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from vms_tray.notify.base import Notice, NoticeKind, Notifier

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
CALL_TIMEOUT = 5.0

# Notices in one group replace each other on screen instead of piling up.
_GROUPS: dict[NoticeKind, str] = {
    NoticeKind.NEAR_LIMIT: "limit",
    NoticeKind.LIMIT_FULL: "limit",
    NoticeKind.BACK_UNDER: "limit",
    NoticeKind.UNREACHABLE: "network",
    NoticeKind.BACK_ONLINE: "network",
}
_URGENCY: dict[NoticeKind, int] = {
    NoticeKind.LIMIT_FULL: 2,
    NoticeKind.ENDED_ELSEWHERE: 2,
    NoticeKind.NEEDS_ATTENTION: 2,
    NoticeKind.PASSWORD_REJECTED: 2,
    NoticeKind.BACK_UNDER: 0,
    NoticeKind.BACK_ONLINE: 0,
    NoticeKind.INFO: 0,
}
_STOP = object()


def _notifications_address() -> Any:
    from jeepney import DBusAddress

    return DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)


def service_available(bus: str = "SESSION", timeout: float = 2.0) -> bool:
    """True when a notification service owns, or can be activated for, the well-known name."""
    try:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(bus=bus) as conn:
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
        self._group_ids: dict[str, int] = {}
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
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus
        from jeepney.io.threading import DBusRouter, Proxy, open_dbus_connection

        conn = open_dbus_connection(bus=self._bus)
        router = DBusRouter(conn)
        rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH)
        self._filter = router.filter(rule, queue=self._signals)
        Proxy(message_bus, router, timeout=CALL_TIMEOUT).AddMatch(rule)
        self._router = router

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self._sender.start()

    def close(self) -> None:
        self._closed.set()
        self._outbox.put(_STOP)
        self._signals.put(_STOP)
        if self._sender.is_alive():
            self._sender.join(timeout=CALL_TIMEOUT + 1)
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
            assert isinstance(item, Notice)
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
        from jeepney import new_method_call

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
        hints = {
            "urgency": ("y", _URGENCY.get(notice.kind, 1)),
            "desktop-entry": ("s", "vms-tray"),
            "category": ("s", "network"),
        }
        group = _GROUPS.get(notice.kind)
        replaces = self._group_ids.get(group, 0) if group else 0
        msg = new_method_call(
            _notifications_address(),
            "Notify",
            "susssasa{sv}i",
            (self.app_name, replaces, self.icon, notice.title, notice.body, actions, hints, -1),
        )
        reply = self._router.send_and_get_reply(msg, timeout=CALL_TIMEOUT)
        from jeepney import MessageType

        if reply.header.message_type is MessageType.error:
            raise RuntimeError(f"Notify returned a D-Bus error: {reply.header}")
        (nid,) = reply.body
        with self._lock:
            self._ours.add(nid)
            if group:
                self._group_ids[group] = nid
            self.delivered.append(nid)
            if notice.actions:
                self._default_actions[nid] = notice.actions[0].id
        log.debug("notification %s sent (%s)", nid, notice.kind)

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
                        self._ours.discard(nid)
                        self._default_actions.pop(nid, None)
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
    from jeepney import HeaderFields

    return HeaderFields.member
