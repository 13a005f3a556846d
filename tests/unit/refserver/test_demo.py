"""The demo set-up: a ``demo`` account and a running server for it (real uvicorn + TLS on
loopback), and the passwords it makes up."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from vms_tray.refserver.demo import (
    DEMO_LOGIN,
    DEMO_MAX_SESSIONS,
    new_demo_password,
    prepare_demo_data,
    start_demo_server,
)
from vms_tray.refserver.storage import Store
from vms_tray.refserver.tokens import verify_password

CLIENT = {"device": "laptop", "software": "vms-tray", "version": "0.1.0"}


def test_demo_server(tmp_path: Path) -> None:
    demo = start_demo_server(tmp_path, password="demo-pass")
    try:
        assert (demo.login, demo.password) == (DEMO_LOGIN, "demo-pass")
        assert "demo-pass" not in repr(demo)
        context = ssl.create_default_context(cadata=demo.handle.cert_pem.decode())
        with httpx.Client(base_url=demo.url, verify=context) as http:
            info = http.get("/api/v1/server").json()
            assert info["captcha"] == "after-failures"
            body = {"login": "demo", "password": "demo-pass", "client": CLIENT}
            r = http.post("/api/v1/sessions", json=body)
            assert r.status_code == 201 and r.json()["limit"]["max"] == 2
    finally:
        demo.stop()
    # A second start resets the password (only its hash is kept) and keeps the account.
    again = start_demo_server(tmp_path)
    again.stop()
    assert again.password != "demo-pass" and len(again.password) == 14
    store = Store(tmp_path / "server.sqlite3")
    assert [u.login for u in store.list_users()] == ["demo"]
    store.close()


def test_demo_passwords_are_typeable() -> None:
    words = {new_demo_password() for _ in range(50)}
    assert len(words) == 50
    assert all(len(w.split("-")) == 3 and not set(w) & set("0O1lI") for w in words)


def test_preparing_again_gives_back_the_demo_seats_and_the_new_password(tmp_path: Path) -> None:
    prepare_demo_data(tmp_path, "first-pass")
    store = Store(tmp_path / "server.sqlite3")
    try:
        store.set_max_sessions(DEMO_LOGIN, 5)  # someone changed the account in between
    finally:
        store.close()
    prepare_demo_data(tmp_path, "second-pass")
    store = Store(tmp_path / "server.sqlite3")
    try:
        user = store.get_user(DEMO_LOGIN)
    finally:
        store.close()
    assert user is not None and user.max_sessions == DEMO_MAX_SESSIONS == 2
    assert verify_password("second-pass", user.password_hash)
    assert not verify_password("first-pass", user.password_hash)
