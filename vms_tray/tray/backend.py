"""Which pystray backend to use on Linux, decided in one place before pystray is imported.

pystray's own order tries AppIndicator first. Without a StatusNotifier host on the session bus
(trayer, XFCE's and other XEmbed trays) libayatana-appindicator falls back to an XEmbed icon, and
that fallback sometimes never docks (seen under Xvfb + trayer, about one start in five). GTK's
own XEmbed icon docks reliably there, so AppIndicator is chosen only when a StatusNotifier
watcher exists (KDE, GNOME with the AppIndicator extension, Wayland desktops).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, MutableMapping

log = logging.getLogger(__name__)

ENV = "PYSTRAY_BACKEND"
SNI_WATCHER = "org.kde.StatusNotifierWatcher"


def choose(
    *,
    platform: str,
    explicit: str | None,
    have_gi: Callable[[], bool],
    sni_watcher: Callable[[], bool],
) -> str | None:
    """The backend name to force, or None to leave pystray's default (non-Linux, or explicit)."""
    if explicit or not platform.startswith("linux"):
        return None
    if not have_gi():
        return "xorg"
    return "appindicator" if sni_watcher() else "gtk"


def _have_gi() -> bool:
    try:
        import gi

        gi.require_version("Gtk", "3.0")
        return True
    except (ImportError, ValueError):
        return False


def _sni_watcher(timeout: float = 1.0) -> bool:
    try:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(bus="SESSION") as conn:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner(SNI_WATCHER), timeout=timeout)
            return bool(reply.body[0])
    except Exception as exc:  # no bus or no answer: no StatusNotifier host either
        log.debug("no StatusNotifier watcher: %s", type(exc).__name__)
        return False


def apply(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set ``PYSTRAY_BACKEND`` unless the user did; call before importing pystray."""
    name = choose(
        platform=sys.platform,
        explicit=environ.get(ENV),
        have_gi=_have_gi,
        sni_watcher=_sni_watcher,
    )
    if name:
        environ[ENV] = name
