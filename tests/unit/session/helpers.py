"""What the session tests share: failures of each kind, and engines brought to each state by
the shortest real path."""

from __future__ import annotations

import random

from vms_tray.session import engine as E
from vms_tray.session.failures import Failure, FailureKind
from vms_tray.session.policies import EnginePolicy, Timing
from vms_tray.session.snapshot import State

S = State


NOW = 1000.0


def other(message: str) -> Failure:
    return Failure(FailureKind.OTHER, message)


def net(message: str) -> Failure:
    return Failure(FailureKind.UNREACHABLE, message)


def wrong(message: str) -> Failure:
    return Failure(FailureKind.CREDENTIALS, message)


PATHS: dict[State, list[E.Event]] = {
    S.SIGNED_OUT: [],
    S.SIGNING_IN: [E.SignInRequested()],
    S.CAPTCHA_REQUIRED: [E.SignInRequested(), E.CaptchaNeeded()],
    S.LIMIT_REACHED: [E.SignInRequested(), E.LimitHit(3, 3)],
    S.SIGNED_IN: [E.SignInRequested(), E.SignInSucceeded(900, 1, 3)],
    S.RECONNECTING: [E.SignInRequested(), E.SignInSucceeded(900, 1, 3), E.NetworkFailed(net("x"))],
    S.ENDED: [E.SignInRequested(), E.SignInSucceeded(900, 1, 3), E.SessionLost("ended")],
    S.ERROR: [E.SignInRequested(), E.SignInRejected(other("no"))],
}


def make(state: State, seed: int = 1) -> E.Engine:
    engine = E.Engine(EnginePolicy(Timing(), random.Random(seed)))
    for ev in PATHS[state]:
        engine.handle(ev, NOW)
    assert engine.state is state
    return engine


def kinds(effects: list[E.Effect]) -> list[type[E.Effect]]:
    return [type(x) for x in effects]


def notes(effects: list[E.Effect]) -> list[E.Topic]:
    return [x.topic for x in effects if isinstance(x, E.Notify)]


def scheduled(effects: list[E.Effect], timer: E.Timer) -> float | None:
    for x in effects:
        if isinstance(x, E.Schedule) and x.timer is timer:
            return x.at
    return None


def withdrawn(effects: list[E.Effect]) -> list[E.Subject]:
    return [x.subject for x in effects if isinstance(x, E.Withdraw)]
