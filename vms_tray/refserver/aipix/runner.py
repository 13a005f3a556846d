"""Serving the AIPIX simulator over HTTPS from a thread (tests, demo, ``server run``)."""

from __future__ import annotations

import logging
from pathlib import Path

from vms_tray.refserver.clock import ServerClock, SystemServerClock
from vms_tray.refserver.runner import (
    DB_NAME,
    ServerOptions,
    Serving,
    serve_app,
    url_for,
)
from vms_tray.refserver.tls import ensure_self_signed, fingerprint_pem
from vms_tray.refserver.tokens import DEFAULT_KDF, KdfParams

from .app import build_aipix_app
from .config import AipixConfig
from .service import AipixService
from .store import AipixStore

log = logging.getLogger(__name__)


def open_aipix_store(data_dir: Path) -> AipixStore:
    """The reference server's database in ``data_dir``, with the AIPIX table added."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return AipixStore(data_dir / DB_NAME)


class AipixHandle(Serving):
    """An AIPIX simulator serving HTTPS from a background thread until ``stop()``; the same
    attributes as the reference server's ``ServerHandle``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        config: AipixConfig | None = None,
        clock: ServerClock | None = None,
        options: ServerOptions | None = None,
        kdf: KdfParams = DEFAULT_KDF,
    ) -> None:
        opts = options or ServerOptions()
        clock = clock or SystemServerClock()
        if opts.tls_cert and opts.tls_key:
            cert_path, key_path = opts.tls_cert, opts.tls_key
        else:
            cert_path, key_path = ensure_self_signed(data_dir, opts.host)
        store = open_aipix_store(data_dir)
        self.service = AipixService(store, clock, config, captcha_log=opts.captcha_log, kdf=kdf)
        app = build_aipix_app(self.service, maintenance_file=opts.maintenance_file)
        try:
            self._server, self._thread, self.port = serve_app(app, opts, cert_path, key_path)
            self._store = store
        except BaseException:
            store.close()
            raise
        self.url = url_for(opts.host, self.port)
        self.cert_pem_path = cert_path
        self.cert_pem = cert_path.read_bytes()
        self.fingerprint = fingerprint_pem(self.cert_pem)
        self.data_dir = data_dir
