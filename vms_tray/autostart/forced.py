"""Start at login when the administrator's policy forces it (``force_autostart``, issue 15).

The policy is read by :mod:`vms_tray.connections.policy`, which this package may not import (the
import rules): callers pass the policy file's path, and this module holds what the app, the tray
and ``vms-tray autostart`` do with it, so all three refuse in the same words::

    refusal(policy_path) -> str                      the one line that says why disable is refused
    ensure_enabled(backend) -> bool                  turns it on if it is off (True: it was off)
    disable_refused(backend, default) -> bool        whether disabling ``backend`` would leave
                                                     no start at login (then it is refused)
"""

from __future__ import annotations

from typing import Protocol

from vms_tray.autostart.base import AutostartBackend

__all__ = ["disable_refused", "ensure_enabled", "refusal"]


class _Switch(Protocol):
    def is_enabled(self) -> bool: ...

    def enable(self) -> object: ...


def refusal(policy_path: str) -> str:
    return (
        f"start at login is required by your administrator (force_autostart in {policy_path}) "
        "and cannot be turned off"
    )


def ensure_enabled(backend: _Switch) -> bool:
    """Turn start at login on unless it is on already (an entry a user removed by hand, or the
    first start after the administrator set the policy)."""
    if backend.is_enabled():
        return False
    backend.enable()
    return True


def disable_refused(backend: AutostartBackend, default: AutostartBackend) -> bool:
    """Under ``force_autostart``: disabling the default method is refused; disabling another
    one is allowed while the default is on (it removes a duplicate, which would start vms-tray
    twice, and start at login stays)."""
    return backend.name == default.name or not default.is_enabled()
