"""What a notification is, and the small interface every backend implements."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


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


ActionHandler = Callable[[str], None]  # receives Action.id


class Notifier(abc.ABC):
    """A notification backend. ``notify`` must never raise and never block for long."""

    name: str = "base"
    supports_actions: bool = False

    def __init__(self) -> None:
        self._on_action: ActionHandler | None = None

    def on_action(self, handler: ActionHandler) -> None:
        self._on_action = handler

    @abc.abstractmethod
    def notify(self, notice: Notice) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
