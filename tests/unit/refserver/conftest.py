"""A Service on an in-memory store with a fake clock and cheap scrypt: fast, no sleeping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vms_tray.refserver.captcha import CaptchaStore
from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.service import ClientDescription, Service
from vms_tray.refserver.storage import Store
from vms_tray.refserver.tokens import KdfParams
from vms_tray.testing.clock import FakeServerClock

FAST_KDF = KdfParams(n=16)
LAPTOP = ClientDescription("laptop", "vms-tray", "0.1.0")
DESK = ClientDescription("desk", "vms-tray", "0.1.0")
PHONE = ClientDescription("phone", "other-client", "2.0")


@pytest.fixture
def clock() -> FakeServerClock:
    return FakeServerClock()


@pytest.fixture
def captcha_log(tmp_path: Path) -> Path:
    """Where the services' captcha answers are logged (``CaptchaStore(answer_log=...)``, as
    ``--captcha-log`` does for a server process): how tests read what a captcha says."""
    return tmp_path / "captcha-answers"


@pytest.fixture
def make_service(clock: FakeServerClock, captcha_log: Path) -> Iterator[Callable[..., Service]]:
    stores: list[Store] = []

    def make(**config: Any) -> Service:
        store = Store(":memory:")
        stores.append(store)
        service = Service(
            store,
            clock,
            replace(ServerConfig(kdf=FAST_KDF), **config),
            CaptchaStore(clock, answer_log=captcha_log),
        )
        service.add_user("anna", "pw")
        service.add_user("bob", "pw-b")
        return service

    yield make
    for s in stores:
        s.close()


@pytest.fixture
def service(make_service: Callable[..., Service]) -> Service:
    return make_service()
