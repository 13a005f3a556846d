"""A ready-made AIPIX demo (``vms-tray demo --flavor aipix``): the simulator with a ``demo``
account whose two seats are held by a phone and a browser, its captcha on, and idle tokens
lapsing after a few minutes so that waiting for a seat visibly works.

The seats are filled through the service, not over HTTP: they stand for other devices, and a
real sign-in would need the captcha answered.
"""

from __future__ import annotations

import time
from pathlib import Path

from vms_tray.refserver.clock import ServerClock
from vms_tray.refserver.demo import DEMO_LOGIN, DemoServer, new_demo_password, reset_demo_account
from vms_tray.refserver.runner import ServerOptions

from .config import AipixConfig, Readings
from .runner import AipixHandle, open_aipix_store
from .service import Device

DEMO_SEATS = 2
# Two other devices of the note's kinds (§1 User-Agent formats, §1 X-Client values).
OTHER_DEVICES = (
    Device("10.0.0.12", "Samsung / SM-G991B / 13 / 33 / Android", "android", "uuid-phone"),
    Device(
        "10.0.0.13",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Safari/537.36",
        "web",
        "uuid-browser",
    ),
)


AipixDemo = DemoServer[AipixHandle]


def start_aipix_demo(
    data_dir: Path,
    *,
    password: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    idle_timeout: float = 300.0,
    clock: ServerClock | None = None,
) -> AipixDemo:
    """Set up ``data_dir`` (a fresh ``demo`` account, both seats taken) and serve it."""
    password = password or new_demo_password()
    store = open_aipix_store(data_dir)
    try:
        reset_demo_account(store, password, DEMO_SEATS)
        now = time.time()
        # Sessions of an earlier run (a crash, a kill) would hold the seats.
        for s in store.active_sessions(DEMO_LOGIN):
            store.end_session(s.id, now, "logout")
    finally:
        store.close()
    config = AipixConfig(
        name="AIPIX demo",
        captcha=True,
        sessions_limit=DEMO_SEATS,
        readings=Readings(token_idle_ttl=idle_timeout),
    )
    handle = AipixHandle(
        data_dir, config=config, clock=clock, options=ServerOptions(host=host, port=port)
    )
    for device in OTHER_DEVICES:
        handle.service.open_for_demo(DEMO_LOGIN, device)
    return DemoServer(handle, DEMO_LOGIN, password)
