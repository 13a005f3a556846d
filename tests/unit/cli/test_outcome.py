"""How the CLI words the end of a sign-in: each thing said once."""

from __future__ import annotations

import pytest

from vms_tray.cli.daemon import _outcome


def test_a_sign_in_that_meets_an_outage_says_once_that_vms_tray_retries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = "HQ did not answer within 15 s: the server is slow or down; vms-tray will retry"
    code = _outcome({"state": "reconnecting", "server": "HQ", "last_error": error})
    out = capsys.readouterr().out.strip()
    assert code == 1
    assert out == "HQ did not answer within 15 s: the server is slow or down; vms-tray will retry."
    assert out.count("retry") + out.count("keeps trying") == 1


def test_without_a_message_the_outage_is_still_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert _outcome({"state": "reconnecting", "server": "HQ", "last_error": None}) == 1
    assert capsys.readouterr().out.strip() == "HQ does not answer; vms-tray keeps trying."
