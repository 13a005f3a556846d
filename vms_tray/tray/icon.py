"""The one module that imports pystray: turns a :class:`~vms_tray.tray.view.TrayView` into a
system-tray icon and menu.

pystray is imported lazily (without ``DISPLAY`` the import itself fails with an Xlib error, not an
ImportError). Backends: ``appindicator`` and ``gtk`` need PyGObject (``pip install
'vms-tray[gtk]'``); ``xorg`` has no menu, so a click there calls ``on_popup`` and the app shows the
same menu as a small Tk popup. ``PYSTRAY_BACKEND`` picks one explicitly; otherwise
:mod:`vms_tray.tray.backend` chooses.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from functools import cache
from io import BytesIO
from typing import Any

from PIL import Image

from vms_tray import assets
from vms_tray.assets import IconName
from vms_tray.tray import backend, registration
from vms_tray.tray.view import Intent, MenuEntry, TrayView

log = logging.getLogger(__name__)

IntentFn = Callable[[Intent, "str | None"], None]
STOP_GRACE = 3.0  # seconds the backend loop gets to end after stop()
DOCK_CHECK = 1.0  # seconds between checks that the Xorg tray host embedded the icon
DOCK_ATTEMPTS = 20
_STOP_VIEW = TrayView(icon=IconName.SIGNED_OUT, tooltip="", status="", menu=())


@cache
def load_image(name: str) -> Image.Image:
    """A state icon (``<state>.png``, 64 px; the tray host downsizes)."""
    data = assets.icon(f"{name}.png").read_bytes()
    img = Image.open(BytesIO(data))
    img.load()
    return img


class _NoNotifications:
    """Stands in for pystray's GLib notifier when the notification service is missing or broken:
    vms-tray sends its notifications itself (vms_tray.notify)."""

    def notify(self, *_args: Any) -> None:
        pass

    def hide(self) -> None:
        """pystray calls it (remove_notification, and at exit): nothing to take back."""


def _guard_gtk_notifier(icon: Any) -> None:
    """pystray's GTK and AppIndicator backends raise from ``run()`` when the notification service
    cannot be reached or fails to start, and from ``stop()`` when it is gone. Neither may take
    the tray down."""
    init = getattr(icon, "_initialize", None)
    fin = getattr(icon, "_finalize", None)
    if init is None or fin is None or not hasattr(icon, "_notifier"):
        return

    def _initialize() -> None:
        try:
            init()
        except Exception as exc:
            log.info(
                "the desktop notification service is unavailable (%s); the tray runs without it",
                type(exc).__name__,
            )
            icon._notifier = _NoNotifications()
            icon._mark_ready()

    def _finalize() -> None:
        try:
            fin()
        except Exception as exc:
            log.debug("ignoring a notification-service error at exit: %s", type(exc).__name__)
            icon._notifier = _NoNotifications()

    icon._initialize = _initialize
    icon._finalize = _finalize


def _wake_python_for_signals() -> None:
    """A GLib main loop blocks in C, so Python signal handlers (SIGTERM -> quit) would never run.
    Python's C-level handler writes each signal's number to a wake-up descriptor; a GLib watch
    on it returns to the interpreter, which then runs the handler. A periodic 500 ms timeout did
    the same by waking the process twice a second: about 1 s of CPU an hour while idle, most of
    the tray's idle cost (bench/tray_bench.py --idle 600, issue 13). Off the main thread (where
    set_wakeup_fd is refused) or without GLib, that timeout is the fallback."""
    try:
        from gi.repository import GLib  # optional: PyGObject, the 'gtk' extra
    except Exception:
        log.debug("no GLib: signals are handled by the backend's own loop")
        return
    try:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except (OSError, ValueError) as exc:  # ValueError: not the main thread
        log.debug("no signal wake-up descriptor (%s): polling for signals", type(exc).__name__)
        GLib.timeout_add(500, lambda: True)
        return
    if previous != -1:
        signal.set_wakeup_fd(previous)  # someone else's: keep it, and poll instead
        os.close(read_end)
        os.close(write_end)
        GLib.timeout_add(500, lambda: True)
        return

    def drain(_fd: int, _condition: Any) -> bool:
        with contextlib.suppress(BlockingIOError):
            os.read(read_end, 512)
        return True  # back in Python: the pending handler runs now

    GLib.unix_fd_add_full(GLib.PRIORITY_HIGH, read_end, GLib.IOCondition.IN, drain)


def _enable_xorg_clicks(icon: Any) -> None:
    """pystray 0.19.5's Xorg backend handles ButtonPress but never asks X for it, so clicks are
    lost (pystray issue #151). Select the event on its icon window ourselves."""
    try:
        from Xlib import X  # python-xlib: pystray's Xorg backend's, on Linux only

        icon._window.change_attributes(
            event_mask=X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask
        )
        icon._display.flush()
    except Exception as exc:
        log.warning("clicks on the tray icon may not work (%s)", type(exc).__name__)


def _first_menu(pystray: Any) -> Any:
    """The menu until the first view. pystray 0.19.5's AppIndicator backend builds its menu as
    its loop starts and reads ``menu`` twice doing so; when our first view's menu (it has no
    default item) came from the render thread between the two reads, the build raised, showing
    the icon then failed on the missing menu, and pystray's loop swallowed both: the item stayed
    Passive, which StatusNotifier hosts may hide (11 starts in 75 on gtk-sni-tray). A menu from
    the start leaves no gap between the reads."""
    return pystray.Menu(pystray.MenuItem("vms-tray", None, enabled=False))


class TrayIcon:
    """pystray behind a small interface: ``show(view)``, ``run(ready)``, ``stop()``."""

    def __init__(self, on_intent: IntentFn, on_popup: Callable[[], None] | None = None) -> None:
        backend.apply()
        # only now: pystray picks its backend at import (after apply) and, without a display,
        # fails there with an Xlib error
        import pystray

        self._pystray = pystray
        self._on_intent = on_intent
        self._on_popup = on_popup
        self._lock = threading.Lock()
        self._pending_cv = threading.Condition()
        self._pending: TrayView | None = None
        self._renderer: threading.Thread | None = None
        self._loop_started = False
        self._loop_done = threading.Event()
        self._stopping = threading.Event()
        self._view: TrayView | None = None
        self._icon_name: IconName | None = None
        self._stop_keeper: Callable[[], None] | None = None
        self.icon = pystray.Icon(
            "vms-tray",
            icon=load_image(IconName.SIGNED_OUT),
            title="vms-tray",
            menu=_first_menu(pystray) if pystray.Icon.HAS_MENU else None,
        )
        self.backend = type(self.icon).__module__.rsplit(".", 1)[-1].lstrip("_")
        self.has_menu = bool(type(self.icon).HAS_MENU)
        self.has_default_action = bool(type(self.icon).HAS_DEFAULT_ACTION)
        self.has_notification = bool(getattr(type(self.icon), "HAS_NOTIFICATION", False))
        if self.backend in ("gtk", "appindicator"):
            _guard_gtk_notifier(self.icon)
        if self.backend == "xorg":
            _enable_xorg_clicks(self.icon)
        if not self.has_menu:
            self.icon.menu = self._popup_menu()
        log.info("tray backend: %s (menu: %s)", self.backend, self.has_menu)

    # --- model -> pystray ---------------------------------------------------------------------

    def _callback(self, entry: MenuEntry) -> Callable[[Any, Any], None]:
        intent, arg = entry.intent, entry.arg

        def activate(_icon: Any, _item: Any) -> None:
            if intent is not None:
                try:
                    self._on_intent(intent, arg)
                except Exception:
                    log.exception("menu action %s failed", intent)

        return activate

    def _items(self, entries: tuple[MenuEntry, ...]) -> list[Any]:
        ps = self._pystray
        items: list[Any] = []
        for e in entries:
            if e.separator:
                items.append(ps.Menu.SEPARATOR)
                continue
            if e.children:
                items.append(
                    ps.MenuItem(e.text, ps.Menu(*self._items(e.children)), enabled=e.enabled)
                )
                continue
            checked = None
            if e.checked is not None:
                value = e.checked
                checked = lambda _item, v=value: v  # noqa: E731 - pystray wants a callable
            items.append(
                ps.MenuItem(
                    e.text,
                    self._callback(e),
                    checked=checked,
                    radio=e.radio,
                    enabled=e.enabled,
                    default=e.default and self.has_default_action,
                )
            )
        return items

    def _popup_menu(self) -> Any:
        ps = self._pystray

        def popup(_icon: Any, _item: Any) -> None:
            if self._on_popup is not None:
                try:
                    self._on_popup()
                except Exception:
                    log.exception("could not open the popup menu")

        return ps.Menu(ps.MenuItem("vms-tray", popup, default=True, visible=False))

    def show(self, view: TrayView) -> None:
        """Apply a new view. Never blocks the caller (the daemon's thread): once the loop runs,
        a renderer thread applies the newest view, so a stuck backend call stalls only it."""
        with self._pending_cv:
            if not self._loop_started:
                self._apply(view)
                return
            self._pending = view
            self._pending_cv.notify()
            if self._renderer is None:
                self._renderer = threading.Thread(
                    target=self._render_loop, name="tray-render", daemon=True
                )
                self._renderer.start()

    def _render_loop(self) -> None:
        while True:
            with self._pending_cv:
                while self._pending is None:
                    self._pending_cv.wait()
                view, self._pending = self._pending, None
            if view is _STOP_VIEW:
                return
            try:
                self._apply(view)
            except Exception:
                log.exception("could not update the tray icon")

    def _apply(self, view: TrayView) -> None:
        with self._lock:
            old = self._view
            self._view = view
            if view.icon != self._icon_name:
                self._icon_name = view.icon
                self.icon.icon = load_image(view.icon)
            if old is None or old.tooltip != view.tooltip:
                self.icon.title = view.tooltip
            if self.has_menu and (old is None or old.menu != view.menu):
                # The setter rebuilds the native menu.
                self.icon.menu = self._pystray.Menu(*self._items(view.menu))
                if self.backend == "appindicator":
                    self._secondary_target(view.menu)

    def _secondary_target(self, entries: tuple[MenuEntry, ...]) -> None:
        """A middle click on an AppIndicator item (SecondaryActivate, sent by KDE Plasma and
        others) runs the view's default entry, as a left click does on the other backends.
        pystray has no word for it, so it is set on libayatana once pystray has built the menu
        (its menu update is queued on the GLib loop just before this)."""
        index = next((i for i, e in enumerate(entries) if e.default and not e.separator), None)
        if index is None:
            return
        from gi.repository import GLib  # optional: PyGObject, the 'gtk' extra

        icon = self.icon

        def apply() -> bool:
            try:
                items = icon._menu_handle.get_children()
                if index < len(items):
                    icon._appindicator.set_secondary_activate_target(items[index])
            except Exception as exc:
                log.debug("no middle-click action: %s", type(exc).__name__)
            return False  # once

        GLib.idle_add(apply)

    # --- lifecycle ------------------------------------------------------------------------------

    def run(self, ready: Callable[[], None] | None = None) -> None:
        """Block in the backend's loop until :meth:`stop` (must be the main thread on macOS)."""
        if self.backend == "xorg":
            # pystray's Xorg backend runs every change in its loop thread, which is this one;
            # from another thread it sends itself an X message and waits for the loop, and
            # with python-xlib that hand-over can hang. So everything up to the first picture
            # happens here, before the loop, as direct calls. (Setting _thread also avoids
            # pystray 0.19.5's race where the setup thread reads it before the loop sets it.)
            self.icon._thread = threading.current_thread()
            self._ready(ready)
            self.icon.visible = True
            # A title set while hidden is only stored by pystray: set it again now.
            if self._view is not None:
                self.icon._update_title()
            self._started()
            threading.Thread(target=self._xorg_ensure_docked, name="tray-dock", daemon=True).start()
            try:
                self.icon.run(setup=lambda _icon: None)
            finally:
                self._loop_done.set()
            return

        def setup(icon: Any) -> None:
            # GTK backends hand every call to their loop (GLib idle), so any thread may call.
            icon.visible = True
            if self.backend == "appindicator":
                self._keep_registered()
            self._started()
            self._ready(ready)

        if self.backend in ("gtk", "appindicator"):
            _wake_python_for_signals()
        try:
            self.icon.run(setup=setup)
        finally:
            self._loop_done.set()
            if self._stop_keeper is not None:
                self._stop_keeper()

    def _keep_registered(self) -> None:
        """From the loop: re-register the item when a watcher refused it (tray.registration)."""
        from gi.repository import GLib  # optional: PyGObject, the 'gtk' extra

        icon = self.icon

        def register() -> None:
            # Setting the menu is libayatana's only public way to register again.
            if icon._menu_handle is not None:
                icon._appindicator.set_menu(icon._menu_handle)

        def install() -> bool:
            try:
                self._stop_keeper = registration.keep_registered(icon._appindicator, register)
            except Exception as exc:
                log.warning("cannot watch the tray item's registration: %s", type(exc).__name__)
            return False  # once

        GLib.idle_add(install)

    def _ready(self, ready: Callable[[], None] | None) -> None:
        if ready is not None:
            try:
                ready()
            except Exception:
                log.exception("tray setup failed")

    def _started(self) -> None:
        with self._pending_cv:
            self._loop_started = True

    def stop(self) -> None:
        self._stopping.set()
        with self._pending_cv:
            self._pending = _STOP_VIEW
            self._pending_cv.notify()
        if self.backend == "xorg":
            threading.Thread(target=self._xorg_watchdog, name="tray-stop", daemon=True).start()
        try:
            self.icon.stop()
        except Exception as exc:  # a dying backend must not turn Quit into a crash
            log.warning("stopping the tray icon failed: %s", type(exc).__name__)

    def _xorg_redock(self) -> bool | None:
        """Ask the tray host to embed our icon unless it already has; None: cannot tell.

        Uses a connection of its own, so pystray's loop (and its X lock) is not involved."""
        try:
            # python-xlib: pystray's Xorg backend's, on Linux only
            from Xlib import X, display
            from Xlib.protocol import event

            d = display.Display()
            try:
                wid = self.icon._window.id
                win = d.create_resource_object("window", wid)
                tree = win.query_tree()
                if tree.parent != tree.root:
                    return True
                screen = d.get_default_screen()
                owner = d.get_selection_owner(d.intern_atom(f"_NET_SYSTEM_TRAY_S{screen}"))
                if owner == X.NONE:
                    return False
                msg = event.ClientMessage(
                    window=owner,
                    client_type=d.intern_atom("_NET_SYSTEM_TRAY_OPCODE"),
                    data=(32, [X.CurrentTime, 0, wid, 0, 0]),  # 0: SYSTEM_TRAY_REQUEST_DOCK
                )
                owner.send_event(msg, event_mask=X.NoEventMask)
                d.flush()
                return False
            finally:
                d.close()
        except Exception as exc:
            log.debug("cannot check the tray icon's embedding: %s", type(exc).__name__)
            return None

    def _xorg_ensure_docked(self) -> None:
        """Now and then trayer drops the first dock request, and pystray never asks again:
        ask again, a few times, until the icon is embedded (also when the panel starts late)."""
        for _attempt in range(DOCK_ATTEMPTS):
            if self._stopping.wait(DOCK_CHECK):
                return
            if self._xorg_redock() is not False:
                return
            log.info("the tray host has not taken the icon; asked again")

    def _xorg_watchdog(self) -> None:
        if self._loop_done.wait(STOP_GRACE):
            return
        # pystray's Xorg loop sometimes misses its own window's destruction (or the hand-over
        # of the stop request) and waits forever; closing its X connection ends the loop.
        log.warning("the tray loop did not stop; closing its X connection")
        try:
            self.icon._display.close()
        except Exception as exc:
            log.debug("closing the X connection: %s", type(exc).__name__)

    def notify(self, title: str, message: str) -> None:
        if not self.has_notification:
            raise RuntimeError(f"the {self.backend} tray backend cannot show notifications")
        self.icon.notify(message, title)

    def remove_notification(self) -> None:
        """Take back the notice ``notify`` showed (``TrayNotifier.withdraw``)."""
        if self.has_notification:
            self.icon.remove_notification()
