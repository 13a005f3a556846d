"""The files vms-tray ships beside its code: the state icons and the service templates.

Their source of truth is the top of the tree (``icons/``, drawn by ``icons/make_icons.py``;
``service_templates/``). The build copies them into the wheel as ``vms_tray/data/icons`` and
``vms_tray/data/service_templates`` (``_build/backend.py``); a source checkout (the editable
install of ``scripts/test``) reads them where they are, so git holds one copy of each.
"""

from __future__ import annotations

from enum import StrEnum
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

ICONS = "icons"
SERVICE_TEMPLATES = "service_templates"
FOLDERS = (ICONS, SERVICE_TEMPLATES)


class IconName(StrEnum):
    """The state icons: ``icons/<value>.png`` (64 px) and ``<value>-<size>.png``. The tray shows
    one per state (vms_tray.tray.view.icon_for) and each notice carries the one of its topic."""

    SIGNED_OUT = "signed-out"
    CONNECTING = "connecting"
    SIGNED_IN = "signed-in"
    NEAR_LIMIT = "near-limit"
    SIGNED_IN_FULL = "signed-in-full"  # signed in; all seats in use (nobody else gets one)
    LIMIT_REACHED = "limit-reached"  # not signed in: the limit blocks this sign-in
    OFFLINE = "offline"
    ERROR = "error"


# The checkout's top (vms_tray/..); only used where the wheel's copy is absent.
_SOURCE_TREE = Path(__file__).resolve().parent.parent


def asset(folder: str, name: str) -> Traversable:
    """The shipped file ``name`` of ``folder`` (one of :data:`FOLDERS`).

    Raises FileNotFoundError naming both places looked in when neither has it."""
    if folder not in FOLDERS:
        raise ValueError(f"unknown asset folder {folder!r}; one of {', '.join(FOLDERS)}")
    shipped = files("vms_tray") / "data" / folder / name
    if shipped.is_file():
        return shipped
    source = _SOURCE_TREE / folder / name
    if source.is_file():
        return source
    raise FileNotFoundError(f"{name} is neither in {shipped} nor in {source}; reinstall vms-tray")


def icon(name: str) -> Traversable:
    """The state or app icon file ``name`` (with its suffix, e.g. ``signed-in.png``)."""
    return asset(ICONS, name)


def template(name: str) -> Traversable:
    """The service template ``name`` (e.g. ``vms-tray.service.in``)."""
    return asset(SERVICE_TEMPLATES, name)
