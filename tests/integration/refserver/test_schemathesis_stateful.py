"""The running reference server walked through its OpenAPI links (schemathesis's state machine).

Scenarios follow the document's links: a sign-in's tokens are the bearer of the session calls and
the body of a refresh, a listing's ids go to ``DELETE /sessions/{id}``, a captcha's id to the
sign-in, a ``session-limit`` answer's conflict token finishes the sign-in, lists, ends a listed
session or abandons. Every response must conform to the document and none may be 5xx.

The fuzzer knows what the protocol leaves to the user: generated credentials are mostly replaced
by a real account's (login ``seated``, one seat, so a second sign-in meets ``session-limit``),
and a captcha's answer is read from the server's log. Scenarios that start at an authenticated
call use a token of another account shared by the whole run; a call that would end that session
(``DELETE /sessions/current`` with it, or its own id) is given a spare session of its own
instead, so the run keeps reaching authenticated states. The test fails unless every
authenticated operation answered 2xx, also to a bearer a scenario signed in for itself.
"""

from __future__ import annotations

import contextlib
import zlib
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine.errors import is_inconsistent_replay
from schemathesis.generation.stateful.state_machine import APIStateMachine, RecordingStateMachine

from tests.support.refserver import RefServer

pytestmark = pytest.mark.integration

CLIENT = {"device": "fuzz", "software": "schemathesis-stateful", "version": "4"}
DOCUMENT = Path(str(resources.files("vms_tray") / "data" / "openapi.json"))
PASSWORD = "fuzz-pw"
SHARED = "fuzzer"  # no seat limit: the shared bearer and the spares
SEATED = "seated"  # one seat: the account the scenarios sign in to

# Enough that every authenticated operation is reached with a scenario's own bearer: at 60 the
# v1.1 schema (new optional members change the generated data) reached GET /sessions only with
# the shared one. At 90 one loaded CI run met no session-limit conflict (a second right-password
# sign-in in one scenario; which links are open depends on timing): at 150, here, 9 conflicts,
# 8 refreshes and at least 16 answers to a scenario's own bearer per operation, in ~16 s.
SCENARIOS = 150
STEPS = 12
ATTEMPTS = 20
SCENARIO_GAP = 61  # seconds of server time between scenarios

Case: TypeAlias = schemathesis.Case[Any]  # the operation type does not matter here

# Operations that take a bearer, as "METHOD path".
AUTHENTICATED = (
    "GET /api/v1/sessions",
    "GET /api/v1/sessions/current",
    "DELETE /api/v1/sessions/current",
    "DELETE /api/v1/sessions/{id}",
)

# A separate schema object: building the state machine adds inferred links to it.
# The events stream (protocol v1.1) answers a valid bearer with a stream that lasts until the
# session ends: a fuzzer would wait on it for good. tests/integration/refserver/test_stream.py
# drives it with a real client instead.
schema = schemathesis.openapi.from_path(DOCUMENT).exclude(path="/api/v1/events")


class Accounts:
    """The server, a requests session trusting it, the shared bearer and spare sessions.

    Every sign-in made here sends the login's device token, so the failures fuzzing causes at
    this address (throttle, captcha, ceilings) never stop it.
    """

    def __init__(self, server: RefServer) -> None:
        self.server = server
        self.base_url = server.url
        self.http = requests.Session()
        self.http.verify = str(server.cert_pem_path)
        self.http.trust_env = False  # else REQUESTS_CA_BUNDLE overrides verify, proxies apply
        self.devices: dict[str, str] = {}
        self.spares = 0
        self.shared, self.shared_id = self.sign_in(SHARED)
        self.sign_out(self.sign_in(SEATED)[0])  # only for its device token

    def sign_in(self, login: str) -> tuple[str, str]:
        body: dict[str, Any] = {"login": login, "password": PASSWORD, "client": CLIENT}
        if login in self.devices:
            body["device_token"] = self.devices[login]
        r = self.http.post(f"{self.base_url}/api/v1/sessions", json=body, timeout=10)
        assert r.status_code == 201, r.text
        answer = r.json()
        self.devices[login] = answer["device_token"]
        return str(answer["access_token"]), str(answer["session_id"])

    def spare(self) -> tuple[str, str]:
        """A fresh session of the shared account, to be ended instead of the shared one."""
        self.spares += 1
        return self.sign_in(SHARED)

    def sign_out(self, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{self.base_url}/api/v1/sessions/current"
        assert self.http.delete(url, headers=headers, timeout=10).status_code == 204


class Workflow(RecordingStateMachine):
    """Hooks mixed into the generated state machine (see ``machine``)."""

    accounts: ClassVar[Accounts]
    # (operation, status) over the whole run, and the 2xx answers of authenticated operations
    # to a bearer the scenario signed in for itself (not the shared one nor a spare).
    seen: ClassVar[Counter[tuple[str, int]]] = Counter()
    own_2xx: ClassVar[Counter[str]] = Counter()
    conflicts_finished: ClassVar[int] = 0
    finished: ClassVar[int] = 0
    failures: ClassVar[list[str]] = []

    def setup(self) -> None:
        self.bodies: dict[str, Any] = {}  # case id -> JSON answer
        self.bearers: dict[str, str] = {}  # case id -> bearer sent
        self.opened: dict[str, str] = {}  # session id -> a token of it (signed out at teardown)
        self.own: set[str] = set()  # bearers this scenario was given by the server

    def teardown(self) -> None:
        # Free the seat for the next scenario; any token of a session signs it out, idempotently.
        for token in self.opened.values():
            self.accounts.sign_out(token)
        # A minute passes between scenarios: captcha and throttle windows move on.
        self.accounts.server.advance_clock(SCENARIO_GAP)
        Workflow.finished += 1

    # --- requests -------------------------------------------------------------------------------

    def get_call_kwargs(self, case: Case) -> dict[str, Any]:
        a = self.accounts
        kwargs: dict[str, Any] = {
            "base_url": a.base_url,
            "session": a.http,
            "verify": a.http.verify,
        }
        if case.id in self.bearers:
            # Given explicitly (as call_and_validate's headers), so the auth check knows it valid.
            kwargs["headers"] = {"Authorization": f"Bearer {self.bearers[case.id]}"}
        return kwargs

    def before_call(self, case: Case) -> None:
        label = f"{case.method.upper()} {case.operation.path}"
        if label == "POST /api/v1/sessions":
            self._credentials(case)
            if case.meta is not None and isinstance(case.body, dict):
                # Judge the body that is sent: schemathesis keeps its generated (typed) form and
                # judged a sign-in whose login it had made an object, but which went out with
                # the real login, as schema-violating data the server wrongly accepted (one run
                # in many). Without the snapshot it validates what is sent.
                case.meta.raw_containers.pop(ParameterLocation.BODY, None)
                case.meta.mark_dirty(ParameterLocation.BODY)
        if label in AUTHENTICATED:
            bearer = self._bearer_for(case)
            if bearer == self.accounts.shared:
                bearer = self._spare_instead(case, label)
            self.bearers[case.id] = bearer

    def _parent(self, case: Case) -> str | None:
        node = self.recorder.cases.get(case.id)
        return None if node is None else node.parent_id

    def _bearer_for(self, case: Case) -> str:
        """The token the link hands on: a sign-in's or refresh's access token, a session-limit
        answer's conflict token, or the bearer of the listing the id came from."""
        parent = self._parent(case)
        if parent is not None:
            body = self.bodies.get(parent)
            if isinstance(body, dict):
                for key in ("access_token", "conflict_token"):
                    if isinstance(body.get(key), str):
                        return str(body[key])
            if parent in self.bearers:
                return self.bearers[parent]
        return self.accounts.shared

    def _spare_instead(self, case: Case, label: str) -> str:
        """The shared bearer, unless this call would end the shared session: then a spare."""
        a = self.accounts
        ends_shared = label == "DELETE /api/v1/sessions/current" or (
            label == "DELETE /api/v1/sessions/{id}"
            and (case.path_parameters or {}).get("id") == a.shared_id
        )
        if not ends_shared:
            return a.shared
        token, session_id = a.spare()
        if label == "DELETE /api/v1/sessions/{id}":
            case.path_parameters = {**(case.path_parameters or {}), "id": session_id}
        return token

    def _credentials(self, case: Case) -> None:
        """What users type. Three sign-ins in five get the real password (and the device's
        token), one the generated password for the real login (wrong: after two, that login
        needs a captcha at this address, after five it is throttled), one keeps the generated
        credentials; a sign-in that repeats one with a captcha keeps its credentials. A captcha
        is answered with what its picture says."""
        body = case.body
        if not isinstance(body, dict) or "conflict_token" in body or "login" not in body:
            return
        if body["login"] != SEATED:
            kind = zlib.crc32(repr(body["login"]).encode()) % 5
            if kind < 3:
                body["password"] = PASSWORD
                body["device_token"] = self.accounts.devices[SEATED]
            if kind < 4:
                body["login"] = SEATED
        captcha = body.get("captcha")
        captcha_id = captcha.get("id") if isinstance(captcha, dict) else None
        if isinstance(captcha, dict) and isinstance(captcha_id, str):
            with contextlib.suppress(KeyError):  # a generated id: no picture says anything
                captcha["answer"] = self.accounts.server.captcha_answer(captcha_id)

    # --- answers --------------------------------------------------------------------------------

    def after_call(self, response: schemathesis.Response, case: Case) -> None:
        super().after_call(response, case)
        label = f"{case.method.upper()} {case.operation.path}"
        status = response.status_code
        self.seen[label, status] += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        self.bodies[case.id] = body
        if isinstance(body, dict):
            for key in ("access_token", "conflict_token"):
                if isinstance(body.get(key), str):
                    self.own.add(body[key])
            if status in (200, 201) and isinstance(body.get("session_id"), str):
                self.opened.setdefault(body["session_id"], str(body["access_token"]))
        if status == 201 and isinstance(case.body, dict) and "conflict_token" in case.body:
            Workflow.conflicts_finished += 1
        if label in AUTHENTICATED and 200 <= status < 300 and self.bearers[case.id] in self.own:
            self.own_2xx[label] += 1

    def validate_response(
        self,
        response: schemathesis.Response,
        case: Case,
        additional_checks: list[schemathesis.CheckFunction] | None = None,
        **kwargs: Any,
    ) -> None:
        __tracebackhide__ = True
        label = f"{case.method.upper()} {case.operation.path}"
        try:
            case.validate_response(
                response,
                additional_checks=additional_checks,
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )
            assert response.status_code < 500, f"{label} answered {response.status_code}"
        except BaseException as exc:
            # Kept here too: a run restarted after inconsistent data must not hide a failure.
            Workflow.failures.append(f"{label}: {exc}")
            raise


def machine() -> type[APIStateMachine]:
    generated = schema.as_state_machine()
    return type("RefServerWorkflow", (Workflow, generated), {})


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Accounts]:
    server = RefServer.start(
        tmp_path_factory.mktemp("stateful"),
        captcha="after-failures",
        max_sessions=0,  # no limit
        # The clock moves a minute a scenario: the shared token must outlive the run.
        access_ttl=86400,
        idle_timeout=86400,
        users={SHARED: PASSWORD, SEATED: PASSWORD},
        user_limits={SEATED: 1},
    )
    try:
        accounts = Accounts(server)
        yield accounts
        accounts.http.close()
    finally:
        assert server.stop() == 0


def run_scenarios() -> int:
    """Run the state machine until ``SCENARIOS`` scenarios finished; returns the restarts.

    The server's answers decide which links can be followed, and they depend on its state
    (seats, throttles, captchas) and on schemathesis's own coin flips. When a run's choices
    lead elsewhere than a choice recorded earlier, Hypothesis stops with an inconsistent-data
    error; like schemathesis's own runner, that run then counts as done and the next one (the
    next seed) continues with the scenarios still due. A check failure is never retried.
    """
    restarts = 0
    for attempt in range(ATTEMPTS):
        due = SCENARIOS - Workflow.finished
        if due <= 0:
            break
        workflow = seed(attempt)(machine())
        try:
            workflow.run(
                settings=settings(
                    max_examples=due,
                    stateful_step_count=STEPS,
                    database=None,
                    deadline=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
            )
        except FlakyStrategyDefinition:
            if Workflow.failures:
                raise
            restarts += 1
        except AssertionError as exc:
            if Workflow.failures or not is_inconsistent_replay(exc):
                raise
            restarts += 1
        else:
            break
    return restarts


def test_links_lead_to_authenticated_states(accounts: Accounts) -> None:
    Workflow.accounts = accounts
    Workflow.seen.clear()
    Workflow.own_2xx.clear()
    Workflow.finished = Workflow.conflicts_finished = 0
    Workflow.failures.clear()
    restarts = run_scenarios()
    assert not Workflow.failures
    seen, own = Workflow.seen, Workflow.own_2xx
    report = ", ".join(f"{op} {status}: {n}" for (op, status), n in sorted(seen.items()))
    print(
        f"\n{Workflow.finished} scenarios ({restarts} restarts), {sum(seen.values())} calls,"
        f" {accounts.spares} spares"
    )
    print(report)
    print("2xx to the scenarios' own bearers:", dict(own))
    print("sign-ins finished with a conflict token:", Workflow.conflicts_finished)
    for op in AUTHENTICATED:
        ok = sum(n for (label, status), n in seen.items() if label == op and 200 <= status < 300)
        assert ok > 0, f"{op} never answered 2xx: {report}"
        assert own[op] > 0, f"{op} never answered 2xx to a scenario's own bearer: {report}"
    assert seen["POST /api/v1/sessions", 409] > 0, f"no session-limit conflict was met: {report}"
    assert seen["POST /api/v1/sessions/refresh", 200] > 0, f"no refresh succeeded: {report}"
    # The shared bearer outlived the run.
    with accounts.server.client() as http:
        r = http.get(
            "/api/v1/sessions/current", headers={"Authorization": f"Bearer {accounts.shared}"}
        )
    assert r.status_code == 200, r.text
