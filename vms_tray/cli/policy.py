"""``vms-tray policy show``: what the administrator's policy sets, and where each value comes from.

Wiring only: the policy is read by :mod:`vms_tray.connections.policy`. Both it and the daemon's
settings are imported by the command, not at the top: importing ``vms_tray.daemon.settings``
imports the daemon package, its worker and APScheduler (about 150 ms), which every other
command, ``--help`` among them, paid when they were (CLI start-up, issue 13).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vms_tray.connections.policy import Policy


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "policy",
        help="show the administrator's policy",
        description="The administrator's policy.toml (in the system configuration folder).",
    )
    sub = p.add_subparsers(dest="policy_command", metavar="ACTION")
    sub.required = True
    cmd = sub.add_parser("show", help="print what applies and where each value came from")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.set_defaults(func=_show)


def _rows(policy: Policy) -> list[tuple[str, Any, str]]:
    from dataclasses import replace

    from vms_tray import paths
    from vms_tray.daemon import settings as settings_mod

    source = str(policy.path)
    user = f"default (or {paths.settings_file()})"
    # The problem is printed once, by _show (a bad policy sets nothing).
    effective = settings_mod.load(policy=replace(policy, problem=None))
    rows: list[tuple[str, Any, str]] = []
    for key in ("lock_servers", "forbid_remember_password", "force_autostart"):
        rows.append((key, getattr(policy, key), source if key in policy.set else "default"))
    rows.append(
        (
            "poll_interval",
            effective.poll_interval,
            source if "poll_interval" in policy.set else user,
        )
    )
    rows.append(
        ("warn_margin", effective.warn_margin, source if "warn_margin" in policy.set else user)
    )
    for name, pin in sorted(policy.pins.items()):
        rows.append((f"pins.{name}", pin, source))
    return rows


def _show(args: argparse.Namespace) -> int:
    from vms_tray.connections.policy import load_policy

    policy = load_policy()
    if policy.problem:
        print(f"vms-tray: warning: {policy.problem}", file=sys.stderr)
    rows = _rows(policy)
    if args.json:
        data: dict[str, Any] = {"file": str(policy.path), "problem": policy.problem}
        data["settings"] = {k: {"value": v, "from": src} for k, v, src in rows}
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    exists = policy.path.exists() and policy.problem is None
    print(f"Policy file: {policy.path}" + ("" if exists else " (none in effect)"))
    width = max(len(k) for k, _v, _s in rows)
    for key, value, src in rows:
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        print(f"  {key.ljust(width)}  {shown}  ({src})")
    return 0
