"""Commands that views (tray menu, dialogs, control socket) post to the daemon.

Posting never blocks: the daemon's worker thread performs the I/O. Secrets in commands are hidden
from ``repr`` so a logged command is safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SignIn:
    server: str | None = None  # None: the current/default connection
    login: str | None = None  # None: the connection's login
    password: str | None = field(default=None, repr=False)  # None: from the keyring
    remember: bool = False  # store the password in the keyring on success


@dataclass(frozen=True)
class SignOut:
    pass


@dataclass(frozen=True)
class SwitchServer:
    """Sign in to another server; the current session ends only once the new sign-in can
    start (a password was given or is stored), so a switch never strands the user."""

    name: str
    login: str | None = None  # None: the connection's login
    password: str | None = field(default=None, repr=False)  # None: from the keyring
    remember: bool = False


@dataclass(frozen=True)
class EndSession:
    session_id: str


@dataclass(frozen=True)
class RequestHandover:
    """At the limit: ask the holder of ``session_id`` to hand its seat over, then wait for it."""

    session_id: str


@dataclass(frozen=True)
class WaitForSeat:
    pass


@dataclass(frozen=True)
class CancelWait:
    pass


@dataclass(frozen=True)
class AnswerCaptcha:
    answer: str = field(repr=False)


@dataclass(frozen=True)
class RefreshCaptcha:
    pass


@dataclass(frozen=True)
class CheckNow:
    """Poll the server immediately (after resume, or a menu 'Refresh')."""


@dataclass(frozen=True)
class StreamChanged:
    """The server's events stream came up or went down (the kind's own thread says so)."""

    live: bool


@dataclass(frozen=True)
class ReloadConfig:
    """The connection list changed on disk (Manage servers dialog, CLI)."""


@dataclass(frozen=True)
class ShowWindow:
    """A second instance asked the running one to come forward."""


@dataclass(frozen=True)
class Quit:
    pass


Command = (
    SignIn
    | SignOut
    | SwitchServer
    | EndSession
    | WaitForSeat
    | RequestHandover
    | CancelWait
    | AnswerCaptcha
    | RefreshCaptcha
    | CheckNow
    | StreamChanged
    | ReloadConfig
    | ShowWindow
    | Quit
)
