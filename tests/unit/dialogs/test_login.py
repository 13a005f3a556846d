"""The sign-in dialog's pure parts: the inline error for each kind of failure (the window is
tested in tests/desktop/dialogs/test_login.py)."""

from __future__ import annotations

import pytest

from vms_tray import i18n
from vms_tray.dialogs.login import _error_text, _sentence


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.install("en")


def test_wrong_credentials_show_the_server_words_once_as_a_sentence() -> None:
    error = {"kind": "credentials", "message": "HQ refused the login or password"}
    assert _error_text(error) == "HQ refused the login or password"
    lower = {"kind": "credentials", "message": "wrong login or password"}
    assert _error_text(lower) == "Wrong login or password"
    assert _error_text({"kind": "credentials"}) == "Wrong login or password."


def test_an_unreachable_server_adds_the_detail_on_its_own_line() -> None:
    plain = _error_text({"kind": "unreachable"})
    assert plain == "The server cannot be reached. Check the address and your network."
    detailed = _error_text({"kind": "unreachable", "message": "connection refused"})
    assert detailed == f"{plain}\nconnection refused"


def test_certificate_errors_ask_to_compare_the_fingerprint() -> None:
    assert "has changed since you trusted it" in _error_text({"kind": "changed", "message": "x"})
    untrusted = _error_text({"kind": "untrusted", "message": "certificate not trusted"})
    assert "is not trusted" in untrusted
    assert "fingerprint" in untrusted


def test_any_other_failure_shows_its_message_or_a_general_line() -> None:
    assert _error_text({"kind": "other", "message": "HQ said no"}) == "HQ said no"
    assert _error_text({}) == "Signing in failed."


@pytest.mark.parametrize(
    ("message", "sentence"), [("", ""), ("a", "A"), ("already Upper", "Already Upper")]
)
def test_sentence_capitalises_only_the_first_letter(message: str, sentence: str) -> None:
    assert _sentence(message) == sentence
