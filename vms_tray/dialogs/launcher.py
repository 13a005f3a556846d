"""Start dialog child processes from the tray without blocking it.

Each dialog gets a thread that writes the request, forwards ``{"event": ...}`` lines to
``on_event`` and the final answer to ``on_answer``. At most one dialog of each name is open: asking
again for an open dialog sends it the new request as an update instead of opening a second one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

log = logging.getLogger(__name__)

Json = dict[str, Any]
AnswerFn = Callable[[Json], None]
EventFn = Callable[[Json], None]
CANCEL: Json = {"action": "cancel"}


class DialogHandle:
    def __init__(self, name: str, proc: subprocess.Popen[str]) -> None:
        self.name = name
        self.proc = proc
        self.answer: Json | None = None
        # Set when the answer line arrives: the window is going away even though the process
        # may take a moment to exit, so a new request must open a new dialog, not update this.
        self.answered = threading.Event()
        self.done = threading.Event()
        self._stdin_lock = threading.Lock()

    @property
    def open(self) -> bool:
        return not self.done.is_set() and not self.answered.is_set()

    def send_update(self, update: Json) -> bool:
        """Push new data into the open dialog; False if it is gone."""
        stdin = self.proc.stdin
        if stdin is None or self.done.is_set():
            return False
        try:
            with self._stdin_lock:
                stdin.write(json.dumps({"update": update}, ensure_ascii=False) + "\n")
                stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Ask the dialog to go away (as if cancelled), then make sure it does."""
        self.send_update({"close": True})
        if not self.done.wait(timeout):
            self.proc.kill()
            self.done.wait(timeout)

    def wait(self, timeout: float | None = None) -> Json | None:
        self.done.wait(timeout)
        return self.answer


class DialogLauncher:
    def __init__(
        self,
        *,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.python = python
        self.env = env
        self.extra_args = tuple(extra_args)
        self._open: dict[str, DialogHandle] = {}
        self._lock = threading.Lock()

    def current(self, name: str) -> DialogHandle | None:
        with self._lock:
            h = self._open.get(name)
        return h if h is not None and h.open else None

    def open(
        self,
        name: str,
        request: Json,
        on_answer: AnswerFn,
        on_event: EventFn | None = None,
    ) -> DialogHandle | None:
        """Start dialog ``name``; returns its handle, or None if it could not start."""
        existing = self.current(name)
        if existing is not None and existing.send_update({**request, "present": True}):
            return existing  # raised to the front with what it should show now
        env = dict(os.environ if self.env is None else self.env)
        try:
            proc = subprocess.Popen(
                [self.python, *self.extra_args, "-m", "vms_tray.dialogs", name],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                env=env,
                bufsize=1,
            )
        except OSError as exc:
            log.error("could not start the %s dialog: %s", name, exc)
            return None
        handle = DialogHandle(name, proc)
        with self._lock:
            self._open[name] = handle
        threading.Thread(
            target=self._pump,
            args=(handle, request, on_answer, on_event),
            name=f"dialog-{name}",
            daemon=True,
        ).start()
        return handle

    def _pump(
        self, h: DialogHandle, request: Json, on_answer: AnswerFn, on_event: EventFn | None
    ) -> None:
        proc = h.proc
        answer: Json | None = None
        try:
            assert proc.stdin is not None and proc.stdout is not None
            with h._stdin_lock:
                proc.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
                proc.stdin.flush()
            for line in proc.stdout:
                try:
                    msg = json.loads(line)
                except ValueError:
                    log.warning("the %s dialog printed something that is not JSON", h.name)
                    continue
                if not isinstance(msg, dict):
                    continue
                if "event" in msg:
                    if on_event is not None:
                        _safe(on_event, msg, h.name)
                    continue
                answer = msg
                h.answered.set()
        except (OSError, ValueError) as exc:
            log.warning("lost the %s dialog: %s", h.name, type(exc).__name__)
        finally:
            _close_quietly(proc.stdin)
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait(timeout=5)
            if code not in (0, None) and answer is None:
                log.warning("the %s dialog exited with status %s", h.name, code)
            h.answer = answer if answer is not None else dict(CANCEL)
            with self._lock:
                if self._open.get(h.name) is h:
                    del self._open[h.name]
            h.done.set()
        _safe(on_answer, h.answer, h.name)

    def close_all(self, timeout: float = 5.0) -> None:
        with self._lock:
            handles = list(self._open.values())
        for h in handles:
            h.close(timeout)


def _close_quietly(stream: IO[str] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError, ValueError):
            stream.close()


def _safe(fn: Callable[[Json], None], msg: Json, name: str) -> None:
    try:
        fn(msg)
    except Exception:
        log.exception("handling the %s dialog's reply failed", name)
