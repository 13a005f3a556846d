"""testing/kinds: the KindContract catches a kind that breaks it.

The contract runs (through pytest's ``pytester``, its fixtures and all) against NativeServer on
the unit tests' FakeV1, as tests/unit/kinds/test_contract.py runs it, and against copies of that
kind each broken in one promise: the good kind passes every test, and each broken one fails
exactly the test of the promise it breaks, nothing skipped.
"""

from __future__ import annotations

import inspect
import socket
import textwrap
from urllib.parse import urlsplit

import pytest

from vms_tray.testing.kinds import KindContract, unused_local_url

pytest_plugins = ["pytester"]

CONTRACT_TESTS = sorted(name for name in vars(KindContract) if name.startswith("test_"))

KINDS = textwrap.dedent(
    """
    from dataclasses import replace

    import httpx
    import pytest

    from tests.unit.kinds.fakes import FakeV1
    from vms_tray.connections.model import Connection
    from vms_tray.errors import InvalidCredentials
    from vms_tray.kinds.native import NativeServer
    from vms_tray.testing.kinds import KindContract, KindTarget


    def refusing():
        def refuse(request):
            raise httpx.ConnectError("connection refused", request=request)

        return httpx.MockTransport(refuse)


    class SignOutFreesNothing(NativeServer):
        def sign_out(self, tokens):
            pass  # yet capabilities.server_side_sign_out stays True


    class RefreshStartsAnotherSession(NativeServer):
        def refresh(self, tokens):
            return replace(super().refresh(tokens), session_id="another-session")


    class PasswordInTheError(NativeServer):
        def sign_in(self, login, password, client, captcha=None):
            try:
                return super().sign_in(login, password, client, captcha)
            except InvalidCredentials:
                raise InvalidCredentials(f"{login}/{password} was refused") from None


    class ClaimsNoCaptchaButDrawsOne(NativeServer):
        capabilities = replace(NativeServer.capabilities, captcha=False)


    def target(cls):
        fake = FakeV1(max_sessions=2)
        connection = Connection("fake", "https://vms.example.com", "operator")
        return KindTarget(
            connect=lambda: cls(connection, transport=fake.transport()),
            login="operator",
            password=fake.password,
            unreachable=lambda: cls(connection, transport=refusing()),
            seats=2,
        )


    class TestNativeServer(KindContract):
        @pytest.fixture
        def kind_target(self):
            return target(NativeServer)


    class TestSignOutFreesNothing(KindContract):
        @pytest.fixture
        def kind_target(self):
            return target(SignOutFreesNothing)


    class TestRefreshStartsAnotherSession(KindContract):
        @pytest.fixture
        def kind_target(self):
            return target(RefreshStartsAnotherSession)


    class TestPasswordInTheError(KindContract):
        @pytest.fixture
        def kind_target(self):
            return target(PasswordInTheError)


    class TestClaimsNoCaptchaButDrawsOne(KindContract):
        @pytest.fixture
        def kind_target(self):
            return target(ClaimsNoCaptchaButDrawsOne)
    """
)

# Each broken kind fails the test of the promise it breaks, and only that one.
BREAKS = {
    "TestSignOutFreesNothing": "test_sign_out_ends_the_session",
    "TestRefreshStartsAnotherSession": "test_refresh_keeps_the_session",
    "TestPasswordInTheError": "test_a_wrong_password_is_refused_and_changes_nothing",
    "TestClaimsNoCaptchaButDrawsOne": "test_a_new_captcha_is_a_picture",
}


def outcomes(pytester: pytest.Pytester, source: str) -> dict[str, dict[str, str]]:
    """class -> test -> outcome of the contract run in ``source`` (the worst phase wins)."""
    pytester.makepyfile(test_kinds_under_contract=source)
    reprec = pytester.inline_run("-p", "no:cacheprovider")
    seen: dict[str, dict[str, str]] = {}
    for report in reprec.getreports("pytest_runtest_logreport"):
        _module, cls, test = report.nodeid.split("::")
        by_test = seen.setdefault(cls, {})
        if by_test.get(test) in (None, "passed"):
            by_test[test] = report.outcome
    return seen


def test_the_contract_has_tests() -> None:
    assert len(CONTRACT_TESTS) >= 10
    assert all(inspect.isfunction(getattr(KindContract, name)) for name in CONTRACT_TESTS)


def test_a_kind_that_keeps_the_contract_passes_it_and_each_broken_one_fails_its_test(
    pytester: pytest.Pytester,
) -> None:
    seen = outcomes(pytester, KINDS)
    assert seen["TestNativeServer"] == dict.fromkeys(CONTRACT_TESTS, "passed")
    for cls, broken in BREAKS.items():
        expected = {**dict.fromkeys(CONTRACT_TESTS, "passed"), broken: "failed"}
        assert seen[cls] == expected, cls


def test_a_subclass_without_a_kind_target_fails_every_test_instead_of_skipping(
    pytester: pytest.Pytester,
) -> None:
    source = textwrap.dedent(
        """
        from vms_tray.testing.kinds import KindContract


        class TestForgotTheTarget(KindContract):
            pass
        """
    )
    seen = outcomes(pytester, source)
    assert seen == {"TestForgotTheTarget": dict.fromkeys(CONTRACT_TESTS, "failed")}


def test_an_unused_local_url_is_a_loopback_url_of_a_free_port() -> None:
    url = urlsplit(unused_local_url("http", "/zm"))
    assert (url.scheme, url.hostname, url.path) == ("http", "127.0.0.1", "/zm")
    assert url.port is not None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, pytest.raises(OSError):
        s.settimeout(2)
        s.connect(("127.0.0.1", url.port))
