"""The dialog journeys: what the sign-in (and switch), captcha and sessions dialogs show, what
the user's actions in them run on the daemon, and what follows (close, turn into another
dialog, or the error inline). Driven through the tray's intents, as the menu drives them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.unit.tray.fakes import (
    SERVERS,
    SIGNED_IN,
    FakeDaemon,
    FakeLauncher,
    World,
    session_entry,
)
from vms_tray import commands
from vms_tray.connections.store import ConnectionStore
from vms_tray.errors import CredentialError, NetworkError
from vms_tray.session.records import Captcha, Limit, SessionList
from vms_tray.session.snapshot import Failure, FailureKind, Snapshot, State
from vms_tray.tray.app import TrayApp
from vms_tray.tray.view import Intent

WRONG = Failure(FailureKind.CREDENTIALS, "wrong login or password")


def _submit_login(launcher: FakeLauncher, **fields: Any) -> None:
    """The user presses "Sign in" in the (live) sign-in dialog."""
    _req, _ans, on_event = launcher.last("login")
    on_event({"event": "submit", "server": "HQ", "login": "op", "password": "pw", **fields})


def test_sign_in_dialog_runs_the_sign_in_and_closes_when_signed_in(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    daemon.push(Snapshot(state=State.SIGNED_OUT, servers=SERVERS))
    app.on_intent(Intent.STATUS)  # left click while signed out
    assert app.drain()
    request, _ans, _ev = launcher.last("login")
    assert [s["name"] for s in request["servers"]] == ["HQ"]
    assert request["language"] == "en" and request["live"] is True
    daemon.results[commands.SignIn] = SIGNED_IN
    _submit_login(launcher, remember=True)
    assert app.drain()
    assert daemon.executed == [
        commands.SignIn(server="HQ", login="op", password="pw", remember=True)
    ]
    # The password never shows in a logged command.
    assert "pw" not in repr(daemon.executed[0])
    assert launcher.handles["login"].closed


def test_a_wrong_password_keeps_the_dialog_open_with_the_error_each_time(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.push(Snapshot(state=State.SIGNED_OUT, server="HQ", servers=SERVERS))
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    wrong = Snapshot(state=State.ERROR, server="HQ", error=WRONG)
    daemon.results[commands.SignIn] = wrong
    for _ in range(2):  # the second time too: the same error, the same open dialog
        _submit_login(launcher, password="bad")
        assert app.drain()
    handle = launcher.handles["login"]
    assert not handle.closed
    assert [u["error"]["kind"] for u in handle.updates] == ["credentials", "credentials"]
    assert [n for n, *_ in launcher.opened] == ["login"]
    # The dialog shows the error: the "sign-in failed" notice is taken back, not left behind.
    assert daemon.notifier.withdrawn == ["sign_in", "sign_in"]


def test_a_click_after_a_failure_opens_the_dialog_with_the_error(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.push(Snapshot(state=State.ERROR, server="HQ", error=WRONG))
    app.on_intent(Intent.STATUS)
    assert app.drain()
    request, _a2, _e = launcher.last("login")
    assert request["error"]["kind"] == "credentials"


def test_a_refused_sign_in_shows_its_message_inline(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    daemon.results[commands.SignIn] = CredentialError("no password stored for HQ")
    _submit_login(launcher, password=None)
    assert app.drain()
    assert launcher.handles["login"].updates[-1]["error"]["kind"] == "credentials"


def test_trusting_a_certificate_pins_it_in_the_config(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    fp = ":".join(["AB"] * 32)
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    _submit_login(launcher, trust_fingerprint=fp)
    assert app.drain()
    conn = ConnectionStore().load().get("HQ")
    assert conn.trust.mode == "pinned" and conn.trust.pin_sha256 == fp
    assert daemon.posted[0] == commands.ReloadConfig()
    assert isinstance(daemon.executed[0], commands.SignIn)


def test_switching_without_a_stored_password_asks_first_and_cancel_changes_nothing(
    world: World,
) -> None:
    app, daemon, _i, launcher, _a = world
    app.on_intent(Intent.SWITCH_SERVER, "Branch")
    assert app.drain()
    request, on_answer, _e = launcher.last("login")
    assert request["server"] == "Branch"
    assert request["switching_from"] == "HQ"  # the dialog says the HQ session would end
    on_answer({"action": "cancel"})
    assert app.drain()
    assert daemon.posted == [] and daemon.executed == []


def test_switching_without_a_stored_password_signs_in_with_what_was_typed(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    app.on_intent(Intent.SWITCH_SERVER, "Branch")
    assert app.drain()
    daemon.results[commands.SignIn] = replace(SIGNED_IN, server="Branch")
    _submit_login(launcher, server="Branch", login="guard")
    assert app.drain()
    assert daemon.executed == [commands.SignIn(server="Branch", login="guard", password="pw")]
    assert launcher.handles["login"].closed


def test_switching_with_a_stored_password_switches_and_a_failure_opens_the_dialog(
    world: World,
) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.passwords.add("Branch")
    daemon.results[commands.SwitchServer] = Snapshot(
        state=State.ERROR, server="Branch", error=WRONG
    )
    app.on_intent(Intent.SWITCH_SERVER, "Branch")
    assert app.drain()
    assert daemon.executed == [commands.SwitchServer("Branch")]
    request, _a2, _e = launcher.last("login")
    assert request["server"] == "Branch" and request["error"]["kind"] == "credentials"


def _captcha_world(world: World) -> tuple[TrayApp, FakeDaemon, FakeLauncher]:
    app, daemon, _i, launcher, _a = world
    daemon.captcha_value = Captcha("c1", b"\x89PNG-1", 60)
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    daemon.results[commands.SignIn] = Snapshot(
        state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c1", captcha_reason="required"
    )
    _submit_login(launcher)
    assert app.drain()
    assert launcher.handles["login"].closed, "the sign-in dialog turned into the captcha"
    return app, daemon, launcher


def test_a_captcha_demand_turns_the_sign_in_into_the_captcha_dialog(world: World) -> None:
    _app, _daemon, launcher = _captcha_world(world)
    request, _ans, _ev = launcher.last("captcha")
    assert request["expires_in"] == 60 and request["live"] is True
    assert request["error"] is None


def test_a_wrong_captcha_answer_shows_a_new_picture_and_says_why(world: World) -> None:
    app, daemon, launcher = _captcha_world(world)
    _req, _ans, on_event = launcher.last("captcha")
    daemon.captcha_value = Captcha("c2", b"\x89PNG-2", 60)
    daemon.results[commands.AnswerCaptcha] = Snapshot(
        state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c2", captcha_reason="invalid"
    )
    on_event({"event": "answer", "answer": "WRONG"})
    assert app.drain()
    assert daemon.executed[-1] == commands.AnswerCaptcha("WRONG")
    update = launcher.handles["captcha"].updates[-1]
    assert update["error"] == "Wrong characters, try the new picture."
    assert update["image_png_b64"]
    assert not launcher.handles["captcha"].closed
    daemon.results[commands.AnswerCaptcha] = SIGNED_IN
    on_event({"event": "answer", "answer": "K7WQ2"})
    assert app.drain()
    assert launcher.handles["captcha"].closed


def test_an_expired_captcha_answer_says_the_picture_expired(world: World) -> None:
    app, daemon, launcher = _captcha_world(world)
    _req, _ans, on_event = launcher.last("captcha")
    daemon.captcha_value = Captcha("c2", b"\x89PNG-2", 60)
    daemon.results[commands.AnswerCaptcha] = Snapshot(
        state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c2", captcha_reason="expired"
    )
    on_event({"event": "answer", "answer": "LATE1"})
    assert app.drain()
    error = launcher.handles["captcha"].updates[-1]["error"]
    assert error == "That picture expired, type the characters of the new one."


def test_captcha_refresh_shows_the_new_picture_or_gives_refresh_back(world: World) -> None:
    app, daemon, launcher = _captcha_world(world)
    _req, _ans, on_event = launcher.last("captcha")
    daemon.captcha_value = Captcha("c2", b"\x89PNG-2", 60)
    # The snapshot does not change but for the captcha: the dialog must still get it.
    daemon.results[commands.RefreshCaptcha] = Snapshot(
        state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c2", captcha_reason="required"
    )
    on_event({"event": "refresh", "expired": False})
    assert app.drain()
    assert daemon.executed[-1] == commands.RefreshCaptcha()
    handle = launcher.handles["captcha"]
    assert handle.updates[-1]["image_png_b64"] and handle.updates[-1]["error"] is None
    daemon.results[commands.RefreshCaptcha] = NetworkError("HQ does not answer")
    on_event({"event": "refresh", "expired": True})
    assert app.drain()
    assert handle.updates[-1] == {"refresh_failed": True, "error": "HQ does not answer"}


def test_a_waiting_sign_in_that_meets_a_captcha_opens_the_captcha_dialog(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.captcha_value = Captcha("c1", b"\x89PNG-1", 60)
    daemon.push(Snapshot(state=State.LIMIT_REACHED, server="HQ", waiting_for_seat=True))
    daemon.push(Snapshot(state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c1"))
    assert app.drain()
    assert launcher.last("captcha")[0]["server"] == "HQ"


def test_limit_conflict_opens_sessions_and_end_or_wait_post_commands(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.session_value = SessionList(
        Limit("user", 2, 2), (session_entry("a", True), session_entry("b"))
    )
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    daemon.results[commands.SignIn] = Snapshot(
        state=State.LIMIT_REACHED, server="HQ", sessions_in_use=2, max_sessions=2
    )
    _submit_login(launcher)
    assert app.drain()
    assert launcher.handles["login"].closed
    request, on_answer, _e = launcher.last("sessions")
    assert request["conflict"] is True and request["max"] == 2
    assert [s["id"] for s in request["sessions"]] == ["a", "b"]
    assert request["sessions"][0]["started_at"] == "2026-11-27T08:00:00Z"
    on_answer({"action": "end", "session_id": "b"})
    on_answer({"action": "wait"})
    assert daemon.posted[-2:] == [commands.EndSession("b"), commands.WaitForSeat()]


def test_forbid_remember_password_greys_the_box_and_no_sign_in_remembers(
    world: World, isolated_profile: Path
) -> None:
    app, daemon, _i, launcher, _a = world
    policy = isolated_profile / "system" / "policy.toml"
    policy.parent.mkdir(parents=True)
    policy.write_text("forbid_remember_password = true\n", encoding="utf-8")
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    daemon.push(Snapshot(state=State.SIGNED_OUT, servers=SERVERS))
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    request, _ans, _ev = launcher.last("login")
    assert request["remember_forbidden"] == str(policy)
    daemon.results[commands.SignIn] = SIGNED_IN
    _submit_login(launcher, remember=True)  # an older dialog that still offers the box
    assert app.drain()
    assert daemon.executed == [
        commands.SignIn(server="HQ", login="op", password="pw", remember=False)
    ]
