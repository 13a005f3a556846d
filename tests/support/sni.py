"""A real StatusNotifierItem host for the desktop tests, and what a host reads of an item.

``sni_host(desktop)`` runs gtk-sni-tray-standalone (Debian ``haskell-gtk-sni-tray-utils``) with
``--watcher``, so it owns ``org.kde.StatusNotifierWatcher`` on the desktop's session bus, as KDE
Plasma and GNOME's AppIndicator extension do, and draws the registered items in a small bar at
the bottom right of the screen. ``SniBus`` reads the watcher, an item's properties and its
``com.canonical.dbusmenu`` menu over D-Bus (jeepney), and sends menu events as a host does.
``late_sni_host(desktop, item)`` starts the host after an item is up, as at a login where the
tray starts before the panel or when the panel restarts, and counts the new watcher's refusals.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from jeepney import DBusAddress, DBusErrorResponse, HeaderFields, Properties, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.low_level import Message
from jeepney.wrappers import unwrap_msg

from tests.support import components

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"
DBUSMENU = "com.canonical.dbusmenu"
HOST_CLASS = "gtk-sni-tray-standalone"
BACKGROUND = (0x33, 0x33, 0x33)
CALL_TIMEOUT = 5.0
UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject"


@dataclass(frozen=True)
class MenuNode:
    """One dbusmenu item: its id, its properties (variants unwrapped) and its children."""

    id: int
    props: dict[str, Any]
    children: tuple[MenuNode, ...]

    @classmethod
    def parse(cls, raw: tuple[int, dict[str, tuple[str, Any]], list[tuple[str, Any]]]) -> MenuNode:
        node_id, props, children = raw
        return cls(
            node_id,
            {name: value for name, (_sig, value) in props.items()},
            tuple(cls.parse(child) for _sig, child in children),
        )

    def find(self, *labels: str) -> MenuNode:
        """The item reached by following ``labels`` down the submenus."""
        node = self
        for label in labels:
            node = next(c for c in node.children if c.props.get("label") == label)
        return node


@dataclass(frozen=True)
class SniItem:
    bus_name: str
    path: str
    pid: int  # of the process that owns the item


class SniBus:
    """A client of the desktop's session bus that reads what a StatusNotifier host reads."""

    def __init__(self, address: str) -> None:
        self._conn: DBusConnection = open_dbus_connection(bus=address)

    def close(self) -> None:
        self._conn.close()

    def _call(self, msg: Message) -> tuple[Any, ...]:
        return tuple(unwrap_msg(self._conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT)))

    def _property(self, bus_name: str, path: str, interface: str, name: str) -> Any:
        addr = DBusAddress(path, bus_name=bus_name, interface=interface)
        return self._call(Properties(addr).get(name))[0][1]

    def has_owner(self, name: str) -> bool:
        return bool(self._call(message_bus.NameHasOwner(name))[0])

    def pid(self, bus_name: str) -> int:
        return int(self._call(message_bus.GetConnectionUnixProcessID(bus_name))[0])

    def watcher(self, name: str) -> Any:
        return self._property(WATCHER, WATCHER_PATH, WATCHER, name)

    def items(self) -> list[SniItem]:
        """The watcher's ``RegisteredStatusNotifierItems``, each resolved to its object."""
        found = []
        for entry in self.watcher("RegisteredStatusNotifierItems"):
            # KDE's watcher lists "service/path"; gtk-sni-tray's lists only the service of an
            # item that registered by path (as libayatana does), so look for the object then.
            bus_name, slash, path = entry.partition("/")
            try:
                pid = self.pid(bus_name)
                paths = [slash + path] if slash else list(self._item_paths(bus_name, "/"))
            except DBusErrorResponse:  # its process just quit; the watcher has yet to notice
                continue
            found += [SniItem(bus_name, p, pid) for p in paths]
        return found

    def registered(self, bus_name: str) -> bool:
        """Whether the watcher lists an item of ``bus_name``."""
        entries = self.watcher("RegisteredStatusNotifierItems")
        return bus_name in {e.partition("/")[0] for e in entries}

    def exported_item(self, pid: int) -> SniItem | None:
        """The item that process ``pid`` puts on the bus, registered with a watcher or not."""
        for bus_name in self._call(message_bus.ListNames())[0]:
            if not bus_name.startswith(":"):
                continue
            try:
                if self.pid(bus_name) != pid:
                    continue
                paths = list(self._item_paths(bus_name, "/"))
            except (DBusErrorResponse, TimeoutError):  # gone, or a connection that exports none
                continue
            if paths:
                return SniItem(bus_name, paths[0], pid)
        return None

    def _item_paths(self, bus_name: str, path: str) -> Iterator[str]:
        addr = DBusAddress(path, bus_name=bus_name, interface="org.freedesktop.DBus.Introspectable")
        xml = self._call(new_method_call(addr, "Introspect"))[0]
        node = ElementTree.fromstring(xml)  # noqa: S314 - from a process on our private bus
        if any(i.get("name") == ITEM for i in node.findall("interface")):
            yield path
        for child in node.findall("node"):
            yield from self._item_paths(bus_name, f"{path.rstrip('/')}/{child.get('name')}")

    def item_property(self, item: SniItem, name: str) -> Any:
        return self._property(item.bus_name, item.path, ITEM, name)

    def _menu(self, item: SniItem) -> DBusAddress:
        return DBusAddress(
            self.item_property(item, "Menu"), bus_name=item.bus_name, interface=DBUSMENU
        )

    def menu(self, item: SniItem) -> MenuNode:
        """The item's whole menu, as a host gets it (``GetLayout`` from the root)."""
        _revision, layout = self._call(
            new_method_call(self._menu(item), "GetLayout", "iias", (0, -1, []))
        )
        return MenuNode.parse(layout)

    def secondary_activate(self, item: SniItem) -> None:
        """What KDE Plasma (and other hosts) send on a middle click on the item."""
        addr = DBusAddress(item.path, bus_name=item.bus_name, interface=ITEM)
        self._call(new_method_call(addr, "SecondaryActivate", "ii", (0, 0)))

    def click(self, item: SniItem, node: MenuNode) -> None:
        """What a host sends when the user clicks ``node`` in the menu it drew."""
        event = (node.id, "clicked", ("i", 0), 0)
        self._call(new_method_call(self._menu(item), "Event", "isvu", event))


@dataclass
class SniHost:
    desktop: components.Desktop
    bus: SniBus
    window: str

    def windows(self) -> set[str]:
        """The host's visible X windows: its bar, and its menu while one is open."""
        try:
            return set(
                self.desktop.xdotool("search", "--onlyvisible", "--class", HOST_CLASS).split()
            )
        except subprocess.CalledProcessError:  # xdotool's answer when nothing matches
            return set()


HOST_STARTS = 10
# --watcher starts the watcher on a thread of its own (forkIO in status-notifier-item's
# Host.build) and at once asks it for its items. When the watcher has not yet taken its name or
# exported its object, the host gives up and the program exits ("Pattern match failure" in its
# Main.hs): 55 of 355 starts here, and one set-up in 300 took four. Each lost start ends
# within a second; only an exit with one of these errors is retried.
HOST_RACE = (
    b"org.freedesktop.DBus.Error.ServiceUnknown",
    b"org.freedesktop.DBus.Error.UnknownObject",
)


def _start_host(
    desktop: components.Desktop, bus: SniBus, log: Path
) -> subprocess.Popen[bytes] | None:
    """A host registered with its own watcher, or None when it lost its start-up race."""
    # A bar 40 px high (icons big enough to measure) over half the screen's width (wider than
    # the menu, for a screenshot of both), its background a colour no icon uses.
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                HOST_CLASS,
                "--watcher",
                "--bottom",
                "--end",
                "--length",
                "1 % 2",
                "--size",
                "40",
                "--color",
                "#{:02x}{:02x}{:02x}".format(*BACKGROUND),
            ],
            stdout=out,
            stderr=out,
            env=desktop.env,
        )

    def registered() -> bool:
        if proc.poll() is not None:
            return True
        try:
            return bus.has_owner(WATCHER) and bool(bus.watcher("IsStatusNotifierHostRegistered"))
        except DBusErrorResponse:  # the watcher's object is not there yet
            return False

    try:
        components.wait_until(registered, 15, "gtk-sni-tray-standalone to register as a host")
    except TimeoutError:
        components.terminate(proc)
        raise
    if proc.poll() is None:
        return proc
    if not any(error in log.read_bytes() for error in HOST_RACE):
        raise RuntimeError(f"gtk-sni-tray-standalone exited: {log.read_text(errors='replace')}")
    return None


@contextlib.contextmanager
def sni_host(desktop: components.Desktop) -> Iterator[SniHost]:
    """gtk-sni-tray-standalone with its own watcher on ``desktop``, torn down afterwards."""
    components.require_binary(HOST_CLASS)
    bus = SniBus(desktop.env["DBUS_SESSION_BUS_ADDRESS"])
    proc = None
    try:
        for start in range(1, HOST_STARTS + 1):
            proc = _start_host(desktop, bus, desktop.workdir / f"gtk-sni-tray-{start}.log")
            if proc is not None:
                break
        if proc is None:
            raise RuntimeError(
                f"gtk-sni-tray-standalone lost its start-up race {HOST_STARTS} times"
            )
        host = SniHost(desktop, bus, "")
        components.wait_until(lambda: bool(host.windows()), 15, "the StatusNotifier bar")
        (host.window,) = host.windows()
        yield host
    finally:
        bus.close()
        if proc is not None:
            components.terminate(proc)


class Refusals:
    """Counts the ``UnknownObject`` errors the bus carries to one connection: a D-Bus monitor
    sees every such reply, also one sent before anyone asks the item how it fared."""

    def __init__(self) -> None:
        self.count = 0


@contextlib.contextmanager
def refusals_to(address: str, destination: str) -> Iterator[Refusals]:
    conn = open_dbus_connection(bus=address)
    monitoring = DBusAddress(
        "/org/freedesktop/DBus",
        bus_name="org.freedesktop.DBus",
        interface="org.freedesktop.DBus.Monitoring",
    )
    rule = f"type='error',destination='{destination}'"
    seen = Refusals()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                msg = conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            if msg.header.fields.get(HeaderFields.error_name) == UNKNOWN_OBJECT:
                seen.count += 1

    try:
        unwrap_msg(
            conn.send_and_get_reply(
                new_method_call(monitoring, "BecomeMonitor", "asu", ([rule], 0)),
                timeout=CALL_TIMEOUT,
            )
        )
        thread = threading.Thread(target=watch, name="dbus-monitor", daemon=True)
        thread.start()
        try:
            yield seen
        finally:
            stop.set()
            thread.join(timeout=5)
    finally:
        conn.close()


# gtk-sni-tray's watcher takes its name before it exports its object (status-notifier-item's
# Watcher/Service.hs: requestName, an AddMatch round trip, then export). An item that is already
# waiting for a watcher registers as soon as the name gets its owner, and inside that gap the
# answer is UnknownObject: 7 of 50 late starts here, and on a loaded machine most of them.
# libayatana registers once per new owner and not again after an error; vms-tray asks it again
# (vms_tray.tray.registration), which is what these tests rely on: no host is restarted for it.
REGISTER_TIMEOUT = 20.0  # the keeper's retries are 0.25, 0.5, 1, 2, 4, 8 s apart


@contextlib.contextmanager
def late_sni_host(desktop: components.Desktop, item: SniItem) -> Iterator[tuple[SniHost, int]]:
    """sni_host, started while ``item`` waits for a watcher; yielded once ``item`` registered,
    with the number of times the new watcher refused it first."""
    address = desktop.env["DBUS_SESSION_BUS_ADDRESS"]
    with refusals_to(address, item.bus_name) as refused, sni_host(desktop) as host:
        components.wait_until(
            lambda: host.bus.registered(item.bus_name),
            REGISTER_TIMEOUT,
            "the waiting item to register with the new watcher",
            step=0.1,
        )
        yield host, refused.count
