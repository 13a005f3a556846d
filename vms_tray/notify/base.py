"""What a notification is, and the small interface every backend implements.

A notice belongs to a ``topic`` (what it is about: seats, the network, a sign-in, the session).
A backend shows one notice per topic: a new one replaces its predecessor, ``withdraw(topic)``
takes it back once its cause is gone, and ``withdraw_all()`` (and ``close()``) clears the screen
at quit. A notice without a topic stands alone.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from importlib.resources import as_file

from vms_tray import assets


class NoticeKind(StrEnum):
    NEAR_LIMIT = "near_limit"
    LIMIT_FULL = "limit_full"
    BACK_UNDER = "back_under"
    ENDED_ELSEWHERE = "ended_elsewhere"
    UNREACHABLE = "unreachable"
    BACK_ONLINE = "back_online"
    NEEDS_ATTENTION = "needs_attention"  # captcha, password, limit conflict
    PASSWORD_REJECTED = "password_rejected"  # noqa: S105 - a notice kind, not a secret
    INFO = "info"


class Urgency(IntEnum):
    """The freedesktop urgency levels (the ``urgency`` hint's byte)."""

    LOW = 0
    NORMAL = 1
    CRITICAL = 2


@dataclass(frozen=True)
class Action:
    id: str  # e.g. "show_sessions", "sign_in"
    label: str


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    title: str
    body: str
    actions: tuple[Action, ...] = field(default_factory=tuple)
    topic: str = ""  # one notice per topic on screen; "" stands alone
    urgency: Urgency = Urgency.NORMAL
    expires: float | None = None  # seconds on screen; None: until dismissed or withdrawn
    icon: str = ""  # the state icon it reports (a name under icons/, no ".png")


ActionHandler = Callable[[str], None]  # receives Action.id


def icon_path(name: str) -> str:
    """The file of state icon ``name`` (``""`` when there is none)."""
    if not name:
        return ""
    try:
        ref = assets.icon(f"{name}.png")
        # Installed as a plain file (wheel, editable): the path stays valid for the process.
        with as_file(ref) as path:
            return str(path) if path.exists() else ""
    except Exception:
        return ""


class Notifier(abc.ABC):
    """A notification backend. No method may raise or block for long."""

    name: str = "base"
    supports_actions: bool = False
    # True where nobody can click: notices may name the command line ('vms-tray signin').
    cli_hints: bool = False

    def __init__(self) -> None:
        self._on_action: ActionHandler | None = None

    def on_action(self, handler: ActionHandler) -> None:
        self._on_action = handler

    @abc.abstractmethod
    def notify(self, notice: Notice) -> None:
        """Show ``notice``, replacing the one on screen with the same non-empty topic."""

    def withdraw(self, topic: str) -> None:  # noqa: B027 - a backend that cannot take back
        """Take back the notice on ``topic`` if one is shown; nothing otherwise."""

    def withdraw_all(self) -> None:  # noqa: B027 - a backend that cannot take back
        """Take back every notice this process showed."""

    def close(self) -> None:
        """Stop: nothing of ours stays on screen."""
        self.withdraw_all()
