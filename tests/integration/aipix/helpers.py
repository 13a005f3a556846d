"""Clients of the AIPIX simulator as vms-tray would configure them (pinned, one profile each)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.support.refserver import RefServer
from vms_tray.connections.model import Connection, Trust
from vms_tray.kinds.aipix import AipixServer

_devices = itertools.count()


def simulator(factory: Callable[..., RefServer], *settings: str, **options: Any) -> RefServer:
    """``vms-tray server run --flavor aipix`` with ``--aipix`` settings (``KEY=VALUE``)."""
    args: list[str] = ["--flavor", "aipix"]
    for setting in settings:
        args += ["--aipix", setting]
    extra: Sequence[str] = options.pop("extra_args", ())
    return factory(extra_args=[*args, *extra], **options)


def connection(server: RefServer, login: str = "anna") -> Connection:
    trust = Trust(mode="pinned", pin_sha256=server.fingerprint)
    return Connection("HQ", server.url, login, kind="aipix", trust=trust)


def aipix_for(
    server: RefServer, tmp_path: Path, *, timeout: float = 5, **options: Any
) -> AipixServer:
    """A client on a device of its own (its own profile folder, so its own X-UUID)."""
    profile = tmp_path / f"device-{next(_devices)}"
    return AipixServer(connection(server), timeout=timeout, profile_dir=profile, **options)
