"""The daemon core: where the session engine, server I/O, timers and threads meet.

One worker thread owns the engine and the server client. Everything else (tray, control socket,
timers, heartbeat, signal handlers) only puts items on its queue, so no lock guards the engine and
HTTP calls never run on a caller's thread. After each item the worker publishes an immutable
Snapshot and, when it changed, calls the subscribers.

See ``vms_tray.daemon`` for the public, thread-safe API.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from vms_tray import commands as C
from vms_tray.connections.model import Connection, Trust
from vms_tray.connections.rules import name_key
from vms_tray.daemon import notices
from vms_tray.daemon.clock import Clock
from vms_tray.daemon.outcomes import keepalive_event, sign_in_event
from vms_tray.daemon.ports import Connections, Passwords, ServerFactory
from vms_tray.daemon.scheduler import Scheduler
from vms_tray.daemon.settings import DaemonSettings
from vms_tray.daemon.timers import TimerFired, Timers
from vms_tray.errors import (
    AuthError,
    CredentialError,
    EngineError,
    InvalidInput,
    ServerError,
    SessionNotFound,
    TokenExpired,
    Unsupported,
    VmsTrayError,
)
from vms_tray.kinds.base import (
    Captcha,
    CaptchaAnswer,
    CaptchaChallenge,
    ClientInfo,
    LimitConflict,
    ServerKind,
    SessionList,
    SignedIn,
    SignInOutcome,
    Tokens,
)
from vms_tray.notify.base import Notice, Notifier
from vms_tray.session import engine as E
from vms_tray.session.policies import Policy
from vms_tray.session.snapshot import ServerChoice, Snapshot, State
from vms_tray.text import command

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_SESSIONS = "this server does not report sessions"

_TIMER_EVENTS: dict[E.Timer, Callable[[], E.Event]] = {
    E.Timer.REFRESH: E.RefreshDue,
    E.Timer.POLL: E.PollDue,
    E.Timer.RETRY: E.RetryDue,
    E.Timer.SEAT: E.SeatRetryDue,
}


@dataclass
class _Pending:
    """The sign-in in progress: who, with what, and the captcha answer to send with it."""

    connection: Connection
    login: str
    password: str | None = field(default=None, repr=False)
    remember: bool = False
    captcha: CaptchaAnswer | None = None


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


def _endpoint(conn: Connection) -> tuple[str, str, str, Trust]:
    """What a live session depends on: changing any of it needs a new sign-in."""
    return (conn.url, conn.login, conn.kind, conn.trust)


def _followed(current: Connection, conns: Sequence[Connection]) -> Connection | None:
    """The entry of a reloaded list that is the connection in use: the one with its name, or,
    when that name is gone (renamed), the only one with its endpoint."""
    key = name_key(current.name)
    named = next((c for c in conns if name_key(c.name) == key), None)
    if named is not None:
        return named
    same = [c for c in conns if _endpoint(c) == _endpoint(current)]
    return same[0] if len(same) == 1 else None


def _safe(exc: Exception) -> str:
    """Our errors' messages are safe to log; a foreign one is named by class only."""
    return str(exc) if isinstance(exc, VmsTrayError) else type(exc).__name__


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
    ) -> None:
        self.settings = settings or DaemonSettings()
        self._connections = connections
        self._passwords = passwords
        self._factory = server_factory
        self._notifier = notifier
        self.notifier = notifier  # the tray routes notification buttons through it
        self._scheduler = scheduler
        self._clock = clock
        self._client = client_info
        self._secret = on_secret or (lambda _s: None)
        self.engine = E.Engine(Policy(self.settings.timing(), rng))

        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards what other threads read: snapshot, tokens...
        self._subscribers: list[Callable[[Snapshot], None]] = []
        self._show_listeners: list[Callable[[str], None]] = []
        self._unheard: str | None = None  # _lock: the last show request no listener heard
        self._stop_listeners: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

        # Worker-owned state (read by other threads only under _lock, where noted).
        self._conn: Connection | None = None  # _lock
        self._server: ServerKind | None = None
        self._tokens: Tokens | None = None  # _lock
        self._pending: _Pending | None = None
        self._captcha: Captcha | None = None  # _lock
        self._captcha_at = 0.0
        self._captcha_reason = "required"  # _lock: why it was asked (invalid/expired answer)
        self._conflict: LimitConflict | None = None  # _lock
        self._conflict_at = 0.0
        self._listing: SessionList | None = None  # the last poll's answer
        self._note: str | None = None  # a daemon-level problem (no password, unknown server)
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
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def on_show(self, callback: Callable[[str], None]) -> None:
        """``callback(reason)``: "window" (another instance started), "sign_in" (a password is
        needed), "show_sessions", "show_captcha" (a notification action).

        A request made while nobody listened (the start-up "sign_in" comes before the tray is up)
        is handed to the first listener now, unless a sign-in or quit since made it moot."""
        with self._lock:
            self._show_listeners.append(callback)
            missed, self._unheard = self._unheard, None
        if missed is not None:
            log.info("replaying the show request %r to a late listener", missed)
            self._call_show(callback, missed)

    def on_stop(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._stop_listeners.append(callback)

    def post(self, command: C.Command) -> None:
        self._queue.put(command)

    def captcha(self) -> Captcha | None:
        """The pending captcha with ``expires_in`` counted down to now, or None."""
        with self._lock:
            captcha, at = self._captcha, self._captcha_at
        if captcha is None:
            return None
        return replace(captcha, expires_in=max(0.0, captcha.expires_in - (self._clock.now() - at)))

    def conflict_sessions(self) -> SessionList | None:
        """In ``limit_reached``: the sessions the server listed with the conflict."""
        with self._lock:
            conflict = self._conflict
        if conflict is None:
            return None
        return SessionList(conflict.limit, conflict.sessions)

    def sessions(self, timeout: float = 15.0) -> SessionList:
        """The account's sessions, fetched now (blocking; never call from a subscriber)."""
        return self.call(self._fetch_sessions, timeout)

    def end_session(self, session_id: str, timeout: float = 15.0) -> None:
        """End another session: in ``limit_reached`` this finishes our sign-in (the engine's
        path); when signed in it frees a seat for someone else. Blocking."""
        self.call(lambda: self._end_session(session_id), timeout)

    def execute(self, command: C.Command, timeout: float = 15.0) -> None:
        """Like ``post`` but waits until the worker handled it, raising what it raised."""
        self.call(lambda: self._command(command), timeout)

    def call(self, fn: Callable[[], T], timeout: float = 15.0) -> T:
        """Run ``fn`` on the worker thread and return its result (or raise its error)."""
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
                    self._emergency_sign_out(left)
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
            self._note = str(exc)
            if isinstance(item, _Startup):
                # No command is waiting for this answer: say it where the user will look.
                self._notify(notices.sign_in_failed(self._server_name(), str(exc)))
        except Exception:
            log.exception("%s failed unexpectedly", type(item).__name__)
            self._note = "internal error (see the log)"
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
            self._on_clock_jump(item.skew)
        elif isinstance(item, _Startup):
            self._startup(item.server)
        elif item is None:
            self._finish()
        else:
            self._command(item)

    def _command(self, cmd: C.Command) -> None:
        log.info("command %s", type(cmd).__name__)
        if isinstance(cmd, C.SignIn | C.SwitchServer | C.Quit):
            with self._lock:
                self._unheard = None  # a window asked for earlier would now be out of date
        if isinstance(cmd, C.SignIn):
            self._note = None
            self._sign_in(cmd)
        elif isinstance(cmd, C.SignOut):
            self._note = None
            self._pending = None
            self._feed(E.SignOutRequested())
        elif isinstance(cmd, C.SwitchServer):
            self._note = None
            target = self._connections.get(cmd.name)  # UnknownConnection before anything ends
            self._sign_in(
                C.SignIn(
                    server=target.name,
                    login=cmd.login,
                    password=cmd.password,
                    remember=cmd.remember,
                )
            )
        elif isinstance(cmd, C.EndSession):
            self._end_session(cmd.session_id)
        elif isinstance(cmd, C.WaitForSeat):
            self._feed(E.WaitChosen())
        elif isinstance(cmd, C.CancelWait):
            self._feed(E.WaitCancelled())
        elif isinstance(cmd, C.AnswerCaptcha):
            self._answer_captcha(cmd.answer)
        elif isinstance(cmd, C.RefreshCaptcha):
            self._refresh_captcha()
        elif isinstance(cmd, C.CheckNow):
            self._feed(E.CheckNowRequested(), quiet=True)
        elif isinstance(cmd, C.ReloadConfig):
            self._load_servers()
        elif isinstance(cmd, C.ShowWindow):
            log.info("another instance asked this one to show itself")
            self._show("window")
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
                events += self._perform(effect)
        self._after_transition()

    def _after_transition(self) -> None:
        state = self.engine.state
        if state is not State.CAPTCHA_REQUIRED:
            with self._lock:
                self._captcha = None
        if state not in (State.LIMIT_REACHED, State.SIGNING_IN):
            with self._lock:
                self._conflict = None
        if state in (State.SIGNED_OUT, State.ERROR, State.ENDED) and self._pending is not None:
            self._pending.password = None

    def _perform(self, effect: E.Effect) -> list[E.Event]:
        if isinstance(effect, E.Schedule):
            self._timers.set(effect.timer, effect.at)
        elif isinstance(effect, E.Cancel):
            self._timers.cancel(effect.timer)
        elif isinstance(effect, E.Notify):
            cli = self._notifier.cli_hints
            self._notify(notices.render(effect, self._server_name(), cli=cli))
        elif isinstance(effect, E.Withdraw):
            self._withdraw(effect.subject.value)
        elif isinstance(effect, E.DropSession):
            self._listing = None
            with self._lock:
                self._tokens = None
        elif isinstance(effect, E.SignOutRemote):
            self._sign_out_remote()
        elif isinstance(effect, E.StartSignIn):
            return [self._start_sign_in()]
        elif isinstance(effect, E.FinishSignIn):
            return [self._finish_sign_in(effect.end_session_id)]
        elif isinstance(effect, E.Refresh):
            return self._refresh()
        elif isinstance(effect, E.Poll):
            self._load_servers()  # the CLI may have changed the list; views show it within a poll
            return self._poll(probe=False)
        elif isinstance(effect, E.Probe):
            return self._refresh() if effect.refresh else self._poll(probe=True)
        return []

    # --- clock jumps ---

    def _on_clock_jump(self, skew: float) -> None:
        log.info("clock jumped by %+.0f s (suspend or clock change): checking now", skew)
        self._timers.reanchor()
        self._feed(E.CheckNowRequested(), quiet=True)

    # --- sign-in -----------------------------------------------------------------------------

    def _startup(self, server: str | None) -> None:
        self._load_servers()
        conn = self._connections.get(server) if server else self._connections.initial()
        if conn is None:
            self._note = "no server configured: add one with 'vms-tray servers add'"
            return
        with self._lock:
            self._conn = conn
        if self._password_for(conn) is None:
            self._note = f"no password stored for {conn.name}: run 'vms-tray signin'"
            self._notify(notices.password_needed(conn.name, cli=self._notifier.cli_hints))
            self._show("sign_in")
            return
        self._sign_in(C.SignIn(server=conn.name))

    def _password_for(self, conn: Connection) -> str | None:
        try:
            return self._passwords.get(conn)
        except CredentialError as exc:
            log.warning("cannot read the stored password: %s", exc)
            return None

    def has_password(self, server: str | None) -> bool:
        """Whether a sign-in to ``server`` (None: the current one) can run without asking."""
        conn = self._connections.get(server) if server else (self._current() or None)
        if conn is None:
            conn = self._connections.initial()
        return conn is not None and self._password_for(conn) is not None

    def _current(self) -> Connection | None:
        with self._lock:
            return self._conn

    def _current_as_listed(self) -> Connection | None:
        """The connection in use as the list has it now (edited since?), else as it was."""
        current = self._current()
        if current is None:
            return None
        try:
            return _followed(current, self._connections.all()) or current
        except VmsTrayError:
            return current

    def _sign_in(self, cmd: C.SignIn) -> None:
        conn = self._connections.get(cmd.server) if cmd.server else self._current_as_listed()
        if conn is None:
            conn = self._connections.initial()
        if conn is None:
            raise InvalidInput("no server configured: add one with 'vms-tray servers add'")
        state = self.engine.state
        current = self._current()
        working = state in (State.SIGNED_IN, State.RECONNECTING) and current is not None
        same = current is not None and current.name == conn.name
        if working and same and cmd.password is None and self.engine.context.has_session:
            self._feed(E.CheckNowRequested(), quiet=True)
            return
        if state is State.SIGNING_IN:
            raise EngineError("a sign-in is already in progress")
        # The password first: a seat is never given up before the new sign-in can start.
        password = cmd.password if cmd.password is not None else self._password_for(conn)
        if password is None:
            raise CredentialError(
                f"no password stored for {conn.name}: sign in from the menu or run "
                f"{command('signin', '--server', conn.name)} to type it"
            )
        self._secret(password)
        if working or (not same and state is not State.SIGNED_OUT):
            # Switching (free the old seat now), or retrying a sign-in with what was typed.
            self._feed(E.SignOutRequested())
            self._pending = None
        self._switch_to(conn)
        self._pending = _Pending(conn, cmd.login or conn.login, password, cmd.remember)
        silent = type(self._server_for()).capabilities.silent_reauth
        self._feed(E.SignInRequested(silent_reauth=silent))

    def _switch_to(self, conn: Connection) -> None:
        current = self._current()
        if current is not None and current == conn and self._server is not None:
            return
        if self._server is not None:
            self._server.close()
            self._server = None
        with self._lock:
            self._conn = conn
            self._tokens = None

    def _server_for(self) -> ServerKind:
        if self._server is None:
            conn = self._current()
            if conn is None:
                raise InvalidInput("no server selected: run 'vms-tray signin --server NAME'")
            self._server = self._factory(conn, self.settings.request_timeout)
        return self._server

    def _start_sign_in(self) -> E.Event:
        p = self._pending
        conn = self._current()
        if p is None and conn is not None:  # silent re-auth: the stored password
            p = self._pending = _Pending(conn, conn.login)
        if p is not None and p.password is None:
            p.password = self._password_for(p.connection)
        if p is None or p.password is None:
            return E.SignInRejected(
                "no password to sign in with: run 'vms-tray signin'", credentials=True
            )
        answer, p.captcha = p.captcha, None
        try:
            outcome = self._server_for().sign_in(p.login, p.password, self._client, answer)
        except ServerError as exc:
            return sign_in_event(exc)
        except Exception as exc:  # a bug in a server kind must not leave us "signing in"
            return self._unexpected(exc, during_sign_in=True)
        return self._outcome(outcome)

    def _finish_sign_in(self, session_id: str) -> E.Event:
        with self._lock:
            conflict = self._conflict
        if conflict is None:
            return self._start_sign_in()
        server = self._server_for()
        try:
            try:
                server.end_session(conflict.conflict_token, session_id)
            except SessionNotFound:
                log.info("the chosen session had already ended")
            outcome = server.finish_sign_in(conflict.conflict_token, self._client)
        except AuthError:
            log.info("the conflict expired; signing in again")
            return self._start_sign_in()
        except ServerError as exc:
            return sign_in_event(exc)
        except Exception as exc:
            return self._unexpected(exc, during_sign_in=True)
        return self._outcome(outcome)

    def _outcome(self, outcome: SignInOutcome) -> E.Event:
        now = self._clock.now()
        if isinstance(outcome, SignedIn):
            self._set_tokens(outcome.tokens)
            self._signed_in_bookkeeping()
            limit = outcome.limit
            return E.SignInSucceeded(
                outcome.tokens.expires_in,
                limit.active if limit else None,
                limit.max if limit else None,
            )
        if isinstance(outcome, CaptchaChallenge):
            with self._lock:
                self._captcha, self._captcha_at = outcome.captcha, now
                self._captcha_reason = outcome.reason
            return E.CaptchaNeeded(outcome.reason)
        self._secret(outcome.conflict_token)
        with self._lock:
            self._conflict, self._conflict_at = outcome, now
        return E.LimitHit(outcome.limit.active, outcome.limit.max)

    def _signed_in_bookkeeping(self) -> None:
        p, conn = self._pending, self._current()
        if p is None or conn is None:
            return
        if p.remember and p.password is not None:
            try:
                self._passwords.set(conn, p.password)
            except CredentialError as exc:
                log.warning("could not store the password: %s", exc)
                self._note = f"signed in, but the password was not stored: {exc}"
        try:
            self._connections.mark_used(conn.name)
        except VmsTrayError as exc:
            log.warning("could not record the last used server: %s", exc)
        if not type(self._server_for()).capabilities.silent_reauth:
            p.password = None  # nothing needs it any more
        p.remember = False

    def _answer_captcha(self, answer: str) -> None:
        self._secret(answer)
        with self._lock:
            captcha = self._captcha
        if captcha is None or self._pending is None:
            raise EngineError("no captcha is waiting for an answer")
        self._pending.captcha = CaptchaAnswer(captcha.id, answer.strip())
        self._feed(E.CaptchaAnswered())

    def _refresh_captcha(self) -> None:
        with self._lock:
            captcha = self._captcha
        if captcha is None:
            raise EngineError("no captcha is waiting for an answer")
        new = self._server_for().new_captcha(replaces=captcha.id)
        with self._lock:
            self._captcha, self._captcha_at = new, self._clock.now()
            self._captcha_reason = "required"
        self._feed(E.CaptchaNeeded("required"))

    # --- keep-alive --------------------------------------------------------------------------

    def _set_tokens(self, tokens: Tokens) -> None:
        with self._lock:
            old = self._tokens
            if old is not None and tokens.refresh_token is None and old.refresh_token:
                # A server that does not rotate refresh tokens: keep the one we have.
                tokens = replace(tokens, refresh_token=old.refresh_token)
            if old is not None and tokens.session_id is None and old.session_id:
                tokens = replace(tokens, session_id=old.session_id)
            self._tokens = tokens
        self._secret(tokens.access_token)
        if tokens.refresh_token:
            self._secret(tokens.refresh_token)

    def _refresh(self) -> list[E.Event]:
        with self._lock:
            tokens = self._tokens
        if tokens is None:
            return [E.RefreshExpired()]
        try:
            new = self._server_for().refresh(tokens)
        except ServerError as exc:
            return [keepalive_event(exc, self._listing)]
        except Exception as exc:
            return [self._unexpected(exc, during_sign_in=False)]
        self._set_tokens(new)
        return [E.Refreshed(new.expires_in)]

    def _poll(self, probe: bool, retried: bool = False) -> list[E.Event]:
        with self._lock:
            tokens = self._tokens
        if tokens is None:
            return [E.RefreshExpired()]
        server = self._server_for()
        in_use = maximum = None
        try:
            if type(server).capabilities.list_sessions:
                listing = server.list_sessions(tokens.access_token)
                self._listing = listing
                in_use, maximum = listing.limit.active, listing.limit.max
            else:
                server.check(tokens)
        except TokenExpired:
            if retried:
                return [E.RefreshExpired()]
            # The access token lapsed (a suspend): refresh, then ask again.
            events = self._refresh()
            if isinstance(events[0], E.Refreshed):
                return events + self._poll(probe=False, retried=True)
            return events
        except ServerError as exc:
            return [keepalive_event(exc, self._listing)]
        except Exception as exc:
            return [self._unexpected(exc, during_sign_in=False)]
        if probe:
            return [E.ServerAnswered(in_use, maximum)]
        return [E.Polled(in_use, maximum)]

    def _unexpected(self, exc: Exception, during_sign_in: bool) -> E.Event:
        # Only the class name: a foreign message could carry a secret.
        log.error(
            "unexpected %s from the %s client",
            type(exc).__name__,
            self._server_name(),
            exc_info=exc,
        )
        message = f"unexpected {type(exc).__name__} talking to the server (see the log)"
        if during_sign_in:
            return E.Failed(message)
        return E.NetworkFailed(message)  # keep the session; the next try may work

    # --- sessions ----------------------------------------------------------------------------

    def _fetch_sessions(self) -> SessionList:
        server = self._server_for()
        if not type(server).capabilities.list_sessions:
            raise Unsupported(NO_SESSIONS)
        with self._lock:
            tokens, conflict = self._tokens, self._conflict
        if self.engine.state is State.LIMIT_REACHED and conflict is not None:
            try:
                return server.list_sessions(conflict.conflict_token)
            except AuthError:  # the conflict token expired: what it showed is all we have
                return SessionList(conflict.limit, conflict.sessions)
        if tokens is None or self.engine.state not in (State.SIGNED_IN, State.RECONNECTING):
            raise EngineError("not signed in: run 'vms-tray signin' first")
        return server.list_sessions(tokens.access_token)

    def _end_session(self, session_id: str) -> None:
        state = self.engine.state
        if state is State.LIMIT_REACHED:
            self._feed(E.EndSessionChosen(session_id))
            return
        with self._lock:
            tokens = self._tokens
        if state is not State.SIGNED_IN or tokens is None:
            raise EngineError("not signed in: run 'vms-tray signin' first")
        server = self._server_for()
        if not type(server).capabilities.end_sessions:
            raise Unsupported("this server cannot end sessions")
        if tokens.session_id is not None and tokens.session_id == session_id:
            raise InvalidInput("that is this session: use 'vms-tray signout' to end it")
        server.end_session(tokens.access_token, session_id)
        log.info("ended another session")
        self._feed(E.PollDue(), quiet=True)

    # --- sign-out and stop -------------------------------------------------------------------

    def _sign_out_remote(self) -> None:
        with self._lock:
            tokens, conn = self._tokens, self._conn
        if tokens is None or conn is None:
            return
        try:
            if self._quitting:
                # Quit must finish within 2 s: a client whose every request is bounded.
                server = self._factory(conn, self.settings.sign_out_timeout)
                try:
                    server.sign_out(tokens)
                finally:
                    server.close()
            else:
                self._server_for().sign_out(tokens)
            log.info("signed out of %s", conn.name)
        except Exception as exc:  # best effort: the seat frees itself when the token expires
            log.warning("sign-out of %s failed: %s", conn.name, _safe(exc))
        with self._lock:
            self._tokens = None

    def _emergency_sign_out(self, budget: float) -> None:
        with self._lock:
            tokens, conn = self._tokens, self._conn
        if tokens is None or conn is None or budget <= 0.05:
            return
        try:
            server = self._factory(conn, min(self.settings.sign_out_timeout, budget))
            try:
                server.sign_out(tokens)
            finally:
                server.close()
        except Exception as exc:
            log.warning("sign-out at quit failed: %s", _safe(exc))

    def _quit(self) -> None:
        if self._done.is_set():
            return
        self._quitting = True
        self._pending = None
        self._feed(E.SignOutRequested(), quiet=True)
        self._withdraw(None)  # nothing of ours stays on screen after Quit
        self._finish()

    def _finish(self) -> None:
        self._timers.cancel_all()
        if self._server is not None:
            self._server.close()
            self._server = None
        self._publish()
        self._done.set()
        with self._lock:
            listeners = list(self._stop_listeners)
        for cb in listeners:
            try:
                cb()
            except Exception:
                log.exception("stop listener failed")

    # --- views -------------------------------------------------------------------------------

    def _server_name(self) -> str:
        conn = self._current()
        return conn.name if conn else "vms-tray"

    def _load_servers(self) -> None:
        try:
            conns: Sequence[Connection] = self._connections.all()
        except VmsTrayError as exc:
            log.warning("cannot read the server list: %s", exc)
            return
        self._servers = tuple(ServerChoice(c.name, c.default, c.kind) for c in conns)
        current = self._current()
        if current is None:
            return
        followed = _followed(current, conns)
        if followed is None or followed == current:
            return
        if _endpoint(followed) != _endpoint(current):
            # The session lives on the old address; the next sign-in uses the edited one.
            log.info(
                "server %s was edited while in use; the change applies at the next sign-in",
                current.name,
            )
            return
        if followed.name != current.name:
            log.info("server %s was renamed to %s", current.name, followed.name)
        with self._lock:
            self._conn = followed

    def _notify(self, notice: Notice) -> None:
        try:
            self._notifier.notify(notice)
        except Exception:  # a backend must not take the daemon down
            log.exception("notification backend %s failed", self._notifier.name)

    def _withdraw(self, topic: str | None) -> None:
        """Take back the notice on ``topic`` (``None``: every notice)."""
        try:
            if topic is None:
                self._notifier.withdraw_all()
            else:
                self._notifier.withdraw(topic)
        except Exception:  # a backend must not take the daemon down
            log.exception("notification backend %s failed", self._notifier.name)

    def _show(self, reason: str) -> None:
        with self._lock:
            listeners = list(self._show_listeners)
            if not listeners:
                self._unheard = reason
        for cb in listeners:
            self._call_show(cb, reason)

    @staticmethod
    def _call_show(callback: Callable[[str], None], reason: str) -> None:
        try:
            callback(reason)
        except Exception:
            log.exception("show listener failed")

    def _on_action(self, action_id: str) -> None:
        if action_id == notices.SIGN_IN and self.has_password(None):
            self.post(C.SignIn())
        elif action_id == notices.WAIT_FOR_SEAT:
            self.post(C.WaitForSeat())
        else:
            self._show(action_id)

    @staticmethod
    def _frees_seat(conn: Connection | None) -> bool:
        """Before a client exists: what the connection's kind says (unknown kinds: assume so)."""
        if conn is None:
            return True
        from vms_tray.kinds import capabilities_for

        try:
            return capabilities_for(conn.kind).server_side_sign_out
        except VmsTrayError:
            return True

    def _publish(self) -> None:
        now = self._clock.now()
        view = self.engine.view(now)
        conn = self._current()
        caps = type(self._server).capabilities if self._server is not None else None
        frees = caps.server_side_sign_out if caps else self._frees_seat(conn)
        with self._lock:
            captcha, reason = self._captcha, self._captcha_reason
        snap = Snapshot(
            state=view.state,
            server=conn.name if conn else None,
            login=conn.login if conn else None,
            kind=conn.kind if conn else None,
            sessions_in_use=view.in_use,
            max_sessions=view.max_sessions,
            warn_margin=self.settings.warn_margin,
            expires_in=view.expires_in,
            last_error=view.last_error or self._note,
            ended_by=view.ended_by,
            waiting_for_seat=view.waiting_for_seat,
            can_list_sessions=caps.list_sessions if caps else True,
            sign_out_frees_seat=frees,
            servers=self._servers,
            captcha_id=captcha.id if captcha is not None else None,
            captcha_reason=reason if captcha is not None else None,
        )
        with self._lock:
            self._snap = snap
            self._expires_at = None if view.expires_in is None else now + view.expires_in
            subscribers = list(self._subscribers)
        key = replace(snap, expires_in=None)
        if key == self._published:
            return
        self._published = key
        for cb in subscribers:
            try:
                cb(snap)
            except Exception:
                log.exception("subscriber failed")
