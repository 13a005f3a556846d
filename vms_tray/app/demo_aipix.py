"""``vms-tray demo --flavor aipix``: the AIPIX simulator's demo server and what to try with it.

The seed's whole flow against an AIPIX-speaking server: the captcha with Refresh at every sign-in,
the User Sessions window on a 419 filled with AIPIX's fields (a phone and a browser hold both
seats), end one or wait, the count warning, ended-elsewhere, and log-out on quit.
"""

from __future__ import annotations

from pathlib import Path

from vms_tray.refserver.aipix.demo import AipixDemo, start_aipix_demo

__all__ = ["AipixDemo", "aipix_lines", "demo_data", "start_aipix_demo"]


def aipix_lines(idle_timeout: float) -> list[str]:
    minutes = f"{idle_timeout / 60:.0f}"
    return [
        "  it speaks the AIPIX VMS Client API (a simulator: vms-tray server run --flavor aipix)",
        "  both seats are taken by a phone (Samsung SM-G991B) and a browser (Chrome on Windows):",
        "    - every sign-in asks for the captcha (Refresh gives a new picture; each lasts a "
        "minute)",
        "    - the User Sessions window lists them with AIPIX's fields: end one (vms-tray then",
        f"      signs in, replacing it), or wait: an idle token lapses after {minutes} minutes",
        "    - quit: vms-tray sends POST /logout and frees its seat",
    ]


def demo_data(root: Path) -> Path:
    """Where the AIPIX demo keeps its server's data (beside the native demo's)."""
    return root / "aipix-server"
