"""The tray as a pure function of the snapshot: icon, tooltip, status and menu for every state."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from vms_tray import i18n
from vms_tray.assets import IconName
from vms_tray.session.snapshot import Failure, FailureKind, ServerChoice, Snapshot, State
from vms_tray.tray.view import (
    TOOLTIP_MAX,
    Intent,
    MenuEntry,
    build_view,
    icon_for,
    status_intent,
    status_text,
    tooltip_text,
)

SERVERS = (ServerChoice("HQ", True, "native"), ServerChoice("Branch", False, "zoneminder"))


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.install("en")


def snap(state: State = State.SIGNED_IN, **kw: object) -> Snapshot:
    base: dict[str, object] = {
        "server": "HQ",
        "login": "operator",
        "sessions_in_use": 3,
        "max_sessions": 5,
        "servers": SERVERS,
    }
    base.update(kw)
    return Snapshot(state=state, **base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "kw", "icon"),
    [
        (State.SIGNED_OUT, {}, IconName.SIGNED_OUT),
        (State.ENDED, {}, IconName.SIGNED_OUT),
        (State.SIGNING_IN, {}, IconName.CONNECTING),
        (State.CAPTCHA_REQUIRED, {}, IconName.CONNECTING),
        (State.SIGNED_IN, {}, IconName.SIGNED_IN),
        (State.SIGNED_IN, {"sessions_in_use": 4}, IconName.NEAR_LIMIT),
        (State.SIGNED_IN, {"sessions_in_use": 5}, IconName.SIGNED_IN_FULL),
        (State.SIGNED_IN, {"warn_margin": 2}, IconName.NEAR_LIMIT),
        (State.SIGNED_IN, {"max_sessions": None}, IconName.SIGNED_IN),
        (State.LIMIT_REACHED, {}, IconName.LIMIT_REACHED),
        (State.RECONNECTING, {}, IconName.OFFLINE),
        (State.ERROR, {"error": Failure(FailureKind.OTHER, "boom")}, IconName.ERROR),
    ],
)
def test_icon_per_state(state: State, kw: dict[str, object], icon: IconName) -> None:
    assert icon_for(snap(state, **kw)) is icon
    assert build_view(snap(state, **kw)).icon is icon


def test_blocked_at_the_limit_and_signed_in_full_are_different_icons() -> None:
    full = Snapshot(state=State.SIGNED_IN, sessions_in_use=3, max_sessions=3)
    blocked = Snapshot(state=State.LIMIT_REACHED, sessions_in_use=3, max_sessions=3)
    assert icon_for(full) is IconName.SIGNED_IN_FULL
    assert icon_for(blocked) is IconName.LIMIT_REACHED


def test_tooltip_names_server_login_and_seats() -> None:
    assert tooltip_text(snap()) == "vms-tray\nServer: HQ\nLogin: operator\n3 of 5 sessions"


def test_tooltip_without_a_limit_and_when_signed_out() -> None:
    assert "3 sessions" in tooltip_text(snap(max_sessions=None))
    out = tooltip_text(Snapshot())
    assert out == "vms-tray\nSigned out"


def test_tooltip_reconnecting_says_so() -> None:
    text = tooltip_text(snap(State.RECONNECTING))
    assert "HQ is unreachable — retrying" in text and "3 of 5 sessions" in text


def test_tooltip_is_capped_for_windows() -> None:
    long = snap(server="S" * 200)
    text = tooltip_text(long)
    assert len(text) == TOOLTIP_MAX and text.endswith("…")


def keys(view_menu: object) -> list[str]:
    return [e.key for e in view_menu]  # type: ignore[attr-defined]


def test_signed_in_menu_layout() -> None:
    view = build_view(snap(), autostart=True)
    assert keys(view.menu) == [
        "status",
        "-",
        "sign_out",
        "label",
        "sessions",
        "-",
        "toggle_autostart",
        "open_log",
        "about",
        "-",
        "quit",
    ]
    status = view.menu[0]
    assert status.text == "Signed in to HQ as operator (3 of 5 sessions)"
    assert status.default
    servers = view.menu[3]
    assert servers.text == "Servers"
    radios = [c for c in servers.children if c.radio]
    assert [(c.text, c.checked, c.arg) for c in radios] == [
        ("HQ", True, "HQ"),
        ("Branch", False, "Branch"),
    ]
    assert servers.children[-1].intent is Intent.MANAGE_SERVERS
    assert view.find("sessions") is not None and view.find("sessions").enabled  # type: ignore[union-attr]
    assert view.find("toggle_autostart").checked is True  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("state", "kw", "key", "text"),
    [
        (State.SIGNED_OUT, {}, "sign_in", "Sign in…"),
        (State.ERROR, {"error": Failure(FailureKind.OTHER, "x")}, "sign_in", "Sign in…"),
        (State.SIGNING_IN, {}, "sign_out", "Sign out"),
        (State.CAPTCHA_REQUIRED, {}, "captcha", "Enter captcha…"),
        (State.LIMIT_REACHED, {}, "resolve_limit", "Free a session…"),
        (State.LIMIT_REACHED, {"waiting_for_seat": True}, "cancel_wait", "Stop waiting"),
        (State.RECONNECTING, {}, "sign_out", "Sign out"),
        (
            State.SIGNED_IN,
            {"sign_out_frees_seat": False},  # ZoneMinder
            "sign_out",
            "Sign out (frees nothing: the token stays valid until it expires)",
        ),
    ],
)
def test_sign_entry_follows_state(state: State, kw: dict[str, object], key: str, text: str) -> None:
    entry = build_view(snap(state, **kw)).menu[2]
    assert (entry.key, entry.text) == (key, text)


def test_sessions_item_is_disabled_when_it_cannot_work() -> None:
    assert not build_view(snap(State.SIGNED_OUT)).find("sessions").enabled  # type: ignore[union-attr]
    assert not build_view(snap(can_list_sessions=False)).find("sessions").enabled  # type: ignore[union-attr]
    assert build_view(snap(State.LIMIT_REACHED)).find("sessions").enabled  # type: ignore[union-attr]


def test_autostart_unavailable_greys_the_item() -> None:
    item = build_view(snap(), autostart_available=False).find("toggle_autostart")
    assert item is not None and not item.enabled and item.checked is False


def test_current_server_defaults_to_the_default_connection() -> None:
    view = build_view(snap(State.SIGNED_OUT, server=None))
    assert view.find("switch_server:HQ").checked  # type: ignore[union-attr]
    assert not view.find("switch_server:Branch").checked  # type: ignore[union-attr]


def test_no_servers_still_offers_manage() -> None:
    servers = build_view(Snapshot()).find("label")
    assert servers is not None and [c.key for c in servers.children] == ["manage_servers"]


@pytest.mark.parametrize(
    ("state", "kw", "intent"),
    [
        (State.SIGNED_OUT, {}, Intent.SIGN_IN),
        (State.ENDED, {}, Intent.SIGN_IN),
        (State.ERROR, {}, Intent.SIGN_IN),
        (State.CAPTCHA_REQUIRED, {}, Intent.CAPTCHA),
        (State.LIMIT_REACHED, {}, Intent.RESOLVE_LIMIT),
        (State.SIGNED_IN, {}, Intent.SESSIONS),
        (State.SIGNED_IN, {"can_list_sessions": False}, Intent.ABOUT),
        (State.SIGNING_IN, {}, Intent.ABOUT),
    ],
)
def test_left_click_intent(state: State, kw: dict[str, object], intent: Intent) -> None:
    assert status_intent(snap(state, **kw)) is intent


def test_ended_names_the_device() -> None:
    view = build_view(snap(State.ENDED, ended_by="OPS-PC-12 (vms-tray 1.0)"))
    assert view.status == "Session ended from OPS-PC-12 (vms-tray 1.0)"


def test_russian_strings_and_plurals() -> None:
    i18n.install("ru")
    try:
        view = build_view(snap(sessions_in_use=2, max_sessions=21))
        assert view.menu[-1].text == "Выход"
        assert "2 из 21 сеанса" in view.tooltip
        assert "3 из 5 сеансов" in build_view(snap()).tooltip
    finally:
        i18n.install("en")


def test_view_does_not_import_pystray() -> None:
    code = (
        "import sys, vms_tray.tray.view, vms_tray.tray.app;"
        "print('pystray' in sys.modules, 'tkinter' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.split() == ["False", "False"]


def test_reconnecting_after_a_certificate_change_says_so_not_unreachable() -> None:
    changed = Failure(FailureKind.CHANGED, "the certificate of HQ is not the pinned one")
    snap = Snapshot(state=State.RECONNECTING, server="HQ", login="op", error=changed)
    assert status_text(snap) == "HQ: certificate not trusted — retrying"
    down = Failure(FailureKind.UNREACHABLE, "cannot reach HQ")
    assert status_text(Snapshot(state=State.RECONNECTING, server="HQ", error=down)) == (
        "HQ is unreachable — retrying"
    )


def test_a_learnt_limit_says_since_when_in_the_tooltip() -> None:
    """Issue 11: AIPIX states its limit only in a 419; the tooltip says how old it is."""
    seen = datetime(2026, 5, 12, 12, tzinfo=UTC)
    snap = Snapshot(
        state=State.SIGNED_IN,
        server="HQ",
        login="op",
        sessions_in_use=3,
        max_sessions=4,
        limit_as_of=seen,
    )
    assert "3 sessions in use (limit 4, as of 2026-05-12)" in tooltip_text(snap)
    fresh = Snapshot(state=State.SIGNED_IN, server="HQ", sessions_in_use=3, max_sessions=4)
    assert "as of" not in tooltip_text(fresh)


def test_a_handover_asked_of_this_session_shows_who_when_and_the_release() -> None:
    deadline = datetime(2026, 12, 2, 10, 1, 0, tzinfo=UTC)
    s = snap(handover_deadline=deadline, handover_by="OPS-PC-13")
    view = build_view(s)
    shown = deadline.astimezone().strftime("%H:%M:%S")
    assert view.status == f"OPS-PC-13 needs this seat: it ends at {shown}"
    assert view.status in view.tooltip
    assert view.find("sign_out") == MenuEntry("Release this seat now", Intent.SIGN_OUT)
    assert view.icon is IconName.SIGNED_IN_FULL


def test_waiting_in_the_servers_queue_shows_the_place_in_line() -> None:
    s = snap(State.LIMIT_REACHED, waiting_for_seat=True, queue_position=2)
    assert status_text(s) == "Waiting for a free session on HQ: number 2 in line…"


def test_waiting_for_a_handover_we_asked_names_the_holder_and_the_time() -> None:
    until = datetime(2026, 12, 2, 17, 5, 12, tzinfo=UTC)
    s = snap(
        State.LIMIT_REACHED,
        waiting_for_seat=True,
        queue_position=1,
        handover_asked_until=until,
        handover_asked_of="OPS-PC-12",
    )
    local = until.astimezone().strftime("%H:%M:%S")
    assert status_text(s) == f"Waiting for OPS-PC-12 to hand over its seat (by {local})…"


def test_a_forced_start_at_login_is_ticked_and_greyed_out() -> None:
    from vms_tray.session.snapshot import Snapshot

    entry = build_view(Snapshot(), autostart=False, autostart_forced=True).find("toggle_autostart")
    assert entry is not None and entry.checked is True and not entry.enabled
    plain = build_view(Snapshot(), autostart=False).find("toggle_autostart")
    assert plain is not None and plain.enabled and plain.checked is False
