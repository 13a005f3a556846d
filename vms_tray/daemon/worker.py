"""The daemon: one worker thread where the session engine, server I/O and timers meet.

Everything else (tray, control socket, timers, heartbeat, signal handlers) only puts items on the
worker's queue, so no lock guards the engine and no I/O runs on a caller's thread. The worker
feeds each item to the engine as an event, performs the effects that come back (the server
session in ``link``, timers, notices) and feeds their results back, then publishes an immutable
Snapshot to the ``listeners`` when it changed. The engine takes every decision about the state;
the worker asks it (``plan_sign_in``, ``hold``, ``keeps``) where it must know before it acts.

See ``vms_tray.daemon`` for the public, thread-safe API. Longer than 500 lines because the
public API and the worker it posts to are one class: each public call is a line or two beside
the worker-side step it runs, and splitting them would put one decision in two rooms.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from vms_tray import commands as C
from vms_tray.connections.model import Connection
from vms_tray.daemon import notices, snapshots
from vms_tray.daemon.clock import Clock
from vms_tray.daemon.link import NOT_SIGNED_IN, Link
from vms_tray.daemon.listeners import Listeners, SafeNotifier
from vms_tray.daemon.ports import Connections, Memory, Passwords, ServerFactory
from vms_tray.daemon.scheduler import Scheduler
from vms_tray.daemon.settings import DaemonSettings
from vms_tray.daemon.timers import TimerFired, Timers
from vms_tray.errors import (
    EngineError,
    InvalidInput,
    PasswordNeeded,
    UnknownConnection,
    VmsTrayError,
    without_retry,
)
from vms_tray.kinds.base import ClientInfo
from vms_tray.notify.base import Notifier
from vms_tray.session import engine as E
from vms_tray.session.failures import Failure, FailureKind, failure_of
from vms_tray.session.policies import EnginePolicy
from vms_tray.session.records import Captcha, SessionList
from vms_tray.session.snapshot import ServerChoice, Snapshot
from vms_tray.text import command_line

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a caller waits for the worker to say whether a password is stored.
PASSWORD_CHECK_TIMEOUT = 5.0
_INTERNAL = Failure(FailureKind.OTHER, "internal error (see the log)")

_TIMER_EVENTS: dict[E.Timer, Callable[[], E.Event]] = {
    E.Timer.REFRESH: E.RefreshDue,
    E.Timer.POLL: E.PollDue,
    E.Timer.RETRY: E.RetryDue,
    E.Timer.SEAT: E.SeatRetryDue,
}


@dataclass(frozen=True)
class _ClockJumped:
    skew: float


@dataclass(frozen=True)
class _Startup:
    server: str | None


@dataclass(frozen=True)
class _Call:
    fn: Callable[[], Any]
    future: concurrent.futures.Future[Any]


_Item = C.Command | TimerFired | _ClockJumped | _Startup | _Call | None  # None: stop the worker


class Daemon:
    def __init__(
        self,
        *,
        connections: Connections,
        passwords: Passwords,
        server_factory: ServerFactory,
        notifier: Notifier,
        scheduler: Scheduler,
        clock: Clock,
        client_info: ClientInfo,
        settings: DaemonSettings | None = None,
        rng: random.Random | None = None,
        on_secret: Callable[[str], None] | None = None,
        memory: Memory | None = None,
    ) -> None:
        self.settings = settings or DaemonSettings()
        self._connections = connections
        self.notifier = notifier  # the tray routes notification buttons through it
        self._scheduler = scheduler
        self._clock = clock
        self._secret = on_secret or (lambda _s: None)
        self.engine = E.Engine(EnginePolicy(self.settings.timing(), rng))
        self._link = Link(
            connections=connections,
            passwords=passwords,
            memory=memory,
            server_factory=server_factory,
            clock=clock,
            client_info=client_info,
            settings=self.settings,
            on_secret=lambda s: self._secret(s),
            on_note=lambda note: setattr(self, "_note", note),
        )
        self._listeners = Listeners()
        self._notices = SafeNotifier(notifier)

        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards the published snapshot and its expiry
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        # Worker-owned state.
        self._note: Failure | None = None  # a daemon-level problem (no password, no server)
        self._timers = Timers(scheduler, clock, self._queue.put)
        self._servers: tuple[ServerChoice, ...] = ()
        self._expires_at: float | None = None  # _lock
        self._snap = Snapshot()  # _lock
        self._published: Snapshot | None = None
        self._quitting = False
        notifier.on_action(self._on_action)

    # --- public, thread-safe API -------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            snap, expires_at = self._snap, self._expires_at
        if expires_at is None:
            return snap
        return replace(snap, expires_in=max(0.0, expires_at - self._clock.now()))

    def subscribe(self, callback: Callable[[Snapshot], None]) -> Callable[[], None]:
        return self._listeners.subscribe(callback)

    def on_show(self, callback: Callable[[str], None]) -> None:
        """``callback(reason)``: "window" (another instance started), "sign_in" (a password is
        needed), "show_sessions", "show_captcha" (a notification action).

        A request made while nobody listened (the start-up "sign_in" comes before the tray is up)
        is handed to the first listener now, unless a sign-in or quit since made it moot."""
        self._listeners.on_show(callback)

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._listeners.on_stop(callback)

    def post(self, command: C.Command) -> None:
        self._queue.put(command)

    def captcha(self) -> Captcha | None:
        """The pending captcha with ``expires_in`` counted down to now, or None."""
        return self._link.captcha()

    def conflict_sessions(self) -> SessionList | None:
        """In ``limit_reached``: the sessions the server listed with the conflict."""
        return self._link.conflict_sessions()

    def sessions(self, timeout: float = 15.0) -> SessionList:
        """The account's sessions, fetched now (blocking; never call from a subscriber)."""
        return self.call(lambda: self._link.list_sessions(self.engine.hold()), timeout)

    def end_session(self, session_id: str, timeout: float = 15.0) -> None:
        """End another session: in ``limit_reached`` this finishes our sign-in (the engine's
        path); when signed in it frees a seat for someone else. Blocking."""
        self.call(lambda: self._end_session(session_id), timeout)

    def request_handover(self, session_id: str, timeout: float = 15.0) -> datetime:
        """At the limit: ask the holder of ``session_id`` to hand its seat over (protocol
        v1.1), then wait for it; the time the server ends that session. Blocking."""
        return self.call(lambda: self._request_handover(session_id), timeout)

    def execute(self, command: C.Command, timeout: float = 15.0) -> None:
        """Like ``post`` but waits until the worker handled it, raising what it raised."""
        self.call(lambda: self._command(command), timeout)

    def has_password(self, server: str | None) -> bool:
        """Whether a sign-in to ``server`` (None: the current one) can run without asking.

        The worker reads the config and the keyring; this waits for it (EngineError when it is
        busy for longer than ``PASSWORD_CHECK_TIMEOUT``)."""
        return self.call(lambda: self._has_password(server), PASSWORD_CHECK_TIMEOUT)

    def passwords_stored(self, names: list[str]) -> dict[str, bool | None]:
        """For ``vms-tray servers list``: whether each server has a password to sign in with
        (None: a name this daemon does not know). The CLI then needs no keyring of its own."""
        return self.call(lambda: self._passwords_stored(names), PASSWORD_CHECK_TIMEOUT)

    def _passwords_stored(self, names: list[str]) -> dict[str, bool | None]:
        found: dict[str, bool | None] = {}
        for name in names:
            try:
                conn = self._connections.get(name)
            except UnknownConnection:
                conn = None
            found[name] = None if conn is None else self._link.has_password(conn)
        return found

    def call(self, fn: Callable[[], T], timeout: float = 15.0) -> T:
        """Run ``fn`` on the worker thread and return its result (or raise its error)."""
        if self._thread is not None and threading.current_thread() is self._thread:
            return fn()  # a listener on the worker: waiting for itself would never end
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put(_Call(fn, future))
        if self._thread is None:  # synchronous mode (tests): run it here
            self.run_pending()
        try:
            result: T = future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise EngineError(
                f"vms-tray is busy and did not answer within {timeout:.0f}s: try again"
            ) from None
        return result

    def start(self, server: str | None = None, thread: bool = True) -> None:
        """Start timers and the worker, then sign in to ``server`` (default: last used)."""
        self._scheduler.start()
        self._queue.put(_Startup(server))
        if thread:
            self._thread = threading.Thread(target=self._run, name="daemon", daemon=True)
            self._thread.start()

    def clock_jumped(self, skew: float) -> None:
        """The heartbeat saw wall time move by ``skew`` s more than monotonic time."""
        self._queue.put(_ClockJumped(skew))

    def stop(self, timeout: float = 2.0) -> None:
        """Sign out (freeing the seat) and stop, within ``timeout`` seconds. Idempotent."""
        deadline = time.monotonic() + timeout
        self._queue.put(C.Quit())
        if self._thread is not None and self._thread is not threading.current_thread():
            if not self._done.wait(min(0.5, timeout * 0.25)):
                left = deadline - time.monotonic()
                if self._quitting:
                    # The worker is signing out itself (a bounded request): let it finish.
                    self._done.wait(max(0.0, left))
                else:
                    # The worker is stuck in a slow request: free the seat from here, within
                    # what is left of the budget (a frozen server cannot stretch the quit).
                    log.warning("worker busy at quit; signing out from the quitting thread")
                    self._link.emergency_sign_out(left)
        elif self._thread is None:
            self.run_pending()
        self._scheduler.shutdown()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def stopped(self) -> bool:
        return self._done.is_set()

    def run_pending(self) -> int:
        """Process queued items on the calling thread (tests without a worker thread)."""
        count = 0
        while not self._done.is_set():
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            self._process(item)
            count += 1
        return count

    # --- worker ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._done.is_set():
            self._process(self._queue.get())

    def _process(self, item: _Item) -> None:
        try:
            self._dispatch(item)
        except VmsTrayError as exc:
            log.warning("%s failed: %s", type(item).__name__, exc)
            self._note = failure_of(exc)
            if isinstance(item, _Startup):
                # No command is waiting for this answer: say it where the user will look.
                self._notices.notify(notices.sign_in_failed(self._link.server_name(), str(exc)))
        except Exception:
            log.exception("%s failed unexpectedly", type(item).__name__)
            self._note = _INTERNAL
        finally:
            if not self._done.is_set():
                self._publish()

    def _dispatch(self, item: _Item) -> None:
        if isinstance(item, _Call):
            if item.future.set_running_or_notify_cancel():
                try:
                    item.future.set_result(item.fn())
                except BaseException as exc:
                    item.future.set_exception(exc)
        elif isinstance(item, TimerFired):
            if self._timers.fired(item):
                # quiet: a timer that lost a race with a transition has nothing to do.
                self._feed(_TIMER_EVENTS[item.timer](), quiet=True)
        elif isinstance(item, _ClockJumped):
            log.info("clock jumped by %+.0f s (suspend or clock change): checking now", item.skew)
            self._timers.reanchor()
            self._feed(E.CheckNowRequested(), quiet=True)
        elif isinstance(item, _Startup):
            self._startup(item.server)
        elif item is None:
            self._finish()
        else:
            self._command(item)

    def _command(self, cmd: C.Command) -> None:
        log.info("command %s", type(cmd).__name__)
        if isinstance(cmd, C.SignIn | C.SwitchServer | C.Quit):
            self._listeners.forget_unheard()
        if isinstance(cmd, C.SignIn):
            self._note = None
            self._sign_in(cmd)
        elif isinstance(cmd, C.SignOut):
            self._note = None
            self._link.forget_pending()
            self._feed(E.SignOutRequested())
        elif isinstance(cmd, C.SwitchServer):
            self._note = None
            target = self._connections.get(cmd.name)  # UnknownConnection before anything ends
            self._sign_in(C.SignIn(target.name, cmd.login, cmd.password, cmd.remember))
        elif isinstance(cmd, C.EndSession):
            self._end_session(cmd.session_id)
        elif isinstance(cmd, C.RequestHandover):
            self._request_handover(cmd.session_id)
        elif isinstance(cmd, C.WaitForSeat | C.CancelWait):
            self._feed(E.WaitChosen() if isinstance(cmd, C.WaitForSeat) else E.WaitCancelled())
        elif isinstance(cmd, C.AnswerCaptcha):
            self._link.answer_captcha(cmd.answer)
            self._feed(E.CaptchaAnswered())
        elif isinstance(cmd, C.RefreshCaptcha):
            self._link.new_captcha()
            self._feed(E.CaptchaNeeded("required"))
        elif isinstance(cmd, C.CheckNow):
            self._feed(E.CheckNowRequested(), quiet=True)
        elif isinstance(cmd, C.StreamChanged):
            self._feed(E.StreamChanged(cmd.live), quiet=True)
        elif isinstance(cmd, C.ReloadConfig):
            self._load_servers()
        elif isinstance(cmd, C.ShowWindow):
            log.info("another instance asked this one to show itself")
            self._listeners.show("window")
        elif isinstance(cmd, C.Quit):
            self._quit()

    # --- the engine loop ---------------------------------------------------------------------

    def _feed(self, first: E.Event, quiet: bool = False) -> None:
        """Hand ``first`` to the engine, perform the effects, feed back what they produce."""
        events = [first]
        while events:
            event = events.pop(0)
            if not self.engine.accepts(event):
                if quiet or isinstance(event, E.SignOutRequested | E.CheckNowRequested):
                    continue
                # A stale result (a timer that raced a sign-out): nothing to do.
                raise EngineError(
                    f"cannot do that while {self.engine.state.value.replace('_', ' ')}"
                )
            before = self.engine.state
            effects = self.engine.handle(event, self._clock.now())
            if self.engine.state is not before:
                log.info("state %s -> %s (%s)", before, self.engine.state, type(event).__name__)
            for effect in effects:
                event_back = self._perform(effect)
                if event_back is not None:
                    events.append(event_back)
        self._link.keep(self.engine.keeps())

    def _perform(self, effect: E.Effect) -> E.Event | None:
        """Do what the engine asked; return what happened, if it was I/O."""
        if isinstance(effect, E.Schedule):
            self._timers.set(effect.timer, effect.at)
        elif isinstance(effect, E.Cancel):
            self._timers.cancel(effect.timer)
        elif isinstance(effect, E.Notify):
            cli = self.notifier.cli_hints
            self._notices.notify(notices.render(effect, self._link.server_name(), cli=cli))
        elif isinstance(effect, E.Withdraw):
            self._notices.withdraw(effect.subject.value)
        elif isinstance(effect, E.DropSession):
            self._link.drop_session()
        elif isinstance(effect, E.SignOutRemote):
            self._link.sign_out_remote(self._quitting)
        elif isinstance(effect, E.StartSignIn):
            return self._link.start_sign_in(effect.waiting)
        elif isinstance(effect, E.FinishSignIn):
            return self._link.finish_sign_in(effect.end_session_id)
        elif isinstance(effect, E.Refresh):
            return self._link.refresh()
        elif isinstance(effect, E.Poll):
            self._load_servers()  # the CLI may have changed the list; views show it within a poll
            return self._link.poll(probe=False)
        elif isinstance(effect, E.Probe):
            return self._link.refresh() if effect.refresh else self._link.poll(probe=True)
        return None

    # --- sign-in -----------------------------------------------------------------------------

    def _startup(self, server: str | None) -> None:
        self._load_servers()
        conn = self._connections.get(server) if server else self._connections.initial()
        if conn is None:
            message = "no server configured: add one with 'vms-tray servers add'"
            self._note = Failure(FailureKind.OTHER, message)
            return
        self._link.use(conn)
        if not self._link.has_password(conn):
            message = f"no password stored for {conn.name}: run 'vms-tray signin'"
            self._note = Failure(FailureKind.CREDENTIALS, message)
            self._notices.notify(notices.password_needed(conn.name, cli=self.notifier.cli_hints))
            self._listeners.show("sign_in")
            return
        self._sign_in(C.SignIn(server=conn.name))

    def _has_password(self, server: str | None) -> bool:
        conn = self._connections.get(server) if server else self._link.current()
        if conn is None:
            conn = self._connections.initial()
        return conn is not None and self._link.has_password(conn)

    def _sign_in(self, cmd: C.SignIn) -> None:
        conn = self._connections.get(cmd.server) if cmd.server else self._link.as_listed()
        if conn is None:
            conn = self._connections.initial()
        if conn is None:
            raise InvalidInput("no server configured: add one with 'vms-tray servers add'")
        current = self._link.current()
        same = current is not None and current.name == conn.name
        plan = self.engine.plan_sign_in(same, cmd.password is not None)
        if plan is E.SignInPlan.CHECK:
            self._feed(E.CheckNowRequested(), quiet=True)
            return
        if plan is E.SignInPlan.BUSY:
            raise EngineError("a sign-in is already in progress")
        # The password first: a seat is never given up before the new sign-in can start.
        password = cmd.password if cmd.password is not None else self._link.password_for(conn)
        if password is None:
            raise PasswordNeeded(
                f"no password stored for {conn.name}: sign in from the menu or run "
                f"{command_line('signin', '--server', conn.name)} to type it"
            )
        self._secret(password)
        login = cmd.login or conn.login
        if plan is E.SignInPlan.SWITCH and current is not None:
            # Signed in to the new server before the old one is signed out: a wrong password,
            # a server that does not answer or a refused certificate gives nothing up.
            try:
                self._link.sign_in_beside(conn, login, password)
            except VmsTrayError as exc:
                raise without_retry(exc, f"you are still signed in to {current.name}") from None
        try:
            if plan in (E.SignInPlan.SIGN_OUT_FIRST, E.SignInPlan.SWITCH):
                self._feed(E.SignOutRequested())
                self._link.forget_pending()
            self._link.use(conn)
            self._link.begin(conn, login, password, cmd.remember)
            silent = type(self._link.server()).capabilities.silent_reauth
            self._feed(E.SignInRequested(silent_reauth=silent))
        finally:
            self._link.drop_ready()  # taken over by now; if not, its seat is not kept

    def _end_session(self, session_id: str) -> None:
        hold = self.engine.hold()
        if hold is E.Hold.CONFLICT:
            self._feed(E.EndSessionChosen(session_id))
        elif hold is E.Hold.SESSION:
            self._link.end_other_session(session_id)
            self._feed(E.PollDue(), quiet=True)
        else:
            raise EngineError(NOT_SIGNED_IN)

    def _request_handover(self, session_id: str) -> datetime:
        if self.engine.hold() is not E.Hold.CONFLICT:
            raise EngineError("no sign-in waits for a seat: ask for a handover at the limit")
        deadline = self._link.request_handover(session_id)
        listing = self._link.conflict_sessions()
        holder = (
            next((s for s in listing.sessions if s.id == session_id), None) if listing else None
        )
        # The seat is held for us once it is released; the notice says whose and until when.
        left = (deadline - datetime.now(UTC)).total_seconds()
        self._feed(E.WaitChosen(handover_in=left, handover_of=holder.device if holder else ""))
        return deadline

    # --- stop --------------------------------------------------------------------------------

    def _quit(self) -> None:
        if self._done.is_set():
            return
        self._quitting = True
        self._link.forget_pending()
        self._feed(E.SignOutRequested(), quiet=True)
        self._notices.withdraw_all()  # nothing of ours stays on screen after Quit
        self._finish()

    def _finish(self) -> None:
        self._timers.cancel_all()
        self._link.close()
        self._publish()
        self._done.set()
        self._listeners.stopped()

    # --- views -------------------------------------------------------------------------------

    def _load_servers(self) -> None:
        try:
            conns: Sequence[Connection] = self._connections.all()
        except VmsTrayError as exc:
            log.warning("cannot read the server list: %s", exc)
            return
        self._servers = tuple(ServerChoice(c.name, c.default, c.kind) for c in conns)
        self._link.follow(conns)

    def _on_action(self, action_id: str) -> None:
        # The notifier's thread: the password check (config, keyring) runs on the worker.
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put(_Call(lambda: self._act(action_id), future))

    def _act(self, action_id: str) -> None:
        if action_id == notices.SIGN_IN and self._has_password(None):
            self.post(C.SignIn())
        elif action_id in notices.COMMANDS:
            self.post(notices.COMMANDS[action_id])
        else:
            self._listeners.show(action_id)

    def _publish(self) -> None:
        now = self._clock.now()
        view, margin = self.engine.view(now), self.settings.warn_margin
        snap = snapshots.picture(self._link, view, self._note, self._servers, margin)
        with self._lock:
            self._snap = snap
            self._expires_at = None if view.expires_in is None else now + view.expires_in
        key = replace(snap, expires_in=None)
        if key == self._published:
            return
        self._published = key
        self._listeners.publish(snap)
