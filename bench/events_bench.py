"""Protocol v1.1's events stream, measured between real processes on loopback over TLS.

    .venv/bin/python bench/events_bench.py [--streams 1000] [--accounts 1] [--changes 5]
        [--runs 5] [--poll-interval 5] [--idle-seconds 120] [--only 1,2,3,4]

Every server is ``python -m vms_tray server run`` (a process of its own; users hashed with cheap
scrypt parameters, as tests/support/refserver.py does, because 1,000 default sign-ins would take
minutes), every daemon is ``python -m vms_tray --debug run --headless`` in a profile of its own,
signed in with ``vms-tray signin`` (the password on stdin). Each figure has its baseline from
the same run.

1. Holding streams: N ``GET /api/v1/events`` streams (raw asyncio TLS sockets in this process,
   one connection and one signed-in session each, spread round-robin over ``--accounts``
   accounts with no session limit) held by one server process: the server's resident memory
   before the streams and with them (per stream = the difference / N), its open descriptors,
   and whether every stream got its first ``sessions`` event.
2. Fan-out: one change (a sign-in, then a sign-out, of another session of account 0) -> the
   time from sending the change's request until each of account 0's streams has its next
   ``sessions`` event; p50/p99/max over ``--changes`` changes. Baseline: the same with one
   stream on an account of its own, on the same server before the N streams are opened.
3. Stream vs poll: the daemon's session is ended by another device (``DELETE
   /sessions/{id}``); time until the daemon's status (read over its control socket every 20 ms)
   says ``ended``: with the events stream, and against a server started with ``--features``
   without ``events`` (a hidden test hook), where only the poll can notice. Both daemons poll
   every ``--poll-interval`` seconds (VMS_TRAY_POLL_INTERVAL; 60 s by default), and each end
   comes after a wait spread evenly over one poll interval after the sign-in, so the poll's
   phase is not fixed. p50/p99 over ``--runs`` runs.
4. Idle requests: two signed-in daemons at the default intervals, one with its stream up, one
   against the server without ``events``, side by side for ``--idle-seconds``: the ``HTTP
   Request:`` lines of their --debug logs in that window, by endpoint, extrapolated to one
   hour (and what the intervals predict, since a short window catches a refresh or not).

Figures only; nothing is asserted. The client side shares the 2 cores with the server, so
absolute latencies are a ceiling of what the server alone would show. One module over 500 lines:
a benchmark is one script a person runs, and its four parts share the process helpers; the pure
helpers at the top are tested in tests/unit/bench/test_events_bench.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.procstat import rss_kib  # noqa: E402
from tests.support.refserver import RefServer  # noqa: E402
from vms_tray import control  # noqa: E402
from vms_tray.connections.model import Trust  # noqa: E402
from vms_tray.connections.store import ConnectionStore  # noqa: E402
from vms_tray.daemon.settings import DaemonSettings  # noqa: E402
from vms_tray.errors import ControlError  # noqa: E402
from vms_tray.refserver.config import FEATURES  # noqa: E402

PASSWORD = "bench password 1"
API = "/api/v1"
NO_EVENTS = ",".join(f for f in FEATURES if f != "events")
# The streams' server: access tokens that outlive the bench (a stream closes when its token
# expires; the client would reconnect, which is not what is measured here).
STREAM_ACCESS_TTL = 3600
OPEN_AT_ONCE = 64  # TLS handshakes in flight while the streams are opened
SETTLE = 2.0  # seconds before a memory reading, for the server to finish what it was doing
STATUS_STEP = 0.01  # seconds between two looks at a daemon's status (its control socket)


# --- pure helpers (tests/unit/bench/test_events_bench.py) --------------------------------------


class SseSplitter:
    """Server-Sent Events from bytes as they arrive: ``feed`` returns the complete events, each
    as ``(name, data)``; a comment block is ``(":", text)``; a block of only ``retry:`` or
    ``id:`` is no event."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        self._buffer += chunk.replace(b"\r\n", b"\n")
        *blocks, self._buffer = self._buffer.split(b"\n\n")
        events: list[tuple[str, str]] = []
        for block in blocks:
            name, data, comment = "message", [], []
            for line in block.decode("utf-8", errors="replace").split("\n"):
                key, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if key == "":
                    comment.append(value)
                elif key == "event":
                    name = value
                elif key == "data":
                    data.append(value)
            if data:
                events.append((name, "\n".join(data)))
            elif comment:
                events.append((":", "\n".join(comment)))
        return events


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile by the nearest rank (0 < q <= 1): with few values p99 is the max,
    never an interpolation beyond what was seen."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 1)))
    return ordered[int(rank) - 1]


_REQUEST = re.compile(r"HTTP Request: (\S+) https?://[^/\s]+(\S*) ")


def requests_by_endpoint(log: str) -> Counter[str]:
    """``METHOD /path`` of every ``HTTP Request:`` line (httpx's log) in a daemon's log; a
    session id in a path is shown as ``{id}``."""
    found: Counter[str] = Counter()
    for method, path in _REQUEST.findall(log):
        path = re.sub(r"^(/api/v1/sessions/)(?!current$|refresh$)[^/]+", r"\1{id}", path)
        found[f"{method} {path}"] += 1
    return found


def per_hour(count: float, seconds: float) -> float:
    return count * 3600.0 / seconds if seconds > 0 else float("nan")


def expected_per_hour(poll_interval: float, access_ttl: float, streaming: bool) -> dict[str, float]:
    """What the intervals predict for an idle signed-in hour: polls, refreshes (at 0.5-0.7 of
    the access token's life, so every 0.6 x ttl on average), and with a stream at most one
    reconnect per refresh (the server closes a stream when the token it was opened with
    expires; the follower reconnects with the newest one)."""
    refreshes = 3600.0 / (access_ttl * 0.6)
    expected = {"polls": 3600.0 / poll_interval, "refreshes": refreshes}
    if streaming:
        expected["stream reconnects (at most)"] = refreshes
    return expected


def ratio(value: float, base: float) -> str:
    if base == 0 or base != base or value != value:
        return "-"
    return f"{value / base:.2f}x"


def table(rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the first column left-aligned, the rest right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("   " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# --- processes ----------------------------------------------------------------------------------


def raise_nofile() -> tuple[int, int]:
    """This process's descriptor limit up to its hard limit (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def nofile_of(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return " / ".join(line.split()[3:5])
    return "?"


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def start_server(
    work: Path, users: dict[str, str], *, access_ttl: float = 300, features: str | None = None
) -> RefServer:
    extra = ["--max-pending-sign-ins", "100000"]
    if features is not None:
        extra += ["--features", features]
    return RefServer.start(
        work,
        users=users,
        max_sessions=0,  # no limit
        access_ttl=access_ttl,
        extra_args=extra,
        fast_kdf=True,
    )


# --- the floor: a bare asyncio TLS server ---------------------------------------------------------

# The same certificate, the same asyncio TLS (uvicorn serves through loop.create_server), one
# coroutine per connection that answers a chunked head and then waits: what any Python asyncio
# TLS server pays per held connection, whatever it streams.
BARE_SERVER = r"""
import asyncio, ssl, sys

async def main():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])

    async def held(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        await reader.read()
        writer.close()

    server = await asyncio.start_server(held, "127.0.0.1", 0, ssl=ctx, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


async def bench_bare(data: Path, n: int) -> tuple[int, int, int]:
    """RSS (KiB) of a bare asyncio TLS server before and with ``n`` held connections, and how
    many were held."""
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE_SERVER, str(data / "server.crt"), str(data / "server.key")],
        stdout=subprocess.PIPE,
    )
    writers: list[asyncio.StreamWriter] = []
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        ctx = ssl.create_default_context(cadata=(data / "server.crt").read_text())
        await asyncio.sleep(SETTLE)
        before = rss_kib(proc.pid)
        gate = asyncio.Semaphore(OPEN_AT_ONCE)

        async def hold() -> None:
            async with gate:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
                writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                await reader.readuntil(b"\r\n\r\n")
                writers.append(writer)

        await asyncio.gather(*(hold() for _ in range(n)), return_exceptions=True)
        await asyncio.sleep(SETTLE)
        return before, rss_kib(proc.pid), len(writers)
    finally:
        for writer in writers:
            writer.close()
        proc.kill()
        proc.wait()


# --- 1 and 2: many streams held by one server -------------------------------------------------


@dataclass
class Session:
    login: str
    session_id: str
    access: str
    refresh: str


@dataclass(eq=False)
class Stream:
    login: str
    opened_at: float = 0.0
    sessions: list[float] = field(default_factory=list)  # arrival time of each sessions event
    keepalives: int = 0
    received: int = 0  # bytes of event data
    closed: bool = False
    error: str | None = None
    writer: asyncio.StreamWriter | None = None
    on_sessions: Callable[[Stream], None] | None = None


CLIENT = {"device": "BENCH", "software": "events_bench", "version": "1"}


async def sign_in(http: httpx.AsyncClient, login: str, device: str) -> Session:
    body = {"login": login, "password": PASSWORD, "client": {**CLIENT, "device": device}}
    for _ in range(20):
        r = await http.post(f"{API}/sessions", json=body)
        if r.status_code == 503:  # too many sign-ins in flight: the server says retry
            await asyncio.sleep(float(r.headers.get("retry-after", "1")))
            continue
        r.raise_for_status()
        data = r.json()
        return Session(login, data["session_id"], data["access_token"], data["refresh_token"])
    raise RuntimeError(f"sign-in of {login} kept meeting 503")


async def sign_out(http: httpx.AsyncClient, session: Session) -> None:
    r = await http.delete(
        f"{API}/sessions/current", headers={"Authorization": f"Bearer {session.access}"}
    )
    r.raise_for_status()


async def sign_in_many(url: str, ctx: ssl.SSLContext, logins: list[str]) -> list[Session]:
    limits = httpx.Limits(max_connections=8)
    async with httpx.AsyncClient(base_url=url, verify=ctx, timeout=60, limits=limits) as http:
        gate = asyncio.Semaphore(8)

        async def one(i: int, login: str) -> Session:
            async with gate:
                return await sign_in(http, login, f"BENCH-{i:05d}")

        return list(await asyncio.gather(*(one(i, login) for i, login in enumerate(logins))))


async def _pump(stream: Stream, reader: asyncio.StreamReader) -> None:
    """Reads the chunked body of one stream and notes each event's arrival."""
    splitter = SseSplitter()
    try:
        while True:
            size_line = await reader.readline()
            if not size_line:
                break
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            chunk = await reader.readexactly(size + 2)
            for name, data in splitter.feed(chunk[:-2]):
                now = time.perf_counter()
                if name == "sessions":
                    stream.sessions.append(now)
                    stream.received += len(data)
                    if stream.on_sessions is not None:
                        stream.on_sessions(stream)
                elif name == ":":
                    stream.keepalives += 1
    except (OSError, asyncio.IncompleteReadError, ssl.SSLError, ValueError) as exc:
        stream.error = type(exc).__name__
    finally:
        stream.closed = True


async def open_stream(
    host: str, port: int, ctx: ssl.SSLContext, session: Session, tasks: set[asyncio.Task[None]]
) -> Stream:
    stream = Stream(session.login)
    stream.opened_at = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx, limit=2**24)
    stream.writer = writer
    writer.write(
        (
            f"GET {API}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {session.access}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status = head.split(" ", 2)[1]
    if status != "200" or "chunked" not in head.lower():
        raise RuntimeError(f"the events stream answered {head.splitlines()[0]!r}")
    task = asyncio.create_task(_pump(stream, reader))
    tasks.add(task)
    return stream


class Fanout:
    """Waits until each of a set of streams has heard one more ``sessions`` event."""

    def __init__(self, streams: list[Stream]) -> None:
        self.streams = streams
        self.start = 0.0
        self.heard: dict[Stream, float] = {}
        self.done = asyncio.Event()

    def arm(self) -> None:
        self.heard.clear()
        self.done.clear()
        for s in self.streams:
            s.on_sessions = self._heard
        self.start = time.perf_counter()

    def _heard(self, stream: Stream) -> None:
        if stream not in self.heard:
            self.heard[stream] = stream.sessions[-1] - self.start
            if len(self.heard) == len(self.streams):
                self.done.set()


async def fan_out(
    url: str,
    ctx: ssl.SSLContext,
    streams: list[Stream],
    login: str,
    changes: int,
    timeout: float,
) -> tuple[list[float], list[float], int]:
    """``changes`` changes of ``login``'s sessions (sign-in, sign-out, ...): every stream's
    latency to its next sessions event, the changes' own request times, and missed events."""
    latencies: list[float] = []
    requests: list[float] = []
    missed = 0
    fan = Fanout(streams)
    async with httpx.AsyncClient(base_url=url, verify=ctx, timeout=60) as http:
        await http.get(f"{API}/server")  # the connection's handshake is not part of a change
        extra: Session | None = None
        for n in range(changes):
            await asyncio.sleep(0.5)  # let the previous change's stragglers settle
            fan.arm()
            if extra is None:
                extra = await sign_in(http, login, f"CHANGE-{n}")
            else:
                await sign_out(http, extra)
                extra = None
            requests.append(time.perf_counter() - fan.start)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fan.done.wait(), timeout)
            latencies.extend(fan.heard.values())
            missed += len(streams) - len(fan.heard)
        if extra is not None:
            await sign_out(http, extra)
    for s in streams:
        s.on_sessions = None
    return latencies, requests, missed


@dataclass
class StreamFigures:
    streams: int
    accounts: int
    opened: int = 0
    first_events: int = 0
    open_seconds: float = 0.0
    first_event_p50: float = 0.0
    first_event_max: float = 0.0
    rss_before: int = 0
    rss_one: int = 0
    rss_with: int = 0
    fds_before: int = 0
    fds_with: int = 0
    nofile: str = ""
    keepalives: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    base_latencies: list[float] = field(default_factory=list)
    base_requests: list[float] = field(default_factory=list)
    base_missed: int = 0
    fan_latencies: list[float] = field(default_factory=list)
    fan_requests: list[float] = field(default_factory=list)
    fan_missed: int = 0
    fan_streams: int = 0
    first_size: float = 0.0  # bytes of a first sessions event's data, on average
    changes: int = 0
    sign_in_seconds: float = 0.0


async def bench_streams(
    server: RefServer, n: int, accounts: int, changes: int, fan: bool
) -> StreamFigures:
    fig = StreamFigures(n, accounts, changes=changes)
    ctx = server.ssl_context()
    host, port = "127.0.0.1", server.port
    assert server.proc is not None
    pid = server.proc.pid
    fig.nofile = nofile_of(pid)
    tasks: set[asyncio.Task[None]] = set()
    all_streams: list[Stream] = []
    try:
        logins = [f"user{i % accounts}" for i in range(n)]
        t0 = time.perf_counter()
        sessions = await sign_in_many(server.url, ctx, logins)
        fig.sign_in_seconds = time.perf_counter() - t0
        (solo,) = await sign_in_many(server.url, ctx, ["solo"])
        await asyncio.sleep(SETTLE)
        fig.rss_before, fig.fds_before = rss_kib(pid), open_fds(pid)

        # The baseline: one stream on an account of its own, before the N are opened.
        one = await open_stream(host, port, ctx, solo, tasks)
        all_streams.append(one)
        await _first_events([one], 10)
        if fan:
            fig.base_latencies, fig.base_requests, fig.base_missed = await fan_out(
                server.url, ctx, [one], "solo", changes, 10
            )
        await asyncio.sleep(SETTLE)
        fig.rss_one = rss_kib(pid)

        gate = asyncio.Semaphore(OPEN_AT_ONCE)

        async def opened(s: Session) -> Stream | None:
            async with gate:
                try:
                    return await open_stream(host, port, ctx, s, tasks)
                except (OSError, ssl.SSLError, RuntimeError, asyncio.IncompleteReadError) as exc:
                    fig.errors[f"open: {type(exc).__name__}: {exc}"[:120]] += 1
                    return None

        t0 = time.perf_counter()
        streams = [s for s in await asyncio.gather(*(opened(s) for s in sessions)) if s]
        all_streams.extend(streams)
        fig.opened = len(streams)
        await _first_events(streams, 120)
        fig.open_seconds = time.perf_counter() - t0
        firsts = [s.sessions[0] - s.opened_at for s in streams if s.sessions]
        fig.first_events = len(firsts)
        fig.first_size = sum(s.received for s in streams) / max(len(firsts), 1)
        if firsts:
            fig.first_event_p50 = quantile(firsts, 0.5)
            fig.first_event_max = max(firsts)
        await asyncio.sleep(SETTLE)
        fig.rss_with, fig.fds_with = rss_kib(pid), open_fds(pid)

        if fan:
            mine = [s for s in streams if s.login == "user0" and not s.closed]
            fig.fan_streams = len(mine)
            fig.fan_latencies, fig.fan_requests, fig.fan_missed = await fan_out(
                server.url, ctx, mine, "user0", changes, 180
            )
        fig.keepalives = sum(s.keepalives for s in all_streams)
        for s in all_streams:
            if s.closed:
                fig.errors[f"closed early: {s.error or 'by the server'}"] += 1
    finally:
        for s in all_streams:
            if s.writer is not None:
                s.writer.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return fig


async def _first_events(streams: list[Stream], timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if all(s.sessions or s.closed for s in streams):
            return
        await asyncio.sleep(0.05)


def layout(fig: StreamFigures) -> str:
    return f"{fig.accounts} x {fig.streams // fig.accounts}"


def report_streams(figs: list[StreamFigures], bare: tuple[int, int, int] | None) -> None:
    n = figs[0].streams
    print(
        f"1. {n} events streams held by one server process (raw asyncio TLS clients in this "
        f"process; a layout is accounts x sessions, one stream per session)"
    )
    rows = [["", *(f"{layout(f)} layout" for f in figs)]]

    def row(label: str, cell: Callable[[StreamFigures], str]) -> None:
        rows.append([label, *(cell(f) for f in figs)])

    row("sign-ins (cheap scrypt)", lambda f: f"{f.sign_in_seconds:.1f} s")
    row("streams opened", lambda f: f"{f.opened} / {f.streams}")
    row("first `sessions` event received", lambda f: f"{f.first_events} / {f.opened}")
    row("open all, each heard its first event", lambda f: f"{f.open_seconds:.1f} s")
    row(
        "open -> first event, p50 / max",
        lambda f: f"{ms(f.first_event_p50)} / {ms(f.first_event_max)}",
    )
    row("server RSS, signed in, no stream", lambda f: f"{f.rss_before / 1024:.1f} MiB")
    row("server RSS with 1 stream (baseline)", lambda f: f"{f.rss_one / 1024:.1f} MiB")
    row("server RSS with N + 1 streams", lambda f: f"{f.rss_with / 1024:.1f} MiB")
    row(
        "memory per stream ((N+1 - 1 stream) / N)",
        lambda f: f"{(f.rss_with - f.rss_one) / max(f.opened, 1):.0f} KiB",
    )
    row("`sessions` event size (data)", lambda f: f"{f.first_size / 1024:.1f} KiB")
    row("server open descriptors before / with", lambda f: f"{f.fds_before} / {f.fds_with}")
    row("server RLIMIT_NOFILE soft / hard", lambda f: f.nofile)
    row("keep-alive comments heard", lambda f: str(f.keepalives))
    print(table(rows))
    if bare is not None:
        before, with_n, held = bare
        floor = (with_n - before) / max(held, 1)
        print(
            f"   floor: a bare asyncio TLS server (same Python, same certificate) holding {held} "
            f"idle connections: {before / 1024:.1f} -> {with_n / 1024:.1f} MiB = {floor:.0f} KiB "
            f"per connection"
        )
        for f in figs:
            per = (f.rss_with - f.rss_one) / max(f.opened, 1)
            print(f"   {layout(f)} layout: {ratio(per, floor)} the floor per stream")
    for f in figs:
        for what, count in f.errors.items():
            print(f"   ! {layout(f)}: {count} x {what}")
    fans = [f for f in figs if f.fan_latencies or f.base_latencies]
    if not fans:
        return
    base = fans[0].base_latencies  # every server's 1-stream figures are alike; the first one's
    print(
        "2. fan-out: one change (a sign-in, then a sign-out, of another session of the account) "
        "-> the time until each of the account's streams has its next `sessions` event"
    )
    head = ["", "1 stream (baseline)"]
    for f in fans:
        head += [f"{layout(f)}: {f.fan_streams} hear it", "ratio"]
    rows = [head]
    for label, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0)):
        cells = [label, ms(quantile(base, q))]
        for f in fans:
            cells += [
                ms(quantile(f.fan_latencies, q)),
                ratio(quantile(f.fan_latencies, q), quantile(base, q)),
            ]
        rows.append(cells)
    cells = ["the change's own request, p50", ms(quantile(fans[0].base_requests, 0.5))]
    for f in fans:
        cells += [ms(quantile(f.fan_requests, 0.5)), ""]
    rows.append(cells)
    cells = ["changes / latencies measured", f"{fans[0].changes} / {len(base)}"]
    for f in fans:
        cells += [f"{f.changes} / {len(f.fan_latencies)}", ""]
    rows.append(cells)
    cells = ["events missed (timed out)", str(fans[0].base_missed)]
    for f in fans:
        cells += [str(f.fan_missed), ""]
    rows.append(cells)
    print(table(rows))


# --- 3 and 4: a real daemon ---------------------------------------------------------------------


class Daemon:
    """``vms-tray --debug run --headless`` in a profile of its own, against one server."""

    def __init__(self, work: Path, name: str, server: RefServer, extra: dict[str, str]) -> None:
        self.profile = work / f"profile-{name}"
        self.name = name
        with self.selected():
            trust = Trust(mode="pinned", pin_sha256=server.fingerprint)
            ConnectionStore().update(lambda lst: lst.add("bench", server.url, "anna", trust=trust))
        self.env = {**os.environ, "VMS_TRAY_PROFILE": str(self.profile), **extra}
        self.env.pop("DISPLAY", None)
        self.stderr = (work / f"{name}.stderr").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vms_tray", "--debug", "run", "--headless"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        wait_for(self.answers, 30, f"{name}'s control socket")

    @contextlib.contextmanager
    def selected(self) -> Iterator[None]:
        """This daemon's profile for the calls made in this process (control socket, store)."""
        old = os.environ.get("VMS_TRAY_PROFILE")
        os.environ["VMS_TRAY_PROFILE"] = str(self.profile)
        try:
            yield
        finally:
            if old is None:
                del os.environ["VMS_TRAY_PROFILE"]
            else:
                os.environ["VMS_TRAY_PROFILE"] = old

    def answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited {self.proc.returncode}")
        try:
            self.status()
        except (ControlError, OSError):
            return False
        return True

    def status(self) -> dict[str, Any]:
        with self.selected():
            result: dict[str, Any] = control.request("status", timeout=5)
        return result

    def cli(self, *args: str, stdin: str | None = None) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "vms_tray", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if r.returncode:
            raise RuntimeError(f"{self.name}: vms-tray {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def sign_in(self) -> None:
        self.cli("signin", stdin=PASSWORD + "\n")

        def signed_in() -> bool:
            status = self.status()
            if status["state"] == "error":
                raise RuntimeError(f"{self.name}: sign-in failed: {status['last_error']}")
            return bool(status["state"] == "signed_in")

        wait_for(signed_in, 20, f"{self.name} signed in")

    def log(self) -> str:
        path = self.profile / "log" / "vms-tray.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def streams_up(self) -> int:
        """Events streams the daemon has opened (answered 200). Not "events stream up": after
        an ``ended`` event the server closes the stream, and the follower, still live, backs
        off and reconnects with the next sign-in's token without logging "up" again."""
        return len(re.findall(r"GET \S+/api/v1/events \"HTTP/1.1 200", self.log()))

    def wait_stream(self, before: int) -> None:
        """Until the log says the stream is up once more than ``before`` times."""
        wait_for(lambda: self.streams_up() > before, 20, f"{self.name}'s events stream", 0.1)

    def quit(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.cli("quit")
            self.proc.wait(10)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.stderr.close()


def wait_for(check: Callable[[], bool], timeout: float, what: str, step: float = 0.05) -> float:
    """Seconds until ``check()`` held."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if check():
            return time.perf_counter() - start
        time.sleep(step)
    raise TimeoutError(f"timed out waiting for {what}")


class OtherDevice:
    """Another device of the daemon's account (plain httpx): lists and ends sessions."""

    def __init__(self, server: RefServer) -> None:
        self.http = server.client()
        body = {"login": "anna", "password": PASSWORD, "client": {**CLIENT, "device": "OPS-PC-12"}}
        r = self.http.post(f"{API}/sessions", json=body)
        r.raise_for_status()
        self.session_id = r.json()["session_id"]
        self.bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def others(self) -> list[str]:
        r = self.http.get(f"{API}/sessions", headers=self.bearer)
        r.raise_for_status()
        return [s["id"] for s in r.json()["sessions"] if s["id"] != self.session_id]

    def end(self, session_id: str) -> None:
        self.http.delete(f"{API}/sessions/{session_id}", headers=self.bearer).raise_for_status()

    def close(self) -> None:
        with contextlib.suppress(httpx.HTTPError):
            self.http.delete(f"{API}/sessions/current", headers=self.bearer)
        self.http.close()


def time_to_ended(
    daemon: Daemon, other: OtherDevice, runs: int, poll_interval: float, streaming: bool
) -> list[float]:
    # The end comes at evenly spread phases of the poll interval (shuffled), so a few runs cover
    # it: seeded uniform draws bunched 5 runs within 0.6 s of each other.
    phases = [(k + 0.5) / runs * poll_interval for k in range(runs)]
    random.Random(16).shuffle(phases)
    took: list[float] = []
    for phase in phases:
        before = daemon.streams_up()
        daemon.sign_in()
        if streaming:
            daemon.wait_stream(before)
        time.sleep(phase)  # the poll's phase is not always the same
        (ours,) = other.others()
        t0 = time.perf_counter()
        other.end(ours)
        wait_for(
            lambda: daemon.status()["state"] == "ended",
            poll_interval * 3 + 30,
            f"{daemon.name} ended",
            step=STATUS_STEP,
        )
        took.append(time.perf_counter() - t0)
    return took


def bench_stream_vs_poll(
    work: Path, live: RefServer, plain: RefServer, runs: int, poll_interval: float
) -> None:
    extra = {"VMS_TRAY_POLL_INTERVAL": f"{poll_interval:g}"}
    results: dict[str, list[float]] = {}
    for name, server, streaming in (("stream", live, True), ("poll", plain, False)):
        daemon = Daemon(work, f"ended-{name}", server, extra)
        other = OtherDevice(server)
        try:
            results[name] = time_to_ended(daemon, other, runs, poll_interval, streaming)
        finally:
            other.close()
            daemon.quit()
    stream, poll = results["stream"], results["poll"]
    print(
        f"3. session ended by another device -> the daemon's state `ended`, {runs} runs each; "
        f"both daemons poll every {poll_interval:g} s (VMS_TRAY_POLL_INTERVAL; default 60 s)"
    )
    rows = [
        ["", "poll only (baseline)", "events stream", "poll / stream"],
        *(
            [label, ms(quantile(poll, q)), ms(quantile(stream, q)), ratio(b, quantile(stream, q))]
            for label, q, b in (
                ("p50", 0.5, quantile(poll, 0.5)),
                (f"p99 (of {runs}: the max)", 0.99, quantile(poll, 0.99)),
            )
        ),
        ["runs (s)", " ".join(f"{t:.2f}" for t in poll), " ".join(f"{t:.2f}" for t in stream), ""],
    ]
    print(table(rows))
    print(
        f"   (status read over the control socket every {STATUS_STEP * 1000:.0f} ms, which is "
        f"in the figures; the poll's worst case is one interval plus a request: at the default "
        f"{DaemonSettings().poll_interval:.0f} s interval, up to a minute)"
    )


def bench_idle(work: Path, live: RefServer, plain: RefServer, seconds: float) -> None:
    defaults = DaemonSettings()
    daemons = {
        "stream": Daemon(work, "idle-stream", live, {}),
        "poll": Daemon(work, "idle-poll", plain, {}),
    }
    try:
        for name, daemon in daemons.items():
            before = daemon.streams_up()
            daemon.sign_in()
            if name == "stream":
                daemon.wait_stream(before)
        time.sleep(1.0)  # what the sign-in itself asked is not idle
        marks = {name: len(d.log()) for name, d in daemons.items()}
        t0 = time.perf_counter()
        time.sleep(seconds)
        window = time.perf_counter() - t0
        counts = {name: requests_by_endpoint(d.log()[marks[name] :]) for name, d in daemons.items()}
        live_at_end = daemons["stream"].log()[marks["stream"] :].count("events stream down")
    finally:
        for daemon in daemons.values():
            daemon.quit()
    stream, poll = counts["stream"], counts["poll"]
    total_s, total_p = sum(stream.values()), sum(poll.values())
    print(
        f"4. idle signed-in daemon at default intervals (poll {defaults.poll_interval:.0f} s, "
        f"with the stream up {defaults.live_poll_interval:.0f} s; access token 300 s), "
        f"HTTP requests in a {window:.0f} s window (--debug log)"
    )
    endpoints = sorted(set(stream) | set(poll))
    rows = [
        ["", "poll only (baseline)", "events stream", "stream / poll"],
        *([e, str(poll[e]), str(stream[e]), ""] for e in endpoints),
        ["all requests in the window", str(total_p), str(total_s), ratio(total_s, total_p)],
        [
            "extrapolated per hour",
            f"{per_hour(total_p, window):.0f}",
            f"{per_hour(total_s, window):.0f}",
            ratio(total_s, total_p),
        ],
    ]
    exp_p = expected_per_hour(defaults.poll_interval, 300, False)
    exp_s = expected_per_hour(defaults.live_poll_interval, 300, True)
    rows.append(
        [
            "what the intervals predict per hour",
            f"{sum(exp_p.values()):.0f}",
            f"{sum(exp_s.values()):.0f}",
            ratio(sum(exp_s.values()), sum(exp_p.values())),
        ]
    )
    print(table(rows))
    print(
        "   predicted: "
        + "; ".join(
            f"{label}: " + ", ".join(f"{k} {v:.0f}" for k, v in exp.items())
            for label, exp in (("poll", exp_p), ("stream", exp_s))
        )
    )
    if live_at_end:
        print(f"   ! the stream went down {live_at_end} time(s) in the window")
    if window < 300 * 0.7:
        print(
            f"   (a {window:.0f} s window is shorter than a refresh period (150-210 s): the "
            f"extrapolation counts a refresh or none; --idle-seconds 900 for a steadier figure)"
        )


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000, help="streams held (1000)")
    parser.add_argument(
        "--layouts",
        default="100,1",
        help="accounts the streams are spread over, one server per layout (100,1: 100 accounts "
        "of 10 sessions, then one account of 1000: every stream hears each change)",
    )
    parser.add_argument(
        "--changes", default="6,2", help="changes timed for fan-out, per layout (6,2)"
    )
    parser.add_argument("--runs", type=int, default=5, help="ended-session runs per mode (5)")
    parser.add_argument(
        "--poll-interval", type=float, default=5.0, help="the daemons' poll interval in 3 (5 s)"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=120.0, help="the idle window of 4 (120 s)"
    )
    parser.add_argument("--only", default="1,2,3,4", help="which parts to run (1,2,3,4)")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    soft, hard = raise_nofile()
    print(
        f"events bench: {os.cpu_count()} CPUs, loopback TLS, this process's RLIMIT_NOFILE "
        f"raised to {soft}/{hard} (the server inherits it)"
    )
    with tempfile.TemporaryDirectory(prefix="vms-tray-events-bench-") as tmp:
        work = Path(tmp)
        if parts & {"1", "2"}:
            layouts = [int(a) for a in args.layouts.split(",")]
            changes = [int(c) for c in args.changes.split(",")]
            changes += changes[-1:] * (len(layouts) - len(changes))
            figs: list[StreamFigures] = []
            bare: tuple[int, int, int] | None = None
            for n, (accounts, count) in enumerate(zip(layouts, changes, strict=False)):
                users = {f"user{i}": PASSWORD for i in range(accounts)} | {"solo": PASSWORD}
                server = start_server(work / f"streams-{n}", users, access_ttl=STREAM_ACCESS_TTL)
                try:
                    if bare is None:
                        bare = asyncio.run(bench_bare(server.data_dir, args.streams))
                    figs.append(
                        asyncio.run(
                            bench_streams(server, args.streams, accounts, count, "2" in parts)
                        )
                    )
                finally:
                    server.stop()
            report_streams(figs, bare)
        if parts & {"3", "4"}:
            (work / "profiles").mkdir()
            live = start_server(work / "live", {"anna": PASSWORD})
            plain = start_server(work / "plain", {"anna": PASSWORD}, features=NO_EVENTS)
            try:
                if "3" in parts:
                    bench_stream_vs_poll(
                        work / "profiles", live, plain, args.runs, args.poll_interval
                    )
                if "4" in parts:
                    bench_idle(work / "profiles", live, plain, args.idle_seconds)
            finally:
                live.stop()
                plain.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
