"""The dialog launcher as the tray uses it: every request in the tray's language, by name."""

from __future__ import annotations

from collections.abc import Callable

from vms_tray import i18n
from vms_tray.tray.ports import DialogHandle, Json, Launcher


class DialogHost:
    def __init__(self, launcher: Launcher) -> None:
        self.launcher = launcher

    def open(
        self,
        name: str,
        data: Json,
        on_answer: Callable[[Json], None],
        on_event: Callable[[Json], None] | None = None,
    ) -> None:
        """Open dialog ``name`` (an open one gets ``data`` as an update and comes forward)."""
        # The dialog is another process: it speaks the language the tray chose, not its own.
        request = {"language": i18n.current_language(), **data}
        self.launcher.open(name, request, on_answer, on_event)

    def current(self, name: str) -> DialogHandle | None:
        return self.launcher.current(name)

    def close(self, name: str) -> None:
        h = self.launcher.current(name)
        if h is not None:
            h.close()

    def close_all(self) -> None:
        self.launcher.close_all()
