"""Who hears the daemon: snapshot subscribers, show listeners (a request nobody heard is
replayed to the first), stop listeners, and a notifier that must not take the daemon down."""

from __future__ import annotations

import logging

import pytest

from tests.unit.daemon.fakes import Sim
from vms_tray import commands as C
from vms_tray.daemon.listeners import Listeners, SafeNotifier
from vms_tray.notify.base import Notice, NoticeKind, Notifier
from vms_tray.notify.log import LogNotifier
from vms_tray.session.snapshot import Snapshot, State


def test_a_late_listener_still_hears_the_start_up_request_for_a_password() -> None:
    sim = Sim(passwords={})
    sim.start()  # the tray subscribes only once its icon is up: after this
    first: list[str] = []
    sim.daemon.on_show(first.append)
    assert first == ["sign_in"]
    second: list[str] = []
    sim.daemon.on_show(second.append)  # heard once: not replayed again
    assert second == []


def test_a_sign_in_makes_an_unheard_request_moot() -> None:
    sim = Sim(passwords={})
    sim.start()
    sim.daemon.post(C.SignIn(password="pw"))
    sim.settle()
    late: list[str] = []
    sim.daemon.on_show(late.append)
    assert late == [] and sim.state() == "signed_in"


def test_subscribers_hear_each_change_once() -> None:
    sim = Sim()
    seen: list[str] = []
    sim.daemon.subscribe(lambda s: seen.append(s.state.value))
    sim.start()
    sim.advance(600)
    assert seen[-1] == "signed_in"
    assert seen.count("signed_in") == 1  # polls with equal results publish nothing new


def test_unsubscribed_callbacks_hear_nothing_more() -> None:
    listeners = Listeners()
    heard: list[State] = []
    unsubscribe = listeners.subscribe(lambda snap: heard.append(snap.state))
    listeners.publish(Snapshot(state=State.SIGNING_IN))
    unsubscribe()
    unsubscribe()  # twice is harmless
    listeners.publish(Snapshot(state=State.SIGNED_IN))
    assert heard == [State.SIGNING_IN]


def test_a_failing_listener_never_stops_the_others(caplog: pytest.LogCaptureFixture) -> None:
    listeners = Listeners()
    heard: list[str] = []

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug in the tray")

    listeners.subscribe(broken)
    listeners.subscribe(lambda snap: heard.append(f"snapshot {snap.state}"))
    listeners.on_show(broken)
    listeners.on_show(lambda reason: heard.append(f"show {reason}"))
    listeners.on_stop(broken)
    listeners.on_stop(lambda: heard.append("stopped"))
    with caplog.at_level(logging.ERROR):
        listeners.publish(Snapshot())
        listeners.show("window")
        listeners.stopped()
    assert heard == ["snapshot signed_out", "show window", "stopped"]
    failures = [r.getMessage() for r in caplog.records]
    assert failures == ["subscriber failed", "show listener failed", "stop listener failed"]


def test_only_the_last_unheard_request_is_replayed_and_only_to_the_first_listener() -> None:
    listeners = Listeners()
    listeners.show("sign_in")
    listeners.show("window")
    first: list[str] = []
    second: list[str] = []
    listeners.on_show(first.append)
    listeners.on_show(second.append)
    assert first == ["window"] and second == []
    listeners.show("show_sessions")  # heard now: nothing is kept for later
    assert first == ["window", "show_sessions"] and second == ["show_sessions"]
    third: list[str] = []
    listeners.on_show(third.append)
    assert third == []


def test_forgetting_an_unheard_request() -> None:
    listeners = Listeners()
    listeners.show("sign_in")
    listeners.forget_unheard()  # a sign-in made the window asked for out of date
    late: list[str] = []
    listeners.on_show(late.append)
    assert late == []


class BrokenNotifier(Notifier):
    name = "broken"

    def notify(self, notice: Notice) -> None:
        raise OSError("the notification service went away")

    def withdraw(self, topic: str) -> None:
        raise OSError("the notification service went away")

    def withdraw_all(self) -> None:
        raise OSError("the notification service went away")


def test_a_failing_notifier_is_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    safe = SafeNotifier(BrokenNotifier())
    with caplog.at_level(logging.ERROR):
        safe.notify(Notice(NoticeKind.INFO, "HQ", "hello", topic="seats"))
        safe.withdraw("seats")
        safe.withdraw_all()
    assert [r.getMessage() for r in caplog.records] == ["notification backend broken failed"] * 3


def test_the_safe_notifier_passes_everything_on() -> None:
    log = LogNotifier()
    safe = SafeNotifier(log)
    notice = Notice(NoticeKind.INFO, "HQ", "hello", topic="seats")
    safe.notify(notice)
    safe.withdraw("seats")
    safe.withdraw_all()
    assert log.sent == [notice] and log.withdrawn == ["seats", "*"]
