"""Shared by the adapter's tests (net/) and the problem tests (kinds/): an adapter on canned
answers, and the exception one request ends in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.unit.kinds.fakes import Canned
from vms_tray.connections.model import Trust
from vms_tray.errors import ServerUnreachable
from vms_tray.net import tls
from vms_tray.net.http import ErrorFormat, HttpAdapter

URL = "https://vms.example.com/api/v1"
NOW = datetime(2026, 11, 27, 6, 0, 0, tzinfo=UTC)
FINGERPRINT = ":".join(["AB"] * 32)


def fake_certificate(url: str, timeout: float) -> tls.PeerCertificate:
    return tls.PeerCertificate(
        der=b"der",
        pem="pem",
        sha256=FINGERPRINT,
        subject="CN=vms.example.com",
        not_after=NOW + timedelta(days=365),
    )


def unreadable_certificate(url: str, timeout: float) -> tls.PeerCertificate:
    raise ServerUnreachable("gone")


def adapter(
    canned: Canned,
    *,
    trust: Trust | None = None,
    fetch: object = fake_certificate,
    error_format: ErrorFormat | None = None,
) -> HttpAdapter:
    return HttpAdapter(
        URL,
        trust=trust,
        name="office",
        transport=canned.transport(),
        timeout=7.0,
        fetch_certificate=fetch,  # type: ignore[arg-type]
        now=lambda: NOW,
        error_format=error_format,
    )


def fail(
    answer: httpx.Response | Exception, error_format: ErrorFormat | None = None, **kwargs: object
) -> Exception:
    with adapter(Canned(answer), error_format=error_format) as a, pytest.raises(Exception) as info:
        a.request("GET", "/sessions/current", bearer="tok-SECRET-123", **kwargs)  # type: ignore[arg-type]
    return info.value
