"""The one module that imports pystray: turns a :class:`~vms_tray.tray.view.TrayView` into a
system-tray icon and menu.

pystray is imported lazily (without ``DISPLAY`` the import itself fails with an Xlib error, not an
ImportError). Backends: ``appindicator`` and ``gtk`` need PyGObject (``pip install
'vms-tray[gtk]'``); ``xorg`` has no menu, so a click there calls ``on_popup`` and the app shows the
same menu as a small Tk popup. ``PYSTRAY_BACKEND`` picks one explicitly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from io import BytesIO
from typing import Any

from PIL import Image

from vms_tray.tray.view import IconName, Intent, MenuEntry, TrayView

log = logging.getLogger(__name__)

IntentFn = Callable[[Intent, "str | None"], None]


@cache
def load_image(name: str) -> Image.Image:
    """An icon from vms_tray/data/icons/ (``<state>.png``, 64 px; the tray host downsizes)."""
    data = (files("vms_tray") / "data" / "icons" / f"{name}.png").read_bytes()
    img = Image.open(BytesIO(data))
    img.load()
    return img


class _NoNotifications:
    """Stands in for pystray's GLib notifier when the notification service is missing or broken:
    vms-tray sends its notifications itself (vms_tray.notify)."""

    def notify(self, *_args: Any) -> None:
        pass

    def hide(self) -> None:
        pass


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
    """A GLib main loop blocks in C, so Python signal handlers (SIGTERM -> quit) would never run;
    a cheap periodic timeout lets the interpreter look at pending signals."""
    try:
        from gi.repository import GLib

        GLib.timeout_add(500, lambda: True)
    except Exception:
        log.debug("no GLib: signals are handled by the backend's own loop")


class TrayIcon:
    """pystray behind a small interface: ``show(view)``, ``run(ready)``, ``stop()``."""

    def __init__(self, on_intent: IntentFn, on_popup: Callable[[], None] | None = None) -> None:
        import pystray

        self._pystray = pystray
        self._on_intent = on_intent
        self._on_popup = on_popup
        self._lock = threading.Lock()
        self._view: TrayView | None = None
        self._icon_name: IconName | None = None
        self.icon = pystray.Icon("vms-tray", icon=load_image(IconName.SIGNED_OUT), title="vms-tray")
        self.backend = type(self.icon).__module__.rsplit(".", 1)[-1].lstrip("_")
        self.has_menu = bool(type(self.icon).HAS_MENU)
        self.has_default_action = bool(type(self.icon).HAS_DEFAULT_ACTION)
        self.has_notification = bool(getattr(type(self.icon), "HAS_NOTIFICATION", False))
        if self.backend in ("gtk", "appindicator"):
            _guard_gtk_notifier(self.icon)
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
        """Apply a new view (any thread: the GTK backends marshal into their loop)."""
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

    @property
    def view(self) -> TrayView | None:
        return self._view

    # --- lifecycle ------------------------------------------------------------------------------

    def run(self, ready: Callable[[], None] | None = None) -> None:
        """Block in the backend's loop until :meth:`stop` (must be the main thread on macOS)."""

        def setup(icon: Any) -> None:
            icon.visible = True
            if ready is not None:
                try:
                    ready()
                except Exception:
                    log.exception("tray setup failed")

        if self.backend in ("gtk", "appindicator"):
            _wake_python_for_signals()
        self.icon.run(setup=setup)

    def stop(self) -> None:
        try:
            self.icon.stop()
        except Exception as exc:  # a dying backend must not turn Quit into a crash
            log.warning("stopping the tray icon failed: %s", type(exc).__name__)

    def notify(self, title: str, message: str) -> None:
        if not self.has_notification:
            raise RuntimeError(f"the {self.backend} tray backend cannot show notifications")
        self.icon.notify(message, title)
