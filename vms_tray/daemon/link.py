"""The server session: the connection in use, its client, the tokens, the sign-in in progress
(login, password, captcha answer), the captcha on offer and the seat conflict.

Its methods perform the engine's I/O effects and return what happened as an engine event
(``results``); they never decide what happens next. The worker thread calls every method but the
few marked thread-safe, which read under the lock what other threads may see.
Longer than 500 lines because it holds the whole server session; the sign-in's part (pending,
captcha, conflict, queue, handover) is the next to move out, beside keep-alive and sign-out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from vms_tray.connections.model import Connection, Trust
from vms_tray.connections.rules import name_key
from vms_tray.daemon import results
from vms_tray.daemon.clock import Clock
from vms_tray.daemon.memory import SafeMemory
from vms_tray.daemon.ports import Connections, Memory, Passwords, ServerFactory
from vms_tray.daemon.settings import DaemonSettings
from vms_tray.errors import (
    AuthError,
    CredentialError,
    EngineError,
    InvalidInput,
    NetworkError,
    SessionNotFound,
    TrustError,
    Unsupported,
    VmsTrayError,
    loggable,
)
from vms_tray.kinds import capabilities_for
from vms_tray.kinds.base import Capabilities, ClientInfo, ServerKind
from vms_tray.session import engine as E
from vms_tray.session.failures import Failure, FailureKind
from vms_tray.session.records import (
    Captcha,
    CaptchaAnswer,
    CaptchaChallenge,
    Handover,
    LimitConflict,
    SessionList,
    SignedIn,
    SignInOutcome,
    Tokens,
)

log = logging.getLogger(__name__)

NO_SESSIONS = "this server does not report sessions"
NOT_SIGNED_IN = "not signed in: run 'vms-tray signin' first"


@dataclass
class Pending:
    """The sign-in in progress: who, with what, and the captcha answer to send with it."""

    connection: Connection
    login: str
    password: str | None = field(default=None, repr=False)
    remember: bool = False
    captcha: CaptchaAnswer | None = None


@dataclass
class Ready:
    """A sign-in made with a client of its own while another session went on (a switch): the
    answer (signed in, captcha, seat conflict) for start_sign_in to take over with that client."""

    connection: Connection
    server: ServerKind
    outcome: SignInOutcome


def endpoint(conn: Connection) -> tuple[str, str, str, Trust]:
    """What a live session depends on: changing any of it needs a new sign-in."""
    return (conn.url, conn.login, conn.kind, conn.trust)


def followed(current: Connection, conns: Sequence[Connection]) -> Connection | None:
    """The entry of a reloaded list that is the connection in use: the one with its name, or,
    when that name is gone (renamed), the only one with its endpoint."""
    key = name_key(current.name)
    named = next((c for c in conns if name_key(c.name) == key), None)
    if named is not None:
        return named
    same = [c for c in conns if endpoint(c) == endpoint(current)]
    return same[0] if len(same) == 1 else None


def frees_seat(conn: Connection | None) -> bool:
    """Before a client exists: what the connection's kind says (unknown kinds: assume so)."""
    if conn is None:
        return True
    try:
        return capabilities_for(conn.kind).server_side_sign_out
    except VmsTrayError:
        return True


class Link:
    def __init__(
        self,
        *,
        connections: Connections,
        passwords: Passwords,
        memory: Memory | None,
        server_factory: ServerFactory,
        clock: Clock,
        client_info: ClientInfo,
        settings: DaemonSettings,
        on_secret: Callable[[str], None],
        on_note: Callable[[Failure], None],
    ) -> None:
        self._connections = connections
        self._passwords = passwords
        self._memory = SafeMemory(memory)
        self._factory = server_factory
        self._clock = clock
        self._client = client_info
        self._settings = settings
        self._secret = on_secret
        self._note = on_note
        self._lock = threading.Lock()  # guards what other threads read (marked _lock)
        self._conn: Connection | None = None  # _lock
        self._server: ServerKind | None = None
        self._tokens: Tokens | None = None  # _lock
        self._pending: Pending | None = None
        self._captcha: Captcha | None = None  # _lock
        self._captcha_at = 0.0
        self._captcha_reason = "required"  # _lock: why it was asked (invalid/expired answer)
        self._conflict: LimitConflict | None = None  # _lock
        self._listing: SessionList | None = None  # the last poll's answer
        self._ready: Ready | None = None  # a switch's sign-in, made before the sign-out

    # --- thread-safe views -------------------------------------------------------------------

    def current(self) -> Connection | None:
        with self._lock:
            return self._conn

    def server_name(self) -> str:
        conn = self.current()
        return conn.name if conn else "vms-tray"

    def captcha(self) -> Captcha | None:
        """The pending captcha with ``expires_in`` counted down to now, or None."""
        with self._lock:
            captcha, at = self._captcha, self._captcha_at
        if captcha is None:
            return None
        return replace(captcha, expires_in=max(0.0, captcha.expires_in - (self._clock.now() - at)))

    def captcha_offer(self) -> tuple[str | None, str | None]:
        """The id of the captcha on offer and why it was asked (None, None: none)."""
        with self._lock:
            if self._captcha is None:
                return None, None
            return self._captcha.id, self._captcha_reason

    def limit_as_of(self) -> datetime | None:
        """When the last poll's limit was stated, if the server states it only now and then."""
        return self._listing.limit.as_of if self._listing is not None else None

    def handover(self) -> Handover | None:
        """The handover asked of our session, as the last poll saw it."""
        return results.handover_of(self._listing)

    def conflict_sessions(self) -> SessionList | None:
        with self._lock:
            conflict = self._conflict
        if conflict is None:
            return None
        return SessionList(conflict.limit, conflict.sessions)

    def emergency_sign_out(self, budget: float) -> None:
        """From the quitting thread while the worker is stuck: free the seat within ``budget``."""
        with self._lock:
            tokens, conn = self._tokens, self._conn
        if tokens is None or conn is None or budget <= 0.05:
            return
        try:
            server = self._factory(conn, min(self._settings.sign_out_timeout, budget))
            try:
                server.sign_out(tokens)
            finally:
                server.close()
        except Exception as exc:
            log.warning("sign-out at quit failed: %s", loggable(exc))

    # --- the connection ----------------------------------------------------------------------

    def capabilities(self) -> Capabilities | None:
        """The client's capabilities, None before a client exists."""
        return type(self._server).capabilities if self._server is not None else None

    def server(self) -> ServerKind:
        if self._server is None:
            conn = self.current()
            if conn is None:
                raise InvalidInput("no server selected: run 'vms-tray signin --server NAME'")
            self._server = self._factory(conn, self._settings.request_timeout)
        return self._server

    def use(self, conn: Connection) -> None:
        """Make ``conn`` the connection in use; a different one gets a new client."""
        current = self.current()
        if current is not None and current == conn and self._server is not None:
            return
        self._close_server()  # not a switch's sign-in made beside it: that one is taken over
        with self._lock:
            self._conn = conn
            self._tokens = None
        if self._ready is not None and self._ready.connection == conn:
            self._server = self._ready.server  # the switch's client, already signed in

    def follow(self, conns: Sequence[Connection]) -> None:
        """A reloaded list: follow a rename of the connection in use (not an edited address)."""
        current = self.current()
        if current is None:
            return
        entry = followed(current, conns)
        if entry is None or entry == current:
            return
        if endpoint(entry) != endpoint(current):
            # The session lives on the old address; the next sign-in uses the edited one.
            log.info(
                "server %s was edited while in use; the change applies at the next sign-in",
                current.name,
            )
            return
        if entry.name != current.name:
            log.info("server %s was renamed to %s", current.name, entry.name)
        with self._lock:
            self._conn = entry

    def as_listed(self) -> Connection | None:
        """The connection in use as the list has it now (edited since?), else as it was."""
        current = self.current()
        if current is None:
            return None
        try:
            return followed(current, self._connections.all()) or current
        except VmsTrayError:
            return current

    def password_for(self, conn: Connection) -> str | None:
        try:
            return self._passwords.get(conn)
        except CredentialError as exc:
            log.warning("cannot read the stored password: %s", exc)
            return None

    def has_password(self, conn: Connection) -> bool:
        """Whether a password is stored for ``conn``, asked without reading it where the
        keyring can (``vms-tray servers list`` asks for each server)."""
        try:
            return self._passwords.has(conn)
        except CredentialError as exc:
            log.warning("cannot look up the stored password: %s", exc)
            return False

    def sign_in_beside(self, conn: Connection, login: str, password: str) -> None:
        """Sign in to ``conn`` with a client of its own while the session in use goes on (a
        switch): raises what that sign-in met (a wrong password, no answer, a refused
        certificate), and nothing is given up; any answer is kept for start_sign_in, which takes
        it over with that client once the old session is signed out. A session left on ``conn``
        (a crash) is resumed by start_sign_in instead, and the account in use is not signed in
        to twice: both are only asked whether they answer."""
        self.drop_ready()
        current = self.current()
        server = self._factory(conn, self._settings.request_timeout)
        if self._memory.session(conn) is not None or (
            current is not None and (current.url, current.login) == (conn.url, login)
        ):
            # Only asked whether it answers: the same account on the same server (two entries
            # for one address) would count our own session against its limit.
            try:
                server.server_info()
            finally:
                server.close()
            return
        try:
            outcome = server.sign_in(login, password, self._client_for(conn, login), None)
        except BaseException:
            server.close()
            raise
        self._ready = Ready(conn, server, outcome)

    def drop_ready(self) -> None:
        """A switch's sign-in nobody took over: its seat is given back, its client closed."""
        ready, self._ready = self._ready, None
        if ready is None:
            return
        if isinstance(ready.outcome, SignedIn):
            try:
                ready.server.sign_out(ready.outcome.tokens)
            except Exception as exc:  # best effort: the seat frees itself when it expires
                log.warning("sign-out of %s failed: %s", ready.connection.name, loggable(exc))
        if ready.server is not self._server:
            ready.server.close()

    def close(self) -> None:
        self.drop_ready()
        self._close_server()

    def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    # --- sign-in -----------------------------------------------------------------------------

    def begin(self, conn: Connection, login: str, password: str, remember: bool) -> None:
        self._pending = Pending(conn, login, password, remember)

    def forget_pending(self) -> None:
        self._pending = None

    def start_sign_in(self, waiting: bool = False) -> E.Event:
        p = self._pending
        conn = self.current()
        if p is None and conn is not None:  # silent re-auth: the stored password
            p = self._pending = Pending(conn, conn.login)
        if p is not None and p.password is None:
            p.password = self.password_for(p.connection)
        if p is None or p.password is None:
            return E.SignInRejected(results.NO_PASSWORD)
        ready = self._ready
        if ready is not None and ready.server is self._server and ready.connection == p.connection:
            self._ready = None
            return self._outcome(ready.outcome)
        if p.login == p.connection.login and (resumed := self._resume(p.connection)):
            return resumed
        with self._lock:
            conflict = self._conflict
        if waiting and conflict is not None and self.server().queues():
            # Waiting in the server's queue: the conflict token keeps our place (protocol v1.1);
            # a password sign-in would join at the back. Spent or expired: sign in again.
            try:
                return self._outcome(
                    self.server().finish_sign_in(conflict.conflict_token, self._client)
                )
            except AuthError:
                return self._conflict_expired()
            except Exception as exc:
                return results.sign_in_failed(exc, self.server_name())
        answer, p.captcha = p.captcha, None
        client = self._client_for(p.connection, p.login)
        try:
            outcome = self.server().sign_in(p.login, p.password, client, answer)
        except Exception as exc:
            return results.sign_in_failed(exc, self.server_name())
        return self._outcome(outcome)

    def _client_for(self, conn: Connection, login: str) -> ClientInfo:
        """Who we are, with this device's token for ``conn`` where its own login signs in."""
        device = self._memory.device_token(conn) if login == conn.login else None
        if not device:
            return self._client
        self._secret(device)
        return replace(self._client, device_token=device)

    def _resume(self, conn: Connection) -> E.Event | None:
        """The session this profile held when it last stopped without signing out (a crash, a
        SIGKILL): refresh it instead of taking another seat. None: there is none, or it is gone
        (forgotten; sign in as usual). A network or trust fault keeps it for the retry."""
        saved = self._memory.session(conn)
        if saved is None:
            return None
        try:
            tokens = self.server().refresh(saved)
        except (NetworkError, TrustError) as exc:
            return results.sign_in_failed(exc, self.server_name())
        except Exception as exc:
            log.info("the session left on %s is gone (%s); signing in", conn.name, loggable(exc))
            self._memory.forget_session(conn)
            return None
        log.info("resumed the session left on %s", conn.name)
        self._set_tokens(tokens)
        self._signed_in_bookkeeping()
        return E.SignInSucceeded(tokens.expires_in, None, None)

    def finish_sign_in(self, session_id: str) -> E.Event:
        with self._lock:
            conflict = self._conflict
        if conflict is None:
            return self._conflict_expired()
        server = self.server()
        try:
            try:
                server.end_session(conflict.conflict_token, session_id)
            except SessionNotFound:
                log.info("the chosen session had already ended")
            outcome = server.finish_sign_in(conflict.conflict_token, self._client)
        except AuthError:
            return self._conflict_expired()
        except Exception as exc:
            return results.sign_in_failed(exc, self.server_name())
        return self._outcome(outcome)

    def _conflict_expired(self) -> E.Event:
        """The conflict token is spent: forget it, and the engine says what comes next."""
        log.info("the conflict expired; the sign-in starts again with the password")
        with self._lock:
            self._conflict = None
        return E.ConflictExpired()

    def _outcome(self, outcome: SignInOutcome) -> E.Event:
        """Keep what the answer carries (tokens, captcha, conflict); the event says the rest."""
        now = self._clock.now()
        p = self._pending
        if isinstance(outcome, SignedIn | LimitConflict) and outcome.device_token and p:
            self._secret(outcome.device_token)
            if p.login == p.connection.login:
                self._memory.keep_device_token(p.connection, outcome.device_token)
        if isinstance(outcome, SignedIn):
            self._set_tokens(outcome.tokens)
            self._signed_in_bookkeeping()
        elif isinstance(outcome, CaptchaChallenge):
            with self._lock:
                self._captcha, self._captcha_at = outcome.captcha, now
                self._captcha_reason = outcome.reason
        else:
            self._secret(outcome.conflict_token)
            with self._lock:
                self._conflict = outcome
        return results.signed_in(outcome)

    def _signed_in_bookkeeping(self) -> None:
        p, conn = self._pending, self.current()
        if p is None or conn is None:
            return
        if p.remember and p.password is not None:
            try:
                self._passwords.set(conn, p.password)
            except CredentialError as exc:
                log.warning("could not store the password: %s", exc)
                message = f"signed in, but the password was not stored: {exc}"
                self._note(Failure(FailureKind.CREDENTIALS, message))
        try:
            self._connections.mark_used(conn.name)
        except VmsTrayError as exc:
            log.warning("could not record the last used server: %s", exc)
        p.remember = False

    def answer_captcha(self, answer: str) -> None:
        self._secret(answer)
        with self._lock:
            captcha = self._captcha
        if captcha is None or self._pending is None:
            raise EngineError("no captcha is waiting for an answer")
        self._pending.captcha = CaptchaAnswer(captcha.id, answer.strip())

    def new_captcha(self) -> None:
        with self._lock:
            captcha = self._captcha
        if captcha is None:
            raise EngineError("no captcha is waiting for an answer")
        new = self.server().new_captcha(replaces=captcha.id)
        with self._lock:
            self._captcha, self._captcha_at = new, self._clock.now()
            self._captcha_reason = "required"

    def keep(self, kept: frozenset[E.Kept]) -> None:
        """Let go of what the engine's state no longer keeps (``Engine.keeps``)."""
        with self._lock:
            if E.Kept.CAPTCHA not in kept:
                self._captcha = None
            if E.Kept.CONFLICT not in kept:
                self._conflict = None
        if E.Kept.PASSWORD not in kept and self._pending is not None:
            self._pending.password = None

    # --- keep-alive --------------------------------------------------------------------------

    def _tokens_now(self) -> Tokens:
        with self._lock:
            tokens = self._tokens
        if tokens is None:  # the engine asks for a refresh or poll only while it has a session
            raise EngineError("no session to keep alive")
        return tokens

    def _set_tokens(self, tokens: Tokens) -> None:
        with self._lock:
            old = self._tokens
            if old is not None and tokens.refresh_token is None and old.refresh_token:
                # A server that does not rotate refresh tokens: keep the one we have.
                tokens = replace(tokens, refresh_token=old.refresh_token)
            if old is not None and tokens.session_id is None and old.session_id:
                tokens = replace(tokens, session_id=old.session_id)
            self._tokens = tokens
            conn = self._conn
        self._secret(tokens.access_token)
        if tokens.refresh_token:
            self._secret(tokens.refresh_token)
        self._memory.keep_session(conn, tokens)  # a start after a crash resumes it (``_resume``)

    def refresh(self) -> E.Event:
        tokens = self._tokens_now()
        try:
            new = self.server().refresh(tokens)
        except Exception as exc:
            return results.refresh_failed(exc, self._listing, self.server_name())
        self._set_tokens(new)
        return results.refreshed(new)

    def poll(self, probe: bool) -> E.Event:
        tokens = self._tokens_now()
        server = self.server()
        listing = None
        try:
            if type(server).capabilities.list_sessions:
                listing = self._listing = server.list_sessions(tokens.access_token)
            else:
                server.check(tokens)
        except Exception as exc:
            return results.poll_failed(exc, self._listing, self.server_name())
        return results.polled(listing, probe, self._clock.wall())

    def drop_session(self) -> None:
        self._listing = None
        with self._lock:
            self._tokens, conn = None, self._conn
        self._memory.forget_session(conn)

    # --- sessions ----------------------------------------------------------------------------

    def list_sessions(self, hold: E.Hold) -> SessionList:
        server = self.server()
        if not type(server).capabilities.list_sessions:
            raise Unsupported(NO_SESSIONS)
        with self._lock:
            tokens, conflict = self._tokens, self._conflict
        if hold is E.Hold.CONFLICT and conflict is not None:
            try:
                return server.list_sessions(conflict.conflict_token)
            except AuthError:  # the conflict token expired: what it showed is all we have
                return SessionList(conflict.limit, conflict.sessions)
        if tokens is None or hold not in (E.Hold.SESSION, E.Hold.UNCONFIRMED):
            raise EngineError(NOT_SIGNED_IN)
        return server.list_sessions(tokens.access_token)

    def hands_over(self) -> bool:
        """At the limit: whether the server can be asked for a handover (asked once)."""
        with self._lock:
            conflict = self._conflict
        return conflict is not None and self.server().hands_over()

    def request_handover(self, session_id: str) -> datetime:
        """At the limit: ask the holder of ``session_id`` to hand its seat over to us."""
        with self._lock:
            conflict = self._conflict
        if conflict is None:
            raise EngineError("no sign-in waits for a seat: a handover is asked at the limit")
        deadline = self.server().request_handover(conflict.conflict_token, session_id)
        log.info("asked a session to hand over its seat by %s", deadline.isoformat())
        return deadline

    def end_other_session(self, session_id: str) -> None:
        """Signed in: end someone else's session to free a seat for them."""
        tokens = self._tokens_now()
        server = self.server()
        if not type(server).capabilities.end_sessions:
            raise Unsupported("this server cannot end sessions")
        if tokens.session_id is not None and tokens.session_id == session_id:
            raise InvalidInput("that is this session: use 'vms-tray signout' to end it")
        server.end_session(tokens.access_token, session_id)
        log.info("ended another session")

    # --- sign-out ----------------------------------------------------------------------------

    def sign_out_remote(self, quitting: bool) -> None:
        with self._lock:
            tokens, conn = self._tokens, self._conn
        if tokens is None or conn is None:
            return
        try:
            if quitting:
                # Quit must finish within 2 s: a client whose every request is bounded.
                server = self._factory(conn, self._settings.sign_out_timeout)
                try:
                    server.sign_out(tokens)
                finally:
                    server.close()
            else:
                self.server().sign_out(tokens)
            log.info("signed out of %s", conn.name)
        except Exception as exc:  # best effort: the seat frees itself when the token expires
            log.warning("sign-out of %s failed: %s", conn.name, loggable(exc))
        with self._lock:
            self._tokens = None
        self._memory.forget_session(conn)
