"""kinds/base: what a ServerKind does before a kind overrides anything: the optional operations
say the kind cannot do them (naming the kind), and the client closes as a context manager."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vms_tray.errors import Unsupported
from vms_tray.kinds.base import Capabilities, ClientInfo, ServerKind
from vms_tray.session.records import (
    CaptchaAnswer,
    ServerInfo,
    SignInOutcome,
    Tokens,
)

CLIENT = ClientInfo("laptop", "vms-tray", "0.1.0")


class MinimalKind(ServerKind):
    """Only the abstract methods: every optional operation is the base class's."""

    kind = "minimal"
    capabilities = Capabilities(
        list_sessions=False, end_sessions=False, captcha=False, session_limit=False
    )

    def __init__(self) -> None:
        self.closed = 0

    def server_info(self) -> ServerInfo:
        raise AssertionError("not called")

    def sign_in(
        self, login: str, password: str, client: ClientInfo, captcha: CaptchaAnswer | None = None
    ) -> SignInOutcome:
        raise AssertionError("not called")

    def refresh(self, tokens: Tokens) -> Tokens:
        raise AssertionError("not called")

    def check(self, tokens: Tokens) -> None:
        raise AssertionError("not called")

    def sign_out(self, tokens: Tokens) -> None:
        raise AssertionError("not called")

    def close(self) -> None:
        self.closed += 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.finish_sign_in("conf", CLIENT), "minimal servers have no session limit"),
        (lambda s: s.list_sessions("t"), "minimal servers do not report sessions"),
        (lambda s: s.current_session("t"), "minimal servers do not report sessions"),
        (lambda s: s.end_session("t", "s1"), "minimal servers cannot end sessions"),
        (lambda s: s.new_captcha(), "minimal servers do not use a captcha"),
        (lambda s: s.new_captcha(replaces="c1"), "minimal servers do not use a captcha"),
    ],
)
def test_optional_operations_are_unsupported_and_name_the_kind(
    call: Callable[[ServerKind], object], message: str
) -> None:
    with pytest.raises(Unsupported, match=f"^{message}"):
        call(MinimalKind())


def test_a_kind_is_its_own_context_manager_and_closes_on_exit() -> None:
    server = MinimalKind()
    with server as entered:
        assert entered is server
        assert server.closed == 0
    assert server.closed == 1


def test_it_closes_when_the_block_raises_and_lets_the_error_through() -> None:
    server = MinimalKind()
    with pytest.raises(KeyError), server:
        raise KeyError("boom")
    assert server.closed == 1


def test_a_kind_without_its_abstract_methods_cannot_be_made() -> None:
    class Half(ServerKind):
        kind = "half"
        capabilities = Capabilities()

    with pytest.raises(TypeError, match="abstract"):
        Half()  # type: ignore[abstract]


def test_capabilities_default_to_a_full_server_without_silent_reauth() -> None:
    caps = Capabilities()
    assert (
        caps.list_sessions,
        caps.end_sessions,
        caps.captcha,
        caps.session_limit,
        caps.server_side_sign_out,
        caps.silent_reauth,
    ) == (True, True, True, True, True, False)
