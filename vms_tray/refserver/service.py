"""Protocol v1 semantics, independent of HTTP: sign-in, seats, refresh, listing, ending.

The app parses requests into these calls and renders their results; everything here raises
``Problem`` for an error answer. Decisions the protocol leaves open (also in openapi.json):

* Activity: sign-in, refresh, and every authenticated call made with the session's access token
  (listing, ``current``, ending a session) reset the idle timer. A session whose last activity is
  older than ``idle_timeout`` ends by itself with reason ``idle_timeout``; one whose refresh token
  lapsed ends with reason ``expired``.
* The ``idle`` flag of a session entry is true when it has had no activity for more than half the
  idle timeout, capped at 5 minutes (5 minutes when there is no idle timeout).
* Refresh tokens rotate on every use. Presenting a rotated one again is refused with
  ``token-expired`` and ends its whole session (the family) with reason ``expired``: a rotated token
  in use means two parties hold the session's secrets, and the server cannot tell which is genuine.
* An access token stays valid until its own expiry after a refresh (no race for a client that
  refreshes while another request is in flight).
* A conflict token lists the account's sessions and ends any of them it has listed; finishing a
  sign-in with it while the account is still full answers ``session-limit`` again with a *fresh*
  conflict token (the old one is spent), so a client may keep waiting for a seat without ever
  re-sending the password. ``DELETE /sessions/current`` with a conflict token abandons it.
* ``DELETE /sessions/current`` is idempotent: any token of the session (access or refresh, expired
  or not, of an ended session while its tombstone lasts) answers 204; an unknown token is 401.
* Ended sessions are kept as tombstones for ``tombstone_ttl`` (7 days by default).
* Protocol v1.1's queue and handover (rules in ``queue.py``): held seats count as taken for
  every sign-in but their waiter's, and the queue is settled at the end of every transaction.

Longer than 500 lines because these rules act on one account's seats, tokens, conflicts and
devices inside one transaction each; kept in one class, the list above can be checked against
the code in one reading (the settings live in ``config.py``, the rows in ``storage.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from vms_tray.refserver.captcha import CaptchaCheck, CaptchaStore
from vms_tray.refserver.clock import ServerClock
from vms_tray.refserver.config import DEFAULT_CONFIG, ServerConfig
from vms_tray.refserver.problems import Problem, with_retry_after
from vms_tray.refserver.queue import Handover, Queue, Waiter
from vms_tray.refserver.storage import ConflictRow, SessionRow, Store, TokenRow
from vms_tray.refserver.throttle import RateLimit, Throttle, address_key
from vms_tray.refserver.tokens import (
    dummy_hash,
    hash_password,
    new_id,
    new_token,
    token_hash,
    verify_password,
)

log = logging.getLogger(__name__)

IDLE_FLAG_CAP = 300.0
# Each picture costs ~40 ms of CPU and anyone may ask: bound it per client address, on every
# path that draws one (POST /captcha and the sign-in answers that carry a fresh captcha).
CAPTCHAS_PER_MINUTE = 30
# A device token lets a device that signed in before skip the throttle's ceilings (protocol
# "Throttling"); it lives this long after its last successful sign-in, at most this many per login.
DEVICE_TTL = 90 * 86400.0
DEVICES_PER_LOGIN = 20
PURGE_EVERY = 60.0


@dataclass(frozen=True)
class ClientDescription:
    """How a client describes itself when it signs in (the sign-in's ``client`` member); what
    vms-tray sends is vms_tray.kinds.base.ClientInfo."""

    device: str
    software: str
    version: str


@dataclass(frozen=True)
class SessionCaller:
    session: SessionRow


@dataclass(frozen=True)
class ConflictCaller:
    conflict: ConflictRow


Caller = SessionCaller | ConflictCaller


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _secs(value: float) -> int:
    return max(0, int(value))


def _handover_event(h: Handover, now: float) -> dict[str, Any]:
    """The ``handover-requested`` event's data (docs/protocol.md, "Live events")."""
    return {
        "session_id": h.session_id,
        "deadline": iso(h.deadline),
        "grace": _secs(h.deadline - now),
        "requested_by": {"device": h.device, "software": h.software},
    }


class Service:
    def __init__(
        self,
        store: Store,
        clock: ServerClock,
        config: ServerConfig = DEFAULT_CONFIG,
        captchas: CaptchaStore | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.captchas = captchas or CaptchaStore(clock)
        self.throttle = Throttle(clock, config.throttle)
        self.captcha_rate = RateLimit(clock, CAPTCHAS_PER_MINUTE, 60.0)
        self.queue = Queue(store, config.seat_hold)
        self._dummy_hash = dummy_hash(config.kdf)
        self._last_purge = float("-inf")
        # Protocol v1.1's events: told, after the transaction that did it, which accounts'
        # sessions changed ("*": some, by the idle sweep). The app's events stream listens.
        self.on_change: Callable[[str], None] | None = None
        self._changed: set[str] = set()
        self._changed_lock = threading.Lock()

    # --- users (CLI and demo) -----------------------------------------------------------------

    def add_user(self, login: str, password: str, max_sessions: int | None = None) -> None:
        self.store.add_user(
            login, hash_password(password, self.config.kdf), max_sessions, self.clock.now()
        )

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """A transaction in which a Problem is an answer, not a failure: its work is committed
        (a spent token, an ended family, a new conflict token) before the Problem goes out."""
        problem: Problem | None = None
        with self.store.atomic():
            try:
                yield
            except Problem as exc:
                problem = exc
            self._settle(self.clock.now())
        self._tell_changes()
        if problem is not None:
            raise problem

    def _changes(self, login: str) -> None:
        with self._changed_lock:
            self._changed.add(login)

    def _tell_changes(self) -> None:
        with self._changed_lock:
            changed, self._changed = self._changed, set()
        if self.on_change is not None:
            for login in changed:
                self.on_change(login)

    def _settle(self, now: float, everyone: bool = False) -> None:
        """Seats freed in this transaction (or, ``everyone``, offers and waiters that lapsed
        with time) go to the queue's next waiters (queue.py)."""
        with self._changed_lock:
            changed = set(self._changed)
        logins = set(self.queue.logins())
        if not everyone and "*" not in changed:
            logins &= changed
        for login in logins:
            if self.queue.settle(
                login, self._limit_for(login), self.store.count_active(login), now
            ):
                self._changes(login)

    def sweep(self) -> None:
        """End what lapsed (idle timeouts, expired refreshes) now, so streams hear of it."""
        with self._tx():
            self._sweep(self.clock.now())

    # --- housekeeping --------------------------------------------------------------------------

    def _sweep(self, now: float) -> None:
        if self.store.expire_sessions(now, self.config.idle_timeout):
            self._changes("*")
        for h in self.queue.due(now):
            self.store.end_session(h.session_id, h.deadline, "handed_over", (h.device, h.software))
            self._changes(h.login)
            log.info("session %s handed over its seat", h.session_id)
        self._settle(now, everyone=True)
        if now - self._last_purge >= PURGE_EVERY or now < self._last_purge:
            self._last_purge = now
            self.store.purge(now, self.config.tombstone_ttl)
            self.queue.forget_ended()

    def _limit_for(self, login: str) -> int | None:
        user = self.store.get_user(login)
        if user is not None and user.max_sessions is not None:
            return None if user.max_sessions <= 0 else user.max_sessions
        return self.config.max_sessions

    def _limit(self, login: str, sessions: list[SessionRow] | None = None) -> dict[str, Any]:
        """The account's ``limit`` object; ``sessions``: its active sessions when the caller
        has them already (one query fewer)."""
        active = self.store.active_sessions(login) if sessions is None else sessions
        most = self._limit_for(login)
        held = self.queue.held(login, self.clock.now())
        next_free: str | None = None
        if most is not None and len(active) + held >= most:
            # Every seat is taken: the soonest a seat frees by itself (an estimate; activity
            # pushes it back).
            ends = [e for e in (self.ends_by_itself(s) for s in active) if e is not None]
            next_free = iso(min(ends)) if ends else None
        return {
            "scope": "account",
            "max": most,
            "active": len(active),
            "held": held,
            "next_free_at": next_free,
        }

    def ends_by_itself(self, s: SessionRow, handover_deadline: float | None = None) -> float | None:
        """When the server ends ``s`` by itself without more activity: the soonest of its idle
        expiry, its refresh token's expiry and its handover deadline."""
        idle = self.config.idle_timeout
        ends = s.refresh_expires_at
        if idle:
            ends = min(ends, s.last_activity + idle)
        if handover_deadline is None:
            h = self.queue.handover(s.id)
            handover_deadline = h.deadline if h else None
        return ends if handover_deadline is None else min(ends, handover_deadline)

    def _idle_threshold(self) -> float:
        idle = self.config.idle_timeout
        return min(idle / 2, IDLE_FLAG_CAP) if idle else IDLE_FLAG_CAP

    def entry(self, s: SessionRow, now: float, current_id: str | None) -> dict[str, Any]:
        h = self.queue.handover(s.id)
        ends = self.ends_by_itself(s, h.deadline if h else None)
        entry: dict[str, Any] = {
            "id": s.id,
            "device": s.device,
            "software": s.software,
            "version": s.version,
            "address": s.address,
            "started_at": iso(s.started_at),
            "last_activity": iso(s.last_activity),
            "idle": now - s.last_activity > self._idle_threshold(),
            "current": s.id == current_id,
            "ends_by_itself_at": None if ends is None else iso(ends),
        }
        if h is not None:
            entry["handover"] = {
                "deadline": iso(h.deadline),
                "requested_by": {"device": h.device, "software": h.software},
            }
        return entry

    # --- public, unauthenticated ---------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        c = self.config
        return {
            "name": c.name,
            "product": c.product,
            "version": c.version,
            "api_version": c.api_version,
            "features": list(c.features),
            "captcha": c.captcha,
            "idle_timeout": _secs(c.idle_timeout) if c.idle_timeout else None,
            "server_time": iso(self.clock.now()),
        }

    def request_captcha(self, address: str, replaces: str | None = None) -> dict[str, Any]:
        """``POST /captcha``: a new picture."""
        return self.new_captcha(address, replaces)

    def new_captcha(self, address: str, replaces: str | None = None) -> dict[str, Any]:
        """A new picture for ``address``: at most 30 a minute per address (IPv6: per /64), and
        at most ``MAX_PER_OWNER`` outstanding (a new one retires the oldest)."""
        owner = address_key(address)
        wait = self.captcha_rate.hit(owner)
        if wait is not None:
            raise with_retry_after(
                "login-throttled", f"too many captchas requested; try again in {wait:.0f} s", wait
            )
        return self.captchas.issue(replaces, owner).as_json()

    # --- sign-in -------------------------------------------------------------------------------

    def _captcha_problem(self, name: str, detail: str, address: str) -> Problem:
        return Problem(name, detail, extensions={"captcha": self.new_captcha(address)})

    def _known_device(self, login: str, device_token: str | None) -> str | None:
        """The device token's hash when it is a live device token of ``login``, else None (an
        unknown, expired or other login's token only makes the sign-in an unknown device's)."""
        if device_token is None:
            return None
        dhash = token_hash(device_token)
        return dhash if self.store.device_login(dhash, self.clock.now()) == login else None

    def _remember_device(self, login: str, known: str | None, now: float) -> str | None:
        """After a correct password: extend the presented device token, or issue a new one
        (returned; None when the presented one was kept)."""
        if known is not None:
            self.store.touch_device(known, now + DEVICE_TTL)
            return None
        token = new_token()
        self.store.insert_device(token_hash(token), login, now + DEVICE_TTL, DEVICES_PER_LOGIN)
        return token

    def sign_in(
        self,
        login: str,
        password: str,
        client: ClientDescription,
        address: str,
        captcha: tuple[str, str] | None = None,
        device_token: str | None = None,
    ) -> dict[str, Any]:
        known = self._known_device(login, device_token)
        wait = self.throttle.retry_after(login, address, known)
        if wait is not None:
            raise with_retry_after(
                "login-throttled",
                f"too many failed sign-ins; try again in {wait:.0f} s",
                wait,
            )
        policy = self.config.captcha
        required = policy == "always" or (
            policy == "after-failures" and self.throttle.captcha_due(login, address, known)
        )
        if required:
            if captcha is None:
                raise self._captcha_problem(
                    "captcha-required", "answer the captcha and send the sign-in again", address
                )
            result = self.captchas.check(*captcha)
            if result is CaptchaCheck.EXPIRED:
                raise self._captcha_problem(
                    "captcha-expired", "the captcha expired; answer the new one", address
                )
            if result is CaptchaCheck.INVALID:
                raise self._captcha_problem(
                    "captcha-invalid", "the captcha answer is wrong; answer the new one", address
                )
        user = self.store.get_user(login)
        # Unknown logins pay for a KDF run too: the answer and its timing are the same.
        ok = verify_password(password, user.password_hash if user else self._dummy_hash)
        if not ok or user is None:
            self.throttle.failed(login, address, known)
            log.info("sign-in refused for a login from %s", address)
            raise Problem("invalid-credentials", "the login or the password is wrong")
        self.throttle.succeeded(login, address, known)
        now = self.clock.now()
        with self._tx():
            self._sweep(now)
            new_device = self._remember_device(login, known, now)
            device = {"device_token": new_device or device_token}
            if self._full(login):
                problem = self._conflict(login, client, address, now)
                problem.extensions.update(device)
                raise problem
            return {**self._open_session(login, client, address, now), **device}

    def _full(self, login: str, waiter: Waiter | None = None) -> bool:
        """No seat for this sign-in: seats held for waiters count as taken, except the one held
        for ``waiter`` itself."""
        limit = self._limit_for(login)
        if limit is None:
            return False
        now = self.clock.now()
        held = self.queue.held(login, now) - (1 if waiter and waiter.offered(now) else 0)
        return self.store.count_active(login) + held >= limit

    def _conflict(self, login: str, client: ClientDescription, address: str, now: float) -> Problem:
        token = new_token()
        sessions = self.store.active_sessions(login)
        self.store.insert_conflict(
            ConflictRow(
                token_hash(token),
                login,
                client.device,
                client.software,
                client.version,
                address,
                now + self.config.conflict_ttl,
                tuple(s.id for s in sessions),
            )
        )
        limit = self._limit(login, sessions)
        return Problem(
            "session-limit",
            f"all {limit['max']} session seats of this account are taken; end one or wait",
            extensions={
                "limit": limit,
                "sessions": [self.entry(s, now, None) for s in sessions],
                "conflict_token": token,
                "conflict_expires_in": _secs(self.config.conflict_ttl),
            },
        )

    def _open_session(
        self, login: str, client: ClientDescription, address: str, now: float
    ) -> dict[str, Any]:
        c = self.config
        session = SessionRow(
            id=new_id(),
            login=login,
            device=client.device,
            software=client.software,
            version=client.version,
            address=address,
            started_at=now,
            last_activity=now,
            refresh_expires_at=now + c.refresh_ttl,
        )
        self.store.insert_session(session)
        self._changes(login)
        access, refresh = self._issue_pair(session.id, now)
        log.info("session %s opened for a client at %s", session.id, address)
        return {
            "session_id": session.id,
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": _secs(c.access_ttl),
            "refresh_token": refresh,
            "refresh_expires_in": _secs(c.refresh_ttl),
            "idle_timeout": _secs(c.idle_timeout) if c.idle_timeout else None,
            "limit": self._limit(login),
        }

    def finish_sign_in(
        self, conflict_token: str, address: str, wait: bool = False
    ) -> dict[str, Any]:
        """Finish a sign-in that met the limit; ``wait`` (v1.1) joins or keeps a place in line."""
        thash = token_hash(conflict_token)
        now = self.clock.now()
        with self._tx():
            self._sweep(now)
            conflict = self.store.get_conflict(thash)
            if conflict is None or conflict.expires_at <= now:
                raise Problem(
                    "token-expired", "the conflict token is spent or expired; sign in again"
                )
            self.store.delete_conflict(thash)
            waiter = self.queue.waiter(thash)
            login = conflict.login
            if self.store.get_user(login) is None:
                self.queue.leave(thash)
                raise Problem("token-expired", "the account no longer exists; sign in again")
            client = ClientDescription(conflict.device, conflict.software, conflict.version)
            if not self._full(login, waiter):
                if self.queue.leave(thash):
                    self._changes(login)  # the others move up
                return self._open_session(login, client, address, now)
            problem = self._conflict(login, client, address, now)
            fresh = token_hash(problem.extensions["conflict_token"])
            expires = now + self.config.conflict_ttl
            if wait and waiter is not None:
                self.queue.renew(thash, fresh, expires)
            elif wait:
                self.queue.join(login, fresh, expires, first=False)
                self._changes(login)
            elif self.queue.leave(thash):
                self._changes(login)
            place = self.queue.place(fresh, now) if wait else None
            if place is not None:
                problem.extensions["queue"] = {"position": place.position, "length": place.length}
            raise problem

    # --- tokens --------------------------------------------------------------------------------

    def _ended(self, s: SessionRow) -> Problem:
        reason = s.end_reason or "expired"
        ext: dict[str, Any] = {"reason": reason, "ended_at": iso(s.ended_at or 0.0)}
        if reason in ("ended_by_other", "handed_over"):
            ext["ended_by"] = {
                "device": s.ended_by_device or "",
                "software": s.ended_by_software or "",
            }
            who = s.ended_by_device or "another device"
            detail = (
                f"the session was ended from {who}"
                if reason == "ended_by_other"
                else f"the session handed its seat over to {who}"
            )
        else:
            detail = {
                "logout": "the session was signed out",
                "idle_timeout": "the session ended after being idle too long",
                "expired": "the session expired",
            }.get(reason, "the session has ended")
        return Problem("session-ended", detail + "; sign in again", extensions=ext)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        thash = token_hash(refresh_token)
        now = self.clock.now()
        c = self.config
        with self._tx():
            self._sweep(now)
            tok = self.store.get_token(thash)
            if tok is None or tok.kind != "refresh":
                raise Problem("token-expired", "the refresh token is unknown; sign in again")
            session = self.store.get_session(tok.session_id)
            if session is None:
                raise Problem("token-expired", "the refresh token is unknown; sign in again")
            if not session.active:
                raise self._ended(session)
            if tok.expires_at <= now:
                raise Problem("token-expired", "the refresh token expired; sign in again")
            if tok.rotated_at is not None and self._lost_reply(tok, now):
                # The client never received the answer to its refresh (a dropped connection)
                # and retries with the token it still holds: replace the pair it never saw.
                self.store.revoke_issued_after(thash, session.id)
                log.info("refresh retried on session %s: the unseen pair is replaced", session.id)
            elif tok.rotated_at is not None or not self.store.mark_rotated(thash, now):
                self.store.end_session(session.id, now, "expired")
                self._changes(session.login)
                log.warning("refresh token reuse on session %s: session ended", session.id)
                raise Problem(
                    "token-expired",
                    "this refresh token was already used, so the session was ended for safety; "
                    "sign in again",
                )
            access, refresh = self._issue_pair(session.id, now)
            self.store.touch(session.id, now, refresh_expires_at=now + c.refresh_ttl)
            return {
                "session_id": session.id,
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": _secs(c.access_ttl),
                "refresh_token": refresh,
                "refresh_expires_in": _secs(c.refresh_ttl),
                "idle_timeout": _secs(c.idle_timeout) if c.idle_timeout else None,
            }

    def _issue_pair(self, session_id: str, now: float) -> tuple[str, str]:
        """A new access and refresh token. The access token is stored first: a pair's tokens
        then both come after the refresh token whose rotation issued them (``used_since``)."""
        c = self.config
        access, refresh = new_token(), new_token()
        self.store.insert_token(token_hash(access), "access", session_id, now + c.access_ttl)
        self.store.insert_token(token_hash(refresh), "refresh", session_id, now + c.refresh_ttl)
        return access, refresh

    def _lost_reply(self, tok: TokenRow, now: float) -> bool:
        """A spent refresh token presented again is a retry, not a theft, while its rotation is
        recent and nothing has used what that rotation issued (neither its refresh token nor
        its access token: whoever used them did receive the answer)."""
        assert tok.rotated_at is not None
        recent = now - tok.rotated_at <= self.config.refresh_grace
        return (
            recent
            and self.store.last_rotated(tok.session_id) == tok.hash
            and not self.store.used_since(tok.hash, tok.session_id)
        )

    def authenticate(self, bearer: str, *, allow_conflict: bool, touch: bool = True) -> Caller:
        """``touch``: the call counts as the session's activity (an events stream's checks do
        not: a stream open is not a user at work)."""
        thash = token_hash(bearer)
        now = self.clock.now()
        with self._tx():
            self._sweep(now)
            tok = self.store.get_token(thash)
            if tok is None:
                conflict = self.store.get_conflict(thash)
                if conflict is not None and conflict.expires_at > now:
                    if allow_conflict:
                        return ConflictCaller(conflict)
                    raise Problem(
                        "token-expired",
                        "a conflict token can only list and end sessions; finish the sign-in first",
                    )
                raise Problem("token-expired", "the bearer token is unknown or expired; sign in")
            if tok.kind != "access":
                raise Problem(
                    "token-expired", "a refresh token is not a bearer token; refresh first"
                )
            session = self.store.get_session(tok.session_id)
            if session is None:
                raise Problem("token-expired", "the bearer token is unknown or expired; sign in")
            if not session.active:
                raise self._ended(session)
            if tok.expires_at <= now:
                raise Problem("token-expired", "the access token expired; refresh it")
            if tok.used_at is None:
                self.store.mark_used(thash, now)
            if not touch:
                return SessionCaller(session)
            self.store.touch(session.id, now)
            return SessionCaller(replace(session, last_activity=max(session.last_activity, now)))

    # --- authenticated -------------------------------------------------------------------------

    def list_sessions(self, caller: Caller) -> dict[str, Any]:
        now = self.clock.now()
        with self._tx():
            if isinstance(caller, SessionCaller):
                login, current = caller.session.login, caller.session.id
            else:
                login, current = caller.conflict.login, None
            sessions = self.store.active_sessions(login)
            if isinstance(caller, ConflictCaller):
                listed = tuple(
                    dict.fromkeys(caller.conflict.session_ids + tuple(s.id for s in sessions))
                )
                self.store.set_conflict_sessions(caller.conflict.hash, listed)
            return {
                "limit": self._limit(login, sessions),
                "sessions": [self.entry(s, now, current) for s in sessions],
            }

    def current(self, caller: Caller) -> dict[str, Any]:
        if isinstance(caller, ConflictCaller):
            raise Problem("session-not-found", "a conflict token has no session of its own")
        return self.entry(caller.session, self.clock.now(), caller.session.id)

    def end_session(self, caller: Caller, session_id: str) -> None:
        now = self.clock.now()
        not_found = Problem("session-not-found", "no such session of yours is active")
        with self._tx():
            target = self.store.get_session(session_id)
            if isinstance(caller, SessionCaller):
                me = caller.session
                if target is None or target.login != me.login or not target.active:
                    raise not_found
                if target.id == me.id:
                    self.store.end_session(target.id, now, "logout")
                else:
                    self.store.end_session(
                        target.id, now, "ended_by_other", (me.device, me.software)
                    )
            else:
                c = self.store.get_conflict(caller.conflict.hash) or caller.conflict
                if (
                    target is None
                    or target.login != c.login
                    or not target.active
                    or target.id not in c.session_ids
                ):
                    raise not_found
                self.store.end_session(target.id, now, "ended_by_other", (c.device, c.software))
                # Whoever ends a session for its seat gets that seat, queue or not: it goes to
                # the head of the line, so the settle below holds the seat for it.
                self._to_head(c.hash, c.login, c.expires_at)
            self._changes(target.login)
            log.info("session %s ended by request", session_id)

    def request_handover(self, caller: Caller, session_id: str) -> dict[str, Any]:
        """``POST /sessions/{id}/handover`` (v1.1): the holder has ``handover_grace`` to release
        its seat; a waiting requester goes to the head of the queue, so the seat is held for it."""
        now = self.clock.now()
        not_found = Problem("session-not-found", "no such session of yours is active")
        with self._tx():
            target = self.store.get_session(session_id)
            if isinstance(caller, SessionCaller):
                me = caller.session
                login, by = me.login, (me.device, me.software)
                if target is not None and target.id == me.id:
                    raise Problem(
                        "invalid-request", "a session cannot hand over to itself; sign out instead"
                    )
            else:
                c = self.store.get_conflict(caller.conflict.hash) or caller.conflict
                login, by = c.login, (c.device, c.software)
                if target is not None and target.id not in c.session_ids:
                    raise not_found
            if target is None or target.login != login or not target.active:
                raise not_found
            h = self.queue.ask_handover(target.id, login, now + self.config.handover_grace, by)
            if isinstance(caller, ConflictCaller):
                self._to_head(caller.conflict.hash, login, caller.conflict.expires_at)
            self._changes(login)
            log.info("session %s asked to hand over its seat", target.id)
            return {
                "session_id": target.id,
                "deadline": iso(h.deadline),
                "grace": _secs(h.deadline - now),
            }

    def _to_head(self, conflict_hash: str, login: str, expires_at: float) -> None:
        if self.queue.waiter(conflict_hash) is None:
            self.queue.join(login, conflict_hash, expires_at, first=True)
        else:
            self.queue.put_first(conflict_hash)

    def account_view(self, login: str) -> dict[str, Any]:
        """What every events stream of ``login`` shows after a change, made once for all of
        them (refserver/stream.py): the limit, the session entries (``current`` false; each
        stream marks its own), and the handover asked of each session."""
        now = self.clock.now()
        with self._tx():
            self._sweep(now)
            sessions = self.store.active_sessions(login)
            handovers = self.queue.handovers(login)
            return {
                "limit": self._limit(login, sessions),
                "sessions": [self.entry(s, now, None) for s in sessions],
                "handovers": {sid: _handover_event(h, now) for sid, h in handovers.items()},
            }

    def token_expires_at(self, bearer: str) -> float | None:
        """When an access token stops being good (its stream then closes); None: not one."""
        tok = self.store.get_token(token_hash(bearer))
        return tok.expires_at if tok is not None and tok.kind == "access" else None

    def waiter_place(self, caller: Caller) -> dict[str, Any] | None:
        """A waiter's place in line, for its events stream; None for a session or a non-waiter."""
        if not isinstance(caller, ConflictCaller):
            return None
        now = self.clock.now()
        place = self.queue.place(caller.conflict.hash, now)
        if place is None:
            return None
        held = place.held_until
        return {
            "position": place.position,
            "length": place.length,
            "held_until": None if held is None else iso(held),
            "expires_in": None if held is None else _secs(held - now),
        }

    def sign_out(self, bearer: str) -> None:
        thash = token_hash(bearer)
        now = self.clock.now()
        with self._tx():
            tok = self.store.get_token(thash)
            if tok is not None:
                if self.store.end_session(tok.session_id, now, "logout"):
                    log.info("session %s signed out", tok.session_id)
                    ended = self.store.get_session(tok.session_id)
                    self._changes(ended.login if ended else "*")
                return
            conflict = self.store.get_conflict(thash)
            if not self.store.delete_conflict(thash):
                raise Problem("token-expired", "the bearer token is unknown; nothing to sign out")
            if self.queue.leave(thash) and conflict is not None:
                self._changes(conflict.login)  # a waiter gave up: the others move up
