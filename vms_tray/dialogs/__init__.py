"""Dialogs: each runs as a short-lived child process (``python -m vms_tray.dialogs NAME``) that
reads a JSON request on stdin and prints a JSON answer, so Tk never shares a process with the
tray's GUI loop. :mod:`vms_tray.dialogs.launcher` starts them without blocking the tray.
"""

from __future__ import annotations

NAMES = ("login", "captcha", "connections", "sessions", "about", "menu", "desktop_offer")
