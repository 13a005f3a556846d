"""Which pystray backend to use on Linux, decided in one place before pystray is imported.

pystray's own order tries AppIndicator first. Without a StatusNotifier host on the session bus
(trayer, XFCE's and other XEmbed trays) libayatana-appindicator falls back to an XEmbed icon, and
that fallback sometimes never docks (seen under Xvfb + trayer, about one start in five). GTK's
own XEmbed icon docks reliably there, so GTK is the default and AppIndicator is chosen where a
StatusNotifier host is or will be: when the watcher is on the bus, and on desktops whose panel
is a StatusNotifier host even before that panel has started.

The second case is the login race: an autostarted tray can start before plasmashell, GNOME
Shell's AppIndicator extension or a Wayland panel owns the watcher. GTK's icon would then wait
for an XEmbed tray that never comes; an AppIndicator item registers once the watcher appears
(libayatana follows the watcher name's owner; tests/desktop/tray/test_icon_sni.py shows it on a
real host started after the tray).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, MutableMapping

log = logging.getLogger(__name__)

ENV = "PYSTRAY_BACKEND"
SNI_WATCHER = "org.kde.StatusNotifierWatcher"

# XDG_CURRENT_DESKTOP names whose panel shows StatusNotifier items and has no XEmbed tray of its
# own, so GTK's icon could only be seen through a proxy (KDE's xembedsniproxy) or not at all:
# - KDE: Plasma's system tray is a StatusNotifier host; XEmbed icons go through xembedsniproxy.
# - GNOME (also "ubuntu:GNOME", "GNOME-Flashback:GNOME"): the Shell dropped its XEmbed tray in
#   3.26; its icons come from the AppIndicator extension (Ubuntu enables it). Without the
#   extension neither backend is seen, so AppIndicator costs nothing.
# - Unity and Pantheon: their panels show indicators (StatusNotifier items), not XEmbed icons.
# Desktops with XEmbed trays (XFCE, MATE, LXDE, Cinnamon, ...) stay on GTK: there its icon docks
# whenever the panel comes up, and a watcher already on the bus still selects AppIndicator.
SNI_DESKTOPS = frozenset({"kde", "gnome", "unity", "pantheon"})


def sni_desktop(environ: Mapping[str, str]) -> bool:
    """The session's tray will be a StatusNotifier host, whether or not its watcher is up yet."""
    # XEmbed is an X11 protocol: the tray of a Wayland session (Plasma, GNOME Shell, waybar,
    # swaybar, ...) shows StatusNotifier items; an XEmbed icon has no panel to dock in there.
    if environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return True
    names = environ.get("XDG_CURRENT_DESKTOP", "").lower().split(":")
    return any(name.strip() in SNI_DESKTOPS for name in names)


def choose(
    *,
    platform: str,
    explicit: str | None,
    environ: Mapping[str, str],
    have_gi: Callable[[], bool],
    sni_watcher: Callable[[], bool],
) -> str | None:
    """The backend name to force, or None to leave pystray's default (non-Linux, or explicit)."""
    if explicit or not platform.startswith("linux"):
        return None
    if not have_gi():
        return "xorg"
    return "appindicator" if sni_desktop(environ) or sni_watcher() else "gtk"


def _have_gi() -> bool:
    try:
        import gi  # the probe itself: PyGObject is optional (the 'gtk' extra)

        gi.require_version("Gtk", "3.0")
        return True
    except (ImportError, ValueError):
        return False


def _sni_watcher(timeout: float = 1.0) -> bool:
    try:
        # here: jeepney is a dependency on Linux only (pyproject's marker); only Linux asks
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
        environ=environ,
        have_gi=_have_gi,
        sni_watcher=_sni_watcher,
    )
    if name:
        environ[ENV] = name
