"""The re-registration decisions of vms_tray.tray.registration, on a fake timer (the GLib side
runs on a real StatusNotifier host in tests/desktop/tray/test_icon_sni.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vms_tray.tray.registration import FIRST_DELAY, MAX_DELAY, Keeper, retry_delay


class FakeTimer:
    """Pending callbacks by due time; ``advance`` runs those that fall due, in order."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pending: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0

    def __call__(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        self._seq += 1
        entry = (self.now + delay, self._seq, fn)
        self.pending.append(entry)

        def cancel() -> None:
            if entry in self.pending:
                self.pending.remove(entry)

        return cancel

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while self.pending:
            entry = min(self.pending)
            if entry[0] > end:
                break
            self.pending.remove(entry)
            self.now = entry[0]
            entry[2]()
        self.now = end


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()


class Registrations:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def test_delays_double_from_a_quarter_second_up_to_half_a_minute() -> None:
    assert [retry_delay(n) for n in range(9)] == [0.25, 0.5, 1, 2, 4, 8, 16, 30, 30]
    assert retry_delay(10_000) == MAX_DELAY


def test_an_item_the_watcher_takes_at_once_is_never_registered_again(timer: FakeTimer) -> None:
    register = Registrations()
    keeper = Keeper(register, timer)
    keeper.watcher_appeared()
    keeper.connection_changed(True)  # libayatana's own registration succeeded
    timer.advance(3600)
    assert register.calls == 0
    assert timer.pending == []


def test_a_refused_item_registers_again_with_backoff_until_taken(timer: FakeTimer) -> None:
    register = Registrations()
    keeper = Keeper(register, timer)
    keeper.watcher_appeared()  # libayatana's registration is refused: no signal at all
    timer.advance(FIRST_DELAY)
    assert register.calls == 1
    timer.advance(0.5 + 1 + 2)
    assert register.calls == 4
    keeper.connection_changed(True)
    timer.advance(3600)
    assert register.calls == 4
    assert keeper.registered


def test_a_watcher_that_keeps_refusing_costs_one_attempt_per_half_minute(
    timer: FakeTimer,
) -> None:
    register = Registrations()
    Keeper(register, timer).watcher_appeared()
    timer.advance(sum(retry_delay(n) for n in range(7)))  # up to 30 s apart
    before = register.calls
    timer.advance(600)
    assert register.calls - before == 600 / MAX_DELAY


def test_no_attempts_without_a_watcher(timer: FakeTimer) -> None:
    register = Registrations()
    keeper = Keeper(register, timer)
    keeper.connection_changed(False)
    timer.advance(60)
    keeper.watcher_appeared()
    keeper.watcher_vanished()  # the panel quit before the first check
    timer.advance(3600)
    assert register.calls == 0
    assert timer.pending == []


def test_a_new_watcher_starts_the_backoff_afresh(timer: FakeTimer) -> None:
    register = Registrations()
    keeper = Keeper(register, timer)
    keeper.watcher_appeared()
    timer.advance(100)  # many refusals: now 30 s apart
    keeper.watcher_vanished()
    keeper.watcher_appeared()
    calls = register.calls
    timer.advance(FIRST_DELAY)
    assert register.calls == calls + 1
    assert keeper.attempts == 1


def test_losing_the_registration_while_the_watcher_stays_retries(timer: FakeTimer) -> None:
    register = Registrations()
    keeper = Keeper(register, timer)
    keeper.watcher_appeared()
    keeper.connection_changed(True)
    keeper.connection_changed(False)
    timer.advance(FIRST_DELAY)
    assert register.calls == 1


def test_a_failing_registration_call_does_not_end_the_retries(timer: FakeTimer) -> None:
    calls: list[int] = []

    def register() -> None:
        calls.append(1)
        raise RuntimeError("libayatana went away")

    Keeper(register, timer).watcher_appeared()
    timer.advance(FIRST_DELAY + 0.5 + 1)
    assert len(calls) == 3


def test_close_stops_everything(timer: FakeTimer) -> None:
    register = Registrations()
    keeper = Keeper(register, timer)
    keeper.watcher_appeared()
    keeper.close()
    keeper.connection_changed(False)
    timer.advance(3600)
    assert register.calls == 0
    assert timer.pending == []
