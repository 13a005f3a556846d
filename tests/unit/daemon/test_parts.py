"""The CLI's words after a sign-out (vms_tray/cli/daemon.py), kept here until cli/ has a
test_daemon.py of its own."""

from __future__ import annotations


def test_signed_out_text_follows_what_the_server_can_free() -> None:
    from vms_tray.cli.daemon import signed_out_text

    assert signed_out_text({"server": "HQ", "sign_out_frees_seat": True}) == (
        "Signed out of HQ; its session seat is free."
    )
    zm = signed_out_text({"server": "zm", "sign_out_frees_seat": False})
    assert "Nothing is freed on the server" in zm and "valid until it expires" in zm
    assert "seat is free" not in zm
