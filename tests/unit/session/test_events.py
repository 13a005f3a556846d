"""The events the engine is fed: what an event says about itself."""

from __future__ import annotations

from tests.unit.session.helpers import other, wrong
from vms_tray.session import engine as E


def test_only_a_refused_password_counts_as_credentials() -> None:
    assert E.SignInRejected(wrong("refused")).credentials
    assert not E.SignInRejected(other("access denied")).credentials
