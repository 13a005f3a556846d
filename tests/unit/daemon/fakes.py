"""Test doubles for daemon logic tests: a fake clock, a synchronous wall-clock scheduler with
APScheduler's semantics (misfire_grace_time=None, coalesce=True), and a small in-memory server
kind. Real components are used in tests/integration/daemon."""

from __future__ import annotations

import itertools
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from vms_tray.connections.model import Connection
from vms_tray.daemon.clock import JumpDetector
from vms_tray.daemon.ports import Memory
from vms_tray.daemon.settings import DaemonSettings
from vms_tray.daemon.worker import Daemon
from vms_tray.errors import (
    EndedBy,
    InvalidCredentials,
    ServerBusy,
    ServerUnreachable,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
    UnknownConnection,
)
from vms_tray.kinds.base import Capabilities, ClientInfo, ServerKind
from vms_tray.notify.base import Notice, Notifier
from vms_tray.session.records import (
    Captcha,
    CaptchaAnswer,
    CaptchaChallenge,
    Limit,
    LimitConflict,
    ServerInfo,
    SessionEntry,
    SessionList,
    SignedIn,
    SignInOutcome,
    Tokens,
)


class FakeClock:
    """wall: what users set; mono: stops in suspend; boot: counts suspend (the engine's)."""

    def __init__(self) -> None:
        self.w, self.m, self.b = 1_800_000_000.0, 5_000.0, 5_000.0

    def wall(self) -> float:
        return self.w

    def monotonic(self) -> float:
        return self.m

    def now(self) -> float:
        return self.b

    def tick(self, dt: float) -> None:
        self.w += dt
        self.m += dt
        self.b += dt

    def suspend(self, dt: float) -> None:
        self.w += dt
        self.b += dt

    def set_wall(self, delta: float) -> None:
        self.w += delta


class FakeScheduler:
    """Jobs keyed by wall time, like APScheduler's date trigger: a late job runs once."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.jobs: dict[str, tuple[float, Callable[[], None]]] = {}

    def start(self) -> None:
        pass

    def set(self, name: str, delay: float, fn: Callable[[], None]) -> None:
        self.jobs[name] = (self.clock.wall() + delay, fn)

    def cancel(self, name: str) -> None:
        self.jobs.pop(name, None)

    def shutdown(self) -> None:
        self.jobs.clear()

    def run_due(self) -> int:
        ran = 0
        for name, (due, fn) in sorted(self.jobs.items(), key=lambda kv: kv[1][0]):
            if due <= self.clock.wall() and self.jobs.get(name, (None,))[0] == due:
                del self.jobs[name]
                fn()
                ran += 1
        return ran


@dataclass
class Sess:
    id: str
    login: str
    device: str
    software: str
    access: str
    access_exp: float
    refresh: str
    refresh_exp: float
    started: float
    spent: str | None = None  # the last rotation's spent refresh token...
    spent_at: float = 0.0  # ...and when; retrying it within the grace is not reuse


@dataclass
class World:
    """One fake VMS server's state, shared by every client instance the daemon creates."""

    clock: FakeClock
    passwords: dict[str, str] = field(default_factory=lambda: {"anna": "pw"})
    max_sessions: int | None = 3
    access_ttl: float = 300.0
    refresh_ttl: float = 12 * 3600.0
    down: bool = False
    busy: float | None = None  # Retry-After while busy
    captcha: bool = False
    sessions: dict[str, Sess] = field(default_factory=dict)
    ended: dict[str, EndedBy] = field(default_factory=dict)  # token -> who ended its session
    conflicts: set[str] = field(default_factory=set)
    captchas: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    lapses: int = 0  # keep-alive requests that found the access token already expired
    lose_refresh_replies: int = 0  # refreshes the server performs whose answer never arrives
    refresh_grace: float = 60.0
    ids: itertools.count[int] = field(default_factory=itertools.count)

    def now(self) -> float:
        return self.clock.now()

    def open(self, login: str, device: str, software: str = "vms-tray 1.0") -> Sess:
        n = next(self.ids)
        s = Sess(
            id=f"s{n}",
            login=login,
            device=device,
            software=software,
            access=secrets.token_urlsafe(24),
            access_exp=self.now() + self.access_ttl,
            refresh=secrets.token_urlsafe(24),
            refresh_exp=self.now() + self.refresh_ttl,
            started=self.now(),
        )
        self.sessions[s.id] = s
        return s

    def end(self, sid: str, by: EndedBy) -> None:
        s = self.sessions.pop(sid)
        self.ended[s.access] = by
        self.ended[s.refresh] = by

    def active(self, login: str = "anna") -> list[Sess]:
        return [s for s in self.sessions.values() if s.login == login]

    def limit(self, login: str = "anna") -> Limit:
        return Limit("account", self.max_sessions, len(self.active(login)))

    def listing(self, login: str, current: str | None) -> SessionList:
        t = datetime.fromtimestamp(1_800_000_000, UTC)
        ip = "10.0.0.1"
        entries = tuple(
            SessionEntry(s.id, s.device, "vms-tray", "1.0", ip, t, t, False, s.id == current)
            for s in self.active(login)
        )
        return SessionList(self.limit(login), entries)


class FakeServer(ServerKind):
    kind = "fake"
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, world: World, timeout: float = 10.0) -> None:
        self.w = world
        self.timeout = timeout

    def _net(self, name: str) -> None:
        self.w.calls.append(name)
        if self.w.down:
            raise ServerUnreachable("vms.example refused the connection: retrying")
        if self.w.busy is not None:
            raise ServerBusy("vms.example is busy", retry_after=self.w.busy)

    def _by_access(self, token: str) -> Sess:
        for s in self.w.sessions.values():
            if s.access == token:
                if s.access_exp <= self.w.now():
                    self.w.lapses += 1
                    raise TokenExpired("access token expired")
                return s
        if token in self.w.ended:
            by = self.w.ended[token]
            raise SessionEnded("session ended", "ended", by)
        raise TokenExpired("unknown token")

    def server_info(self) -> ServerInfo:
        self._net("server_info")
        return ServerInfo("fake", "fake", "1", "1")

    def _open(self, login: str, client: ClientInfo) -> SignInOutcome:
        lim = self.w.limit(login)
        if lim.max is not None and lim.active >= lim.max:
            token = secrets.token_urlsafe(16)
            self.w.conflicts.add(token)
            listing = self.w.listing(login, None)
            return LimitConflict(lim, listing.sessions, token, 120)
        s = self.w.open(login, client.device, f"{client.software} {client.version}")
        tokens = Tokens(s.access, self.w.access_ttl, s.refresh, self.w.refresh_ttl, s.id)
        return SignedIn(tokens, self.w.limit(login))

    def sign_in(
        self, login: str, password: str, client: ClientInfo, captcha: CaptchaAnswer | None = None
    ) -> SignInOutcome:
        self._net("sign_in")
        solved = captcha is not None and self.w.captchas.pop(captcha.id, None) == captcha.answer
        if self.w.captcha and not solved:
            reason = "required" if captcha is None else "invalid"
            return CaptchaChallenge(self.new_captcha(), reason)
        if self.w.passwords.get(login) != password:
            raise InvalidCredentials("the login or the password is wrong")
        return self._open(login, client)

    def finish_sign_in(self, conflict_token: str, client: ClientInfo) -> SignInOutcome:
        self._net("finish_sign_in")
        if conflict_token not in self.w.conflicts:
            raise TokenExpired("conflict token expired")
        self.w.conflicts.discard(conflict_token)
        return self._open("anna", client)

    def refresh(self, tokens: Tokens) -> Tokens:
        self._net("refresh")
        now = self.w.now()
        for s in self.w.sessions.values():
            retry = s.spent == tokens.refresh_token and now - s.spent_at <= self.w.refresh_grace
            if s.refresh == tokens.refresh_token or retry:
                if s.refresh_exp <= now:
                    raise TokenExpired("refresh expired")
                if s.access_exp <= now:
                    self.w.lapses += 1
                if not retry:
                    s.spent, s.spent_at = s.refresh, now
                s.access = secrets.token_urlsafe(24)
                s.refresh = secrets.token_urlsafe(24)
                s.access_exp = now + self.w.access_ttl
                if self.w.lose_refresh_replies:
                    self.w.lose_refresh_replies -= 1
                    raise ServerUnreachable("the connection to vms.example failed: retrying")
                return Tokens(s.access, self.w.access_ttl, s.refresh, self.w.refresh_ttl, s.id)
        if tokens.refresh_token in self.w.ended:
            raise SessionEnded("ended", "ended", self.w.ended[tokens.refresh_token])
        raise TokenExpired("refresh token unknown")

    def check(self, tokens: Tokens) -> None:
        self._net("check")
        self._by_access(tokens.access_token)

    def list_sessions(self, bearer: str) -> SessionList:
        self._net("list_sessions")
        if bearer in self.w.conflicts:
            return self.w.listing("anna", None)
        s = self._by_access(bearer)
        return self.w.listing(s.login, s.id)

    def end_session(self, bearer: str, session_id: str) -> None:
        self._net("end_session")
        device = "conflict"
        if bearer not in self.w.conflicts:
            device = self._by_access(bearer).device
        if session_id not in self.w.sessions:
            raise SessionNotFound("no such session")
        self.w.end(session_id, EndedBy(device, "vms-tray 0.1.0"))

    def new_captcha(self, replaces: str | None = None) -> Captcha:
        cid = f"c{next(self.w.ids)}"
        self.w.captchas[cid] = "x7k2"
        return Captcha(cid, b"\x89PNG fake", 120)

    def sign_out(self, tokens: Tokens) -> None:
        self._net("sign_out")
        for sid, s in list(self.w.sessions.items()):
            if s.access == tokens.access_token or s.refresh == tokens.refresh_token:
                del self.w.sessions[sid]

    def close(self) -> None:
        pass


class ReauthServer(FakeServer):
    """Like ZoneMinder: no session list or limit; a spent refresh token needs the password."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        list_sessions=False, end_sessions=False, silent_reauth=True, session_limit=False
    )

    def _open(self, login: str, client: ClientInfo) -> SignInOutcome:
        outcome = super()._open(login, client)
        assert isinstance(outcome, SignedIn)
        return SignedIn(outcome.tokens, None)


class MemoryConnections:
    def __init__(self, conns: Sequence[Connection]) -> None:
        self.conns = {c.name: c for c in conns}
        self.last: str | None = None

    def get(self, name: str) -> Connection:
        try:
            return self.conns[name]
        except KeyError:
            raise UnknownConnection(name) from None

    def initial(self) -> Connection | None:
        if self.last:
            return self.conns[self.last]
        return next((c for c in self.conns.values() if c.default), None)

    def all(self) -> Sequence[Connection]:
        return list(self.conns.values())

    def mark_used(self, name: str) -> None:
        self.last = name


class MemoryPasswords:
    def __init__(self, stored: dict[str, str] | None = None) -> None:
        self.stored = dict(stored or {})

    def get(self, connection: Connection) -> str | None:
        return self.stored.get(connection.name)

    def has(self, connection: Connection) -> bool:
        return connection.name in self.stored

    def set(self, connection: Connection, password: str) -> None:
        self.stored[connection.name] = password


class RecordingNotifier(Notifier):
    name = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[Notice] = []
        self.log: list[str] = []  # notices and withdrawals, in order

    def notify(self, notice: Notice) -> None:
        self.notices.append(notice)
        self.log.append(f"notify {notice.topic or '-'}: {notice.title}")

    def withdraw(self, topic: str) -> None:
        self.log.append(f"withdraw {topic}")

    def withdraw_all(self) -> None:
        self.log.append("withdraw *")

    def kinds(self) -> list[str]:
        return [n.kind.value for n in self.notices]


OFFICE = Connection("office", "https://office.example", "anna", default=True)
ANNEX = Connection("annex", "https://annex.example", "anna")


class Sim:
    """A daemon on a fake clock, driven step by step: heartbeat, scheduler, worker, in order."""

    def __init__(
        self,
        *,
        worlds: dict[str, World] | None = None,
        passwords: dict[str, str] | None = None,
        settings: DaemonSettings | None = None,
        server_class: type[FakeServer] = FakeServer,
        seed: int = 1,
        memory: Memory | None = None,
    ) -> None:
        self.clock = FakeClock()
        self.worlds = worlds or {"office": World(self.clock), "annex": World(self.clock)}
        for w in self.worlds.values():
            w.clock = self.clock
        self.scheduler = FakeScheduler(self.clock)
        self.notifier = RecordingNotifier()
        self.connections = MemoryConnections([OFFICE, ANNEX])
        self.passwords = MemoryPasswords(passwords if passwords is not None else {"office": "pw"})
        self.server_class = server_class
        self.secrets: list[str] = []
        self.built: list[Connection] = []  # what each server-kind instance was made for
        self.daemon = Daemon(
            connections=self.connections,
            passwords=self.passwords,
            server_factory=self._build,
            notifier=self.notifier,
            scheduler=self.scheduler,
            clock=self.clock,
            client_info=ClientInfo("TEST-PC", "vms-tray", "0.1.0"),
            settings=settings or DaemonSettings(),
            rng=random.Random(seed),
            on_secret=self.secrets.append,
            memory=memory,
        )
        self.detector = JumpDetector(self.clock, tolerance=5.0)
        self.heartbeat_every = 10.0
        self._since_beat = 0.0

    def _build(self, connection: Connection, timeout: float) -> FakeServer:
        self.built.append(connection)
        return self.server_class(self.worlds[connection.name], timeout)

    @property
    def office(self) -> World:
        return self.worlds["office"]

    def start(self, server: str | None = None) -> None:
        self.daemon.start(server, thread=False)
        self.settle()

    def settle(self) -> None:
        for _ in range(100):
            ran = self.scheduler.run_due()
            ran += self.daemon.run_pending()
            if not ran:
                return
        raise AssertionError("the daemon does not settle")

    def beat(self) -> None:
        skew = self.detector.check()
        if skew is not None:
            self.daemon.clock_jumped(skew)

    def advance(
        self, seconds: float, step: float = 5.0, each: Callable[[], None] | None = None
    ) -> None:
        elapsed = 0.0
        while elapsed < seconds:
            dt = min(step, seconds - elapsed)
            self.clock.tick(dt)
            elapsed += dt
            self._since_beat += dt
            if self._since_beat >= self.heartbeat_every:
                self._since_beat = 0.0
                self.beat()
            self.settle()
            if each is not None:
                each()

    def state(self) -> str:
        return self.daemon.snapshot().state.value


def signed_in_sim(**kw: object) -> Sim:
    sim = Sim(**kw)  # type: ignore[arg-type]
    sim.start()
    assert sim.state() == "signed_in"
    return sim


def error_text(sim: Sim) -> str:
    error = sim.daemon.snapshot().error
    return error.message if error else ""
