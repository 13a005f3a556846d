"""The simulator served over TLS in a thread: it shares the reference server's data folder."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from vms_tray.refserver.aipix.runner import AipixHandle, open_aipix_store
from vms_tray.refserver.runner import open_store
from vms_tray.refserver.tokens import KdfParams, hash_password


def test_it_serves_the_reference_servers_accounts(tmp_path: Path) -> None:
    store = open_store(tmp_path)  # as 'vms-tray server user add' leaves it
    store.add_user("anna", hash_password("pw", KdfParams(n=16)), None, 0.0)
    store.close()
    with AipixHandle(tmp_path) as handle:
        assert handle.running and handle.url.startswith("https://127.0.0.1:")
        ctx = ssl.create_default_context(cadata=handle.cert_pem.decode("ascii"))
        with httpx.Client(base_url=handle.url, verify=ctx) as http:
            r = http.post(
                "/api/v1/token",
                json={"login": "anna", "password": "pw"},
                headers={"Accept": "application/json"},
            )
            assert r.status_code == 200
    assert not handle.running
    again = open_aipix_store(tmp_path)
    assert again.count_active("anna") == 1
    again.close()
