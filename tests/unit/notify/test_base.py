"""What a notice is and what every backend shares: the state icon's file, the action handler,
and a close that takes back everything shown."""

from __future__ import annotations

from pathlib import Path

from vms_tray.assets import IconName
from vms_tray.notify.base import Notice, NoticeKind, Notifier, Urgency, icon_path


class Recording(Notifier):
    name = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def notify(self, notice: Notice) -> None:
        self.log.append(f"notify {notice.title}")

    def withdraw_all(self) -> None:
        self.log.append("withdraw *")


def test_the_icon_of_a_state_is_a_png_file() -> None:
    path = Path(icon_path(IconName.SIGNED_IN.value))
    assert path.is_file() and path.name == f"{IconName.SIGNED_IN.value}.png"


def test_no_name_or_an_unknown_name_has_no_icon() -> None:
    assert icon_path("") == ""
    assert icon_path("no-such-icon") == ""


def test_a_notice_stands_alone_and_stays_unless_told_otherwise() -> None:
    notice = Notice(NoticeKind.INFO, "HQ answers again", "")
    assert (notice.topic, notice.urgency, notice.expires, notice.actions) == (
        "",
        Urgency.NORMAL,
        None,
        (),
    )


def test_closing_takes_back_every_notice() -> None:
    backend = Recording()
    backend.notify(Notice(NoticeKind.INFO, "a", "b", topic="seats"))
    backend.withdraw("seats")  # a backend that cannot take one back: nothing happens
    backend.close()
    assert backend.log == ["notify a", "withdraw *"]


def test_the_action_handler_is_kept_for_the_backend_to_call() -> None:
    backend = Recording()
    assert backend._on_action is None
    clicked: list[str] = []
    backend.on_action(clicked.append)
    assert backend._on_action is not None
    backend._on_action("sign_in")
    assert clicked == ["sign_in"]
    assert not backend.supports_actions and not backend.cli_hints  # the defaults
