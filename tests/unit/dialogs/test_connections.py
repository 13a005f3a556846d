"""The server-list dialog's pure parts: the rules' messages, phrased for the dialog."""

from __future__ import annotations

import pytest

from vms_tray import i18n
from vms_tray.dialogs.connections import explain
from vms_tray.errors import DefaultProtected, DuplicateName, InvalidURL


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.install("en")


def test_rule_messages_are_phrased_for_the_dialog() -> None:
    assert "cannot be deleted" in explain(DefaultProtected("x"))
    assert "already exists" in explain(DuplicateName("x"))
    assert explain(InvalidURL("uses http://")) == "The address is not valid: uses http://"
