"""The kinds contract as the ``aipix`` kind keeps it, and its clients of a simulator.

AIPIX answers every token it does not accept with the same 401 ("log out", note §1), so a
token it never issued cannot be told from one whose session was ended: the kind reports both
as ``SessionEnded`` (the daemon then says the session ended, which is what a 401 on the poll
means). The two contract tests that expect ``TokenExpired`` for never-issued material are
therefore run here with that one difference, and nothing else is changed.
"""

from __future__ import annotations

import pytest

from vms_tray.errors import AuthError, SessionEnded, TokenExpired
from vms_tray.kinds.base import ServerKind
from vms_tray.session.records import Tokens
from vms_tray.testing.kinds import KindContract

NEVER_ISSUED = "never-issued-0123456789abcdefghijklmnopqrstuvwxyz"


class AipixContract(KindContract):
    def test_refresh_material_it_never_issued_is_token_expired(self, server: ServerKind) -> None:
        with pytest.raises(SessionEnded):
            server.refresh(Tokens(NEVER_ISSUED, 60, refresh_token=NEVER_ISSUED + "-r"))
        with pytest.raises(TokenExpired):
            server.refresh(Tokens(NEVER_ISSUED, 60))  # no refresh material at all

    def test_a_token_it_never_issued_fails_the_check(self, server: ServerKind) -> None:
        with pytest.raises(AuthError) as info:
            server.check(Tokens(NEVER_ISSUED, 60))
        assert isinstance(info.value, SessionEnded | TokenExpired)
