"""The daemon (its queue, worker thread and public API) on a fake clock and a synchronous
scheduler: hours of time, no sleeping; and what it does when a server or the user misbehaves."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from tests.support.components import wait_until
from tests.unit.daemon.fakes import (
    ANNEX,
    OFFICE,
    FakeClock,
    FakeServer,
    ReauthServer,
    Sim,
    World,
    error_text,
    signed_in_sim,
)
from vms_tray import commands as C
from vms_tray.daemon import notices
from vms_tray.errors import (
    CredentialError,
    EndedBy,
    EngineError,
    InvalidCredentials,
    ProxySettingError,
    ServerUnreachable,
    UnknownConnection,
)
from vms_tray.session.snapshot import State


def assert_alive(sim: Sim) -> None:
    """While signed in, the server must consider our access token valid right now."""
    if sim.daemon.snapshot().state is State.SIGNED_IN:
        ours = [s for s in sim.office.sessions.values() if s.device == "TEST-PC"]
        assert len(ours) == 1
        assert ours[0].refresh_exp > sim.clock.now()


def test_starts_signed_in_and_stays_alive_for_hours() -> None:
    sim = signed_in_sim()
    sim.advance(6 * 3600, each=lambda: assert_alive(sim))
    w = sim.office
    assert sim.state() == "signed_in"
    assert w.lapses == 0  # never used an expired access token
    assert w.calls.count("sign_in") == 1
    # Refresh at 50-70 % of a 300 s lifetime: 6 h / (150..210 s) ≈ 100..145 refreshes.
    assert 100 <= w.calls.count("refresh") <= 145
    # One poll a minute (the interval restarts after each poll).
    assert 340 <= w.calls.count("list_sessions") <= 361
    assert sim.notifier.notices == []
    snap = sim.daemon.snapshot()
    assert snap.sessions_in_use == 1 and snap.max_sessions == 3
    assert snap.expires_in is not None and 0 < snap.expires_in <= 300


def test_asks_for_password_when_none_is_stored() -> None:
    sim = Sim(passwords={})
    shown: list[str] = []
    sim.daemon.on_show(shown.append)
    sim.start()
    assert sim.state() == "signed_out"
    assert shown == ["sign_in"]
    assert sim.notifier.kinds() == ["needs_attention"]
    assert "vms-tray signin" in error_text(sim)
    sim.daemon.post(C.SignIn(password="pw", remember=True))
    sim.settle()
    assert sim.state() == "signed_in"
    assert sim.passwords.stored == {"office": "pw"}
    assert sim.connections.last == "office"


def test_one_warning_per_crossing_with_plain_numbers() -> None:
    sim = signed_in_sim()
    w = sim.office
    other = w.open("anna", "OPS-PC-12")
    sim.advance(600)
    assert [n.title for n in sim.notifier.notices] == ["office: 1 seat left"]
    assert [n.body for n in sim.notifier.notices] == ["2 of 3 sessions in use"]
    third = w.open("anna", "OPS-PC-13")
    sim.advance(600)
    assert sim.notifier.kinds() == ["near_limit", "limit_full"]
    assert sim.notifier.notices[-1].title == "office: all seats in use"
    assert {n.topic for n in sim.notifier.notices} == {"seats"}  # one replaces the other
    w.sessions.pop(third.id)
    w.sessions.pop(other.id)
    sim.advance(600)
    assert sim.notifier.kinds() == ["near_limit", "limit_full", "back_under"]
    assert sim.notifier.notices[-1].body == "1 of 3 sessions in use — 2 seats left"


def test_ended_elsewhere_names_the_device_and_does_not_sign_in_again() -> None:
    sim = signed_in_sim()
    w = sim.office
    w.open("anna", "OPS-PC-12")
    sim.advance(60)  # a poll sees OPS-PC-12 (and its version) before it ends our session
    ours = next(s for s in w.sessions.values() if s.device == "TEST-PC")
    w.end(ours.id, EndedBy("OPS-PC-12", "vms-tray"))  # the protocol names no version
    sim.advance(3600)
    assert sim.state() == "ended"
    assert sim.daemon.snapshot().ended_by == "OPS-PC-12 (vms-tray 1.0)"
    notice = sim.notifier.notices[-1]
    assert notice.body == "Your session was ended from OPS-PC-12 (vms-tray 1.0)"
    assert w.calls.count("sign_in") == 1  # no new sign-in by itself
    sim.daemon.post(C.SignIn())
    sim.settle()
    assert sim.state() == "signed_in"


def test_network_outage_keeps_session_with_capped_backoff_and_recovers() -> None:
    sim = signed_in_sim()
    w = sim.office
    w.down = True
    sim.advance(3600, step=1.0)
    assert sim.state() == "reconnecting"
    attempts = w.calls.count("list_sessions") + w.calls.count("refresh")
    # 2, 4, ... capped at 300 s with jitter: about 15-25 tries in an hour, not thousands.
    assert 12 <= attempts <= 40
    assert sim.notifier.kinds() == ["unreachable"]
    w.down = False
    sim.advance(400, step=1.0)
    assert sim.state() == "signed_in"
    assert w.calls.count("sign_in") == 1  # the session survived: no new sign-in
    assert sim.notifier.kinds() == ["unreachable", "back_online"]


def test_a_lost_refresh_reply_keeps_the_session() -> None:
    sim = signed_in_sim()
    w = sim.office
    w.lose_refresh_replies = 2  # the server rotates, twice, and the answers never arrive
    sim.advance(600, step=1.0)
    assert sim.state() == "signed_in"
    assert w.calls.count("sign_in") == 1 and len(w.sessions) == 1
    assert w.calls.count("refresh") >= 3 and w.lapses == 0
    assert "unreachable" in sim.notifier.kinds()


def test_retry_after_is_honoured() -> None:
    sim = signed_in_sim()
    w = sim.office
    w.busy = 120
    sim.advance(60)  # the next poll meets 503
    assert sim.state() == "reconnecting"
    count = len(w.calls)
    sim.advance(110, step=1.0)
    assert len(w.calls) == count  # nothing before Retry-After
    w.busy = None
    sim.advance(20, step=1.0)
    assert sim.state() == "signed_in"


def test_suspend_for_an_hour_then_catch_up_without_new_sign_in() -> None:
    sim = signed_in_sim()
    sim.advance(100)
    sim.clock.suspend(3600)  # wall and boot clocks move, monotonic does not
    sim.advance(30, step=1.0)
    assert sim.state() == "signed_in"
    w = sim.office
    assert w.calls.count("sign_in") == 1
    at_wake = w.lapses  # the access token expired during the suspend: renewed at wake-up
    assert at_wake >= 1
    sim.advance(3 * 3600, each=lambda: assert_alive(sim))
    assert sim.state() == "signed_in"
    assert w.lapses == at_wake  # and never again afterwards


def test_clock_set_back_an_hour_does_not_stall_keepalive() -> None:
    sim = signed_in_sim()
    sim.advance(100)
    before = sim.office.lapses
    sim.clock.set_wall(-3600)
    sim.advance(2 * 3600, each=lambda: assert_alive(sim))
    assert sim.state() == "signed_in"
    assert sim.office.lapses == before  # the token never lapsed
    assert sim.office.calls.count("sign_in") == 1


def test_without_heartbeat_a_clock_set_back_would_stall() -> None:
    """The control for the test above: the scheduler alone waits out the hour."""
    sim = signed_in_sim()
    sim.heartbeat_every = float("inf")
    sim.advance(100)
    sim.clock.set_wall(-3600)
    calls = len(sim.office.calls)
    sim.advance(1800)
    assert len(sim.office.calls) == calls


def test_silent_reauth_and_rejected_password() -> None:
    worlds = {"office": World(None), "annex": World(None)}  # type: ignore[arg-type]
    sim = Sim(worlds=worlds, server_class=ReauthServer)
    w = sim.office
    w.refresh_ttl = 1000
    sim.start()
    assert sim.state() == "signed_in"
    sim.advance(1500)
    assert sim.state() == "signed_in"
    assert w.calls.count("sign_in") == 2 and sim.notifier.notices == []
    assert "check" in w.calls and "list_sessions" not in w.calls
    w.passwords["anna"] = "changed"
    sim.advance(1500)
    assert sim.state() == "error"
    assert sim.notifier.kinds() == ["password_rejected"]


def test_limit_conflict_wait_then_signed_in_when_a_seat_frees() -> None:
    sim = Sim()
    w = sim.office
    others = [w.open("anna", f"PC-{i}") for i in range(3)]
    sim.start()
    assert sim.state() == "limit_reached"
    listing = sim.daemon.conflict_sessions()
    assert listing is not None and [s.device for s in listing.sessions] == ["PC-0", "PC-1", "PC-2"]
    assert [s.device for s in sim.daemon.sessions().sessions] == ["PC-0", "PC-1", "PC-2"]
    sim.daemon.post(C.WaitForSeat())
    sim.advance(600)
    assert sim.state() == "limit_reached" and sim.daemon.snapshot().waiting_for_seat
    tries = w.calls.count("sign_in")
    assert 16 <= tries <= 27  # every 30 s ± 20 %
    w.sessions.pop(others[1].id)
    sim.advance(40)
    assert sim.state() == "signed_in"
    # "A seat freed up" replaces "no free session"; the full account was news at the conflict.
    assert sim.notifier.kinds() == ["needs_attention", "info"]
    assert [n.topic for n in sim.notifier.notices] == ["sign_in", "sign_in"]


def test_limit_conflict_end_one_session() -> None:
    sim = Sim()
    w = sim.office
    others = [w.open("anna", f"PC-{i}") for i in range(3)]
    sim.start()
    sim.daemon.end_session(others[0].id)
    sim.settle()
    assert sim.state() == "signed_in"
    assert others[0].id not in w.sessions
    assert w.ended[others[0].access] == EndedBy("conflict", "vms-tray 0.1.0")


def test_switch_signs_out_first() -> None:
    sim = signed_in_sim(passwords={"office": "pw", "annex": "pw"})
    sim.daemon.post(C.SwitchServer("annex"))
    sim.settle()
    assert sim.state() == "signed_in"
    assert sim.daemon.snapshot().server == "annex"
    assert sim.office.sessions == {}
    assert sim.office.calls[-1] == "sign_out"
    assert len(sim.worlds["annex"].sessions) == 1
    with pytest.raises(UnknownConnection):
        sim.daemon.execute(C.SwitchServer("nowhere"))
    assert sim.state() == "signed_in"


def test_a_switch_without_a_password_keeps_the_working_session() -> None:
    sim = signed_in_sim(passwords={"office": "pw"})
    calls = len(sim.office.calls)
    with pytest.raises(CredentialError, match="no password stored for annex"):
        sim.daemon.execute(C.SwitchServer("annex"))
    assert sim.state() == "signed_in"
    assert sim.daemon.snapshot().server == "office"
    assert "sign_out" not in sim.office.calls[calls:]
    assert len(sim.office.sessions) == 1
    # With the password typed (the sign-in dialog), the switch goes ahead.
    sim.daemon.execute(C.SwitchServer("annex", password="pw"))
    assert sim.state() == "signed_in" and sim.daemon.snapshot().server == "annex"
    assert sim.office.sessions == {}


def test_a_switch_to_a_server_that_does_not_answer_keeps_the_working_session() -> None:
    sim = signed_in_sim(passwords={"office": "pw", "annex": "pw"})
    sim.worlds["annex"].down = True
    calls = len(sim.office.calls)
    with pytest.raises(ServerUnreachable) as caught:
        sim.daemon.execute(C.SwitchServer("annex"))
    assert str(caught.value).endswith("; you are still signed in to office")
    sim.settle()
    assert sim.state() == "signed_in" and sim.daemon.snapshot().server == "office"
    assert "sign_out" not in sim.office.calls[calls:] and len(sim.office.sessions) == 1
    assert sim.worlds["annex"].calls == ["sign_in"]  # tried, nothing signed in
    # The session in use still works: its polls and refreshes go on.
    sim.advance(400)
    assert sim.state() == "signed_in" and "refresh" in sim.office.calls[calls:]
    # Once it answers, the switch goes ahead.
    sim.worlds["annex"].down = False
    sim.daemon.execute(C.SwitchServer("annex"))
    sim.settle()
    assert sim.daemon.snapshot().server == "annex" and sim.office.sessions == {}


def test_a_switch_signs_in_to_the_new_server_before_it_signs_out_of_the_old() -> None:
    sim = signed_in_sim(passwords={"office": "pw", "annex": "pw"})
    office, annex = sim.office, sim.worlds["annex"]
    order: list[str] = []
    office.calls = _Recorded(order, "office", office.calls)
    annex.calls = _Recorded(order, "annex", annex.calls)
    built = len(sim.built)
    sim.daemon.execute(C.SwitchServer("annex"))
    sim.settle()
    assert sim.state() == "signed_in" and sim.daemon.snapshot().server == "annex"
    assert order[:2] == ["annex sign_in", "office sign_out"]
    assert annex.calls.count("sign_in") == 1  # taken over, not signed in twice
    assert len(annex.sessions) == 1 and office.sessions == {}
    # One client for annex: the sign-in's goes on with the polls and refreshes.
    assert [c.name for c in sim.built[built:]].count("annex") == 1
    sim.advance(400)
    assert sim.state() == "signed_in" and "refresh" in annex.calls


def test_a_switch_with_a_wrong_password_keeps_the_working_session() -> None:
    sim = signed_in_sim(passwords={"office": "pw"})
    calls = len(sim.office.calls)
    with pytest.raises(InvalidCredentials) as caught:
        sim.daemon.execute(C.SwitchServer("annex", password="wrong"))
    assert str(caught.value).endswith("; you are still signed in to office")
    sim.settle()
    assert sim.state() == "signed_in" and sim.daemon.snapshot().server == "office"
    assert "sign_out" not in sim.office.calls[calls:] and len(sim.office.sessions) == 1
    assert sim.worlds["annex"].sessions == {}
    sim.daemon.execute(C.SwitchServer("annex", password="pw"))
    sim.settle()
    assert sim.daemon.snapshot().server == "annex" and sim.office.sessions == {}


def test_a_switch_that_meets_a_captcha_goes_on_with_it_after_the_sign_out() -> None:
    """The new server asks a captcha: the switch goes ahead as a sign-in there (the answer is
    the person's), with the challenge already shown, not a second one asked."""
    sim = signed_in_sim(passwords={"office": "pw", "annex": "pw"})
    annex = sim.worlds["annex"]
    annex.captcha = True
    sim.daemon.execute(C.SwitchServer("annex"))
    sim.settle()
    assert sim.state() == "captcha_required" and sim.daemon.snapshot().server == "annex"
    assert annex.calls.count("sign_in") == 1 and len(annex.captchas) == 1
    captcha = sim.daemon.captcha()
    assert captcha is not None and captcha.id in annex.captchas
    sim.daemon.post(C.AnswerCaptcha(annex.captchas[captcha.id]))
    sim.settle()
    assert sim.state() == "signed_in" and len(annex.sessions) == 1


def test_a_switch_sign_in_nobody_takes_over_gives_its_seat_back() -> None:
    sim = signed_in_sim(passwords={"office": "pw", "annex": "pw"})
    link = sim.daemon._link
    link.sign_in_beside(ANNEX, "anna", "pw")
    assert len(sim.worlds["annex"].sessions) == 1
    link.drop_ready()
    assert sim.worlds["annex"].sessions == {}
    assert sim.daemon.snapshot().server == "office" and len(sim.office.sessions) == 1


def test_a_switch_between_two_entries_for_one_account_does_not_count_itself() -> None:
    """Two names for one address and login: signing in beside would meet our own session at
    the account's limit; the switch signs out first (after asking whether it answers)."""
    one = World(FakeClock())
    one.max_sessions = 1
    sim = Sim(worlds={"office": one, "annex": one}, passwords={"office": "pw", "annex": "pw"})
    sim.connections.conns["annex"] = replace(ANNEX, url=OFFICE.url)
    sim.start()
    assert sim.state() == "signed_in"
    sim.daemon.execute(C.SwitchServer("annex"))
    sim.settle()
    assert sim.state() == "signed_in" and sim.daemon.snapshot().server == "annex"
    assert len(one.sessions) == 1
    assert one.calls.count("server_info") >= 1


class _Recorded(list[str]):
    """A world's call list that also writes each call, named, into one shared order."""

    def __init__(self, order: list[str], name: str, calls: list[str]) -> None:
        super().__init__(calls)
        self._order, self._name = order, name

    def append(self, call: str) -> None:
        self._order.append(f"{self._name} {call}")
        super().append(call)


def test_quit_signs_out_with_a_bounded_client() -> None:
    sim = signed_in_sim()
    sim.daemon.stop()
    assert sim.daemon.stopped
    assert sim.office.sessions == {}
    assert sim.office.calls[-1] == "sign_out"


def test_captcha_flow() -> None:
    sim = Sim()
    sim.office.captcha = True
    sim.start()
    assert sim.state() == "captcha_required"
    captcha = sim.daemon.captcha()
    assert captcha is not None and captcha.image_png.startswith(b"\x89PNG")
    sim.daemon.post(C.AnswerCaptcha("wrong"))
    sim.settle()
    assert sim.state() == "captcha_required"
    assert sim.daemon.snapshot().error is None  # the reason is the captcha's, not an error
    assert sim.daemon.snapshot().captcha_reason == "invalid"
    heard: list[str | None] = []
    sim.daemon.subscribe(lambda snap: heard.append(snap.captcha_id))
    sim.daemon.post(C.RefreshCaptcha())
    sim.settle()
    new = sim.daemon.captcha()
    assert new is not None and new.id != captcha.id
    # A new picture is a new snapshot (the tray shows it from there), though nothing else changed.
    assert heard == [new.id]
    assert sim.daemon.snapshot().captcha_reason == "required"
    sim.daemon.post(C.AnswerCaptcha("x7k2"))
    sim.settle()
    assert sim.state() == "signed_in"
    assert sim.daemon.captcha() is None
    assert "x7k2" in sim.secrets  # registered for log redaction


def test_commands_in_the_wrong_state_are_refused_without_change() -> None:
    sim = signed_in_sim()
    with pytest.raises(EngineError):
        sim.daemon.execute(C.WaitForSeat())
    with pytest.raises(EngineError):
        sim.daemon.execute(C.AnswerCaptcha("abc"))
    assert sim.state() == "signed_in"


def test_a_bug_in_a_server_kind_never_leaves_the_daemon_stuck() -> None:
    from tests.unit.daemon.fakes import FakeServer
    from vms_tray.session.records import Tokens

    broken = {"refresh": False, "sign_in": False}

    class Buggy(FakeServer):
        def refresh(self, tokens: Tokens) -> Tokens:
            if broken["refresh"]:
                raise KeyError("access_token")
            return super().refresh(tokens)

        def sign_in(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            if broken["sign_in"]:
                raise ValueError("bad json")
            return super().sign_in(*args, **kwargs)  # type: ignore[arg-type]

    sim = Sim(server_class=Buggy)
    sim.start()
    broken["refresh"] = True
    sim.advance(400)
    assert sim.state() == "reconnecting"  # kept the session, retrying
    assert "KeyError" in error_text(sim)
    broken["refresh"] = False
    sim.advance(310)  # the backoff is capped at 300 s
    assert sim.state() == "signed_in"
    sim.daemon.post(C.SignOut())
    broken["sign_in"] = True
    sim.daemon.post(C.SignIn())
    sim.settle()
    assert sim.state() == "error"
    assert "ValueError" in error_text(sim)


def test_typing_a_password_while_sign_in_retries_starts_over_with_it() -> None:
    sim = Sim(passwords={})
    sim.office.down = True
    sim.start()
    sim.daemon.post(C.SignIn(password="wrong"))
    sim.settle()
    assert sim.state() == "reconnecting"  # no session yet: the sign-in itself is retried
    sim.office.down = False
    sim.daemon.post(C.SignIn(password="pw"))
    sim.settle()
    assert sim.state() == "signed_in"


def test_server_list_changes_show_within_a_poll() -> None:
    from vms_tray.connections.model import Connection

    sim = signed_in_sim()
    assert [c.name for c in sim.daemon.snapshot().servers] == ["office", "annex"]
    sim.connections.conns["lab"] = Connection("lab", "https://lab.example", "anna")
    sim.advance(60)
    assert [c.name for c in sim.daemon.snapshot().servers] == ["office", "annex", "lab"]


def test_a_start_up_that_cannot_even_try_says_why_in_a_notification() -> None:
    class Unusable(FakeServer):
        def __init__(self, world: World, timeout: float = 10.0) -> None:
            raise ProxySettingError("the proxy in https_proxy uses socks5://, which ...")

    sim = Sim(server_class=Unusable)
    sim.start()
    assert sim.state() == "signed_out"
    assert sim.notifier.kinds() == ["needs_attention"]
    (notice,) = sim.notifier.notices
    assert notice.title == "office: sign-in failed" and "socks5://" in notice.body
    assert "socks5://" in error_text(sim)


def test_post_never_blocks_while_the_worker_is_busy() -> None:
    sim = Sim()
    sim.daemon.start(thread=True)
    gate = threading.Event()
    busy = threading.Thread(target=lambda: sim.daemon.call(lambda: gate.wait(5)), daemon=True)
    busy.start()
    started = time.monotonic()
    for _ in range(1000):
        sim.daemon.post(C.CheckNow())
    assert time.monotonic() - started < 1.0
    gate.set()
    busy.join(5)
    sim.daemon.stop()
    assert sim.daemon.wait_stopped(5)
    assert sim.office.sessions == {}


def test_quit_frees_the_seat_within_two_seconds_even_if_a_request_hangs() -> None:
    from tests.unit.daemon.fakes import FakeServer
    from vms_tray.session.records import Tokens

    hang, entered = threading.Event(), threading.Event()

    class HangingServer(FakeServer):
        def list_sessions(self, bearer: str) -> Any:
            entered.set()
            hang.wait(30)  # a server that accepted the request and never answers
            return super().list_sessions(bearer)

        def sign_out(self, tokens: Tokens) -> None:
            assert self.timeout <= 1.8  # the quit path uses a bounded client
            super().sign_out(tokens)

    sim = Sim(server_class=HangingServer)
    sim.daemon.start(thread=True)
    wait_until(lambda: sim.state() == "signed_in", 5, "signed in")
    sim.daemon.post(C.CheckNow())
    assert entered.wait(5)  # the worker now sits in the hanging poll
    started = time.monotonic()
    sim.daemon.stop(timeout=2.0)
    assert time.monotonic() - started < 2.0
    assert sim.office.sessions == {}
    hang.set()


# --- the notices it performs: which appear, which are withdrawn, at quit too ------------------


def test_end_session_at_the_limit_then_signed_in_says_no_limit_reached() -> None:
    sim = Sim()
    w = sim.office
    others = [w.open("anna", f"PC-{i}") for i in range(3)]
    sim.start()
    assert sim.state() == "limit_reached"
    sim.daemon.end_session(others[0].id)
    sim.settle()
    assert sim.state() == "signed_in"
    assert sim.notifier.kinds() == ["needs_attention"]  # "no free session", nothing after it
    assert sim.notifier.log[:2] == ["notify sign_in: office: no free session", "withdraw sign_in"]
    assert not any("limit" in n.title or "all seats" in n.title for n in sim.notifier.notices)


def test_signed_in_again_withdraws_password_needed() -> None:
    sim = Sim(passwords={})
    sim.start()
    assert sim.notifier.log == ["notify sign_in: office: password needed"]
    sim.daemon.post(C.SignIn(password="pw"))
    sim.settle()
    assert sim.state() == "signed_in"
    assert "withdraw sign_in" in sim.notifier.log[1:]


def test_quit_withdraws_every_notice() -> None:
    sim = Sim()
    sim.start()
    sim.office.open("anna", "PC-1")
    sim.office.open("anna", "PC-2")
    sim.advance(120)
    assert sim.notifier.kinds() == ["limit_full"]
    sim.daemon.stop()
    assert sim.daemon.stopped
    assert sim.notifier.log[-1] == "withdraw *"
    assert "withdraw seats" in sim.notifier.log  # the sign-out itself, before


def test_desktop_notices_have_no_command_lines_headless_ones_do() -> None:
    sim = Sim()
    sim.office.captcha = True
    sim.start()
    assert sim.state() == "captcha_required"
    assert "vms-tray captcha" not in sim.notifier.notices[-1].body

    headless = Sim()
    headless.notifier.cli_hints = True
    headless.office.captcha = True
    headless.start()
    assert "'vms-tray captcha save FILE'" in headless.notifier.notices[-1].body


def test_the_wait_button_waits_for_a_seat() -> None:
    sim = Sim()
    w = sim.office
    for i in range(3):
        w.open("anna", f"PC-{i}")
    sim.start()
    assert sim.state() == "limit_reached"
    sim.daemon._on_action(notices.WAIT_FOR_SEAT)  # what the notifier does for the button
    sim.settle()
    assert sim.daemon.snapshot().waiting_for_seat
