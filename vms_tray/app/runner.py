"""``vms-tray run``: one instance, logging, the daemon, its control socket, signals, the tray."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

from vms_tray import commands as C
from vms_tray import control
from vms_tray.app import logs
from vms_tray.app.headless import HeadlessNotifier
from vms_tray.app.instance import InstanceLock
from vms_tray.app.wiring import apply_forced_autostart, build_daemon
from vms_tray.daemon import settings as settings_mod
from vms_tray.daemon.clock import Heartbeat, JumpDetector, SystemClock
from vms_tray.daemon.handler import ControlHandler
from vms_tray.daemon.ports import Passwords
from vms_tray.daemon.worker import Daemon
from vms_tray.errors import ControlError, DaemonNotRunning
from vms_tray.notify.base import Notifier

log = logging.getLogger(__name__)

TrayRunner = Callable[[Daemon], None]

# From a quit (signal, menu, 'vms-tray quit') to the end of the clean-up, sign-out included: the
# interpreter's own exit follows, and the whole must stay under 2 s even when the server froze.
QUIT_BUDGET = 1.5


def _ask_running_instance(lock: InstanceLock) -> int:
    """Another daemon holds the lock: ask it to come forward, then exit 0."""
    deadline = time.monotonic() + 10
    while True:
        try:
            control.request("show", timeout=5)
            print("vms-tray is already running; asked it to show itself", file=sys.stderr)
            return 0
        except DaemonNotRunning:
            # It may be starting (lock taken, socket not yet bound), or it just exited.
            if lock.acquire():
                lock.release()
                raise ControlError("vms-tray stopped while starting: run it again") from None
            if time.monotonic() > deadline:
                raise ControlError(
                    "another vms-tray holds the lock but does not answer: stop it, then retry"
                ) from None
            time.sleep(0.1)


def _load_tray(headless: bool) -> tuple[TrayRunner | None, Notifier]:
    if headless:
        return None, HeadlessNotifier()
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        print("vms-tray: no display; running headless (see 'vms-tray status')", file=sys.stderr)
        return None, HeadlessNotifier()
    # A tray icon and its menu never need OpenGL, and GTK 3 may load Mesa (llvmpipe, libLLVM:
    # about 50 MB resident on a desktop without a GPU driver) on some starts and not on others.
    # GTK reads GDK_GL once, when GDK starts, so it is set here, before the tray imports GTK.
    # setdefault: a user's own GDK_GL wins. Our only children are the Tk dialogs (and xrdb),
    # which do not read it. bench/tray_bench.py measures the difference.
    os.environ.setdefault("GDK_GL", "disable")
    try:
        # Only with a display: a headless daemon never loads pystray or a GUI toolkit.
        from vms_tray.notify import TrayNotifier, select_notifier
        from vms_tray.tray.app import run_tray
    except Exception as exc:  # ImportError, or pystray's Xlib error without a display
        print(
            f"vms-tray: no tray available ({type(exc).__name__}); running headless",
            file=sys.stderr,
        )
        log.info("tray unavailable", exc_info=True)
        return None, HeadlessNotifier()
    notifier = select_notifier()
    # Notices shown by the icon itself (Windows, macOS) need the icon, which the tray makes.
    icon_notices = notifier.attach if isinstance(notifier, TrayNotifier) else None

    def tray(daemon: Daemon) -> None:
        run_tray(daemon, icon_notices)

    return tray, notifier


def run(server: str | None, headless: bool, debug: bool, passwords: Passwords | None = None) -> int:
    """``passwords``: instead of the keyring (the demo's in-memory passwords)."""
    lock = InstanceLock()
    if not lock.acquire():
        return _ask_running_instance(lock)
    try:
        return _run_locked(server, headless, debug, passwords)
    finally:
        lock.release()


def _run_locked(
    server: str | None, headless: bool, debug: bool, passwords: Passwords | None
) -> int:
    log_path = logs.setup(debug=debug, stream=debug)
    settings = settings_mod.load()
    apply_forced_autostart()  # the administrator's force_autostart, at every start
    tray, notifier = _load_tray(headless)
    daemon = build_daemon(notifier, settings, passwords)
    server_socket = control.ControlServer(ControlHandler(daemon))
    try:
        server_socket.start()
    except OSError as exc:
        raise ControlError(
            f"cannot open the control socket ({exc.strerror or exc}): check "
            f"{control.socket_path().parent}"
        ) from None
    heartbeat = Heartbeat(
        JumpDetector(SystemClock(), settings.jump_tolerance),
        daemon.clock_jumped,
        settings.heartbeat_interval,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: signing out and quitting", signal.Signals(signum).name)
        daemon.post(C.Quit())  # SimpleQueue.put is safe in a signal handler
        stop.set()

    if threading.current_thread() is threading.main_thread():
        sigs = [signal.SIGTERM, signal.SIGINT]
        if hasattr(signal, "SIGHUP"):
            sigs.append(signal.SIGHUP)  # the OS session ends
        for sig in sigs:
            signal.signal(sig, on_signal)

    # Set by a signal or by the daemon stopping: the wait below wakes at once either way (a
    # signal handler cannot cut short a wait on an event it does not set).
    daemon.on_stop(stop.set)
    log.info(
        "vms-tray started (pid %s, %s, log %s)",
        os.getpid(),
        "headless" if tray is None else "tray",
        log_path,
    )
    daemon.start(server)
    heartbeat.start()
    try:
        if tray is not None:
            # The tray installs its own SIGTERM/SIGINT handlers (they post Quit and stop the
            # icon); it follows daemon.on_stop, so a Quit from elsewhere ('vms-tray quit',
            # SIGHUP) stops the icon too.
            tray(daemon)
        else:
            if sys.stderr.isatty():
                print(
                    "vms-tray: running headless; 'vms-tray status' shows the session, "
                    "'vms-tray quit' stops it",
                    file=sys.stderr,
                )
            # No timeout: a wake-up every 0.5 s was 7200 an hour, about 0.5 s of CPU (issue 13,
            # idle cost). A signal handler runs during the wait (POSIX lock waits are
            # interruptible) and sets the event, as does the daemon stopping.
            stop.wait()
    finally:
        deadline = time.monotonic() + QUIT_BUDGET
        daemon.stop(timeout=QUIT_BUDGET - 0.2)
        # Withdraws what is still on screen (the daemon asked already; this waits for the bus).
        notifier.close()
        heartbeat.stop()
        server_socket.close(drain=max(0.0, deadline - time.monotonic()))
        log.info("vms-tray stopped")
    return 0
