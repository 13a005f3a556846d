"""The running reference server fuzzed against its own OpenAPI document (schemathesis).

Every operation gets bounded generated requests over real TLS; responses must never be 5xx and
must conform to the document (status, content type, headers, body schema). Authenticated
operations get a fresh valid access token per example. The stateful phase, following the
document's links from operation to operation, is test_schemathesis_stateful.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from tests.support.refserver import RefServer

pytestmark = pytest.mark.integration

CLIENT = {"device": "fuzz", "software": "schemathesis", "version": "4"}
DOCUMENT = Path(str(resources.files("vms_tray") / "data" / "openapi.json"))

MAX_EXAMPLES = 30

# The events stream (protocol v1.1) answers a valid bearer with a stream that lasts until the
# session ends: a fuzzer would wait on it for good. tests/integration/refserver/test_stream.py
# drives it with a real client instead.
schema = schemathesis.openapi.from_path(DOCUMENT).exclude(path="/api/v1/events")


class Fuzzed:
    """The server, a token shared by the read-only examples and spare ones for sign-outs.

    Listing and ending sessions alternate between the access token and a conflict token (from a
    one-seat account), so both kinds of bearer are fuzzed. Tokens are made before any fuzzing:
    the fuzzed sign-ins soon get this address throttled.
    """

    def __init__(self, server: RefServer, spares: int) -> None:
        self.server = server
        # One keep-alive connection pool for every example: no TLS handshake per request.
        self.session = requests.Session()
        self.session.verify = str(server.cert_pem_path)
        with server.client() as http:
            tokens = [self._sign_in(http) for _ in range(spares + 1)]
            self.shared = tokens.pop()
            self.spares = tokens
            seat = {"login": "one-seat", "password": "fuzz-pw", "client": CLIENT}
            assert http.post("/api/v1/sessions", json=seat).status_code == 201
            r = http.post("/api/v1/sessions", json=seat)
            assert r.status_code == 409, r.text
            self.conflict = str(r.json()["conflict_token"])  # valid 120 s: the whole run
        self._turn = 0

    @staticmethod
    def _sign_in(http: httpx.Client) -> str:
        body = {"login": "fuzzer", "password": "fuzz-pw", "client": CLIENT}
        r = http.post("/api/v1/sessions", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["access_token"])

    def token_for(self, method: str, path: str) -> str:
        if (method, path) == ("DELETE", "/api/v1/sessions/current") and self.spares:
            return self.spares.pop()
        if (method, path) in (("GET", "/api/v1/sessions"), ("DELETE", "/api/v1/sessions/{id}")):
            self._turn += 1
            if self._turn % 2:
                return self.conflict
        return self.shared


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    server = RefServer.start(
        tmp_path_factory.mktemp("fuzz"),
        captcha="after-failures",
        max_sessions=0,  # no limit
        users={"fuzzer": "fuzz-pw", "one-seat": "fuzz-pw"},
        user_limits={"one-seat": 1},
    )
    try:
        fuzz = Fuzzed(server, spares=40)
        yield fuzz
        fuzz.session.close()
    finally:
        assert server.stop() == 0


def test_document_is_valid_openapi() -> None:
    schema.validate()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_conforms_to_openapi(case: Any, fuzzed: Fuzzed) -> None:
    headers: dict[str, str] = {}
    if case.operation.definition.raw.get("security"):
        token = fuzzed.token_for(case.method.upper(), case.operation.path)
        headers = {"Authorization": f"Bearer {token}"}
    case.call_and_validate(
        base_url=fuzzed.server.url,
        headers=headers,
        session=fuzzed.session,
        verify=fuzzed.session.verify,
    )


def test_served_document_is_the_shipped_one(fuzzed: Fuzzed) -> None:
    with fuzzed.server.client() as http:
        r = http.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.content == DOCUMENT.read_bytes()
    assert isinstance(httpx.Response(200, content=r.content).json()["paths"], dict)
