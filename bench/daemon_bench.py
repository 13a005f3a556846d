"""Daemon benchmark: prints figures, each with a baseline measured in the same run.

    .venv/bin/python bench/daemon_bench.py [--window SECONDS]

1. Idle cost of ``vms-tray run --headless`` at default intervals, signed in to the reference
   server: resident memory (VmRSS) against a bare ``python -c`` process, and CPU time per hour.
   CPU is measured over a short window and extrapolated (said in the output): the idle rate comes
   from a daemon at default intervals; the cost of one poll/refresh from a second daemon polling
   every 0.5 s; per hour = idle rate x 3600 + cost per request x requests per hour at defaults.
2. HTTP requests per poll cycle and TLS handshakes over 100 cycles, against the real reference
   server with the real protocol client (handshakes counted in the client's SSL context), polls
   and token refreshes counted apart. The clock is fake, so the cycles take milliseconds: a
   second figure makes one poll a real poll interval after the sign-in (about a minute of wall
   time), which is when a server's keep-alive timeout would close the connection.
3. Memory growth over 10,000 simulated poll cycles (fake clock and server; tracemalloc),
   against the first 1,000 cycles as warm-up.
   The daemons run as a desktop user's does: on a session bus with gnome-keyring's Secret
   Service (private ones, started for the bench), so the keyring backend they load is the one
   a user gets (without one, keyring's discovery loads every backend, PyGObject included).
4. A poll through a real HTTP proxy (tinyproxy, as https_proxy names it) against the same poll
   made directly, in the same run: latency ratio, and CONNECT tunnels opened (goal: one).
5. Where the daemon's memory goes: the resident memory each of its big dependencies adds to a
   bare Python when imported alone (the same way the daemon imports it), against that bare
   Python, in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.procstat import TICK, cpu_seconds, rss_kib  # noqa: E402
from tests.support.components import dbus_session, secret_service  # noqa: E402
from tests.support.proxy import TinyProxy  # noqa: E402
from tests.support.refserver import RefServer  # noqa: E402
from tests.unit.daemon.fakes import (  # noqa: E402
    FakeClock,
    FakeScheduler,
    MemoryConnections,
    MemoryPasswords,
    RecordingNotifier,
    Sim,
)
from vms_tray.app.logs import Redactor  # noqa: E402
from vms_tray.connections.model import Connection, Trust  # noqa: E402
from vms_tray.connections.store import ConnectionStore  # noqa: E402
from vms_tray.daemon.settings import DaemonSettings  # noqa: E402
from vms_tray.daemon.worker import Daemon  # noqa: E402
from vms_tray.kinds import create_server  # noqa: E402
from vms_tray.kinds.base import ClientInfo, ServerKind  # noqa: E402
from vms_tray.net.http import KEEPALIVE_EXPIRY  # noqa: E402
from vms_tray.session.records import SignedIn  # noqa: E402

PASSWORD = "bench password 1"


def wait_for(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError("timed out")


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "vms_tray", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if r.returncode:
        raise RuntimeError(f"{args}: {r.stderr}")
    return r.stdout


def start_daemon(
    work: Path, server: RefServer, extra: dict[str, str]
) -> tuple[Any, dict[str, str]]:
    profile = work / f"profile-{len(list(work.iterdir()))}"
    env = {**os.environ, "VMS_TRAY_PROFILE": str(profile), **extra}
    env.pop("DISPLAY", None)
    os.environ["VMS_TRAY_PROFILE"] = str(profile)
    trust = Trust(mode="pinned", pin_sha256=server.fingerprint)
    ConnectionStore().update(lambda lst: lst.add("bench", server.url, "anna", trust=trust))
    proc = subprocess.Popen(
        [sys.executable, "-m", "vms_tray", "run", "--headless"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            cli(env, "status")
            return True
        except RuntimeError:
            return False

    wait_for(up, 30)
    cli(env, "signin", stdin=PASSWORD + "\n")
    status = json.loads(cli(env, "status", "--json"))
    assert status["state"] == "signed_in", status
    return proc, env


def bench_idle(work: Path, server: RefServer, window: float) -> None:
    bare = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    time.sleep(1.0)
    bare_rss = rss_kib(bare.pid)
    bare.kill()
    bare.wait()

    idle, env = start_daemon(work, server, {})
    time.sleep(2.0)  # let start-up work finish
    rss0, cpu0, t0 = rss_kib(idle.pid), cpu_seconds(idle.pid), time.monotonic()
    time.sleep(window)
    rss1, cpu1, t1 = rss_kib(idle.pid), cpu_seconds(idle.pid), time.monotonic()
    idle_rate = (cpu1 - cpu0) / (t1 - t0)

    # Both intervals: with the server's events stream up the daemon polls at the live one.
    fast = {"VMS_TRAY_POLL_INTERVAL": "0.5", "VMS_TRAY_LIVE_POLL_INTERVAL": "0.5"}
    busy, benv = start_daemon(work, server, fast)
    time.sleep(2.0)
    polls_window = max(5.0, window / 2)
    c0, b0 = cpu_seconds(busy.pid), time.monotonic()
    time.sleep(polls_window)
    c1, b1 = cpu_seconds(busy.pid), time.monotonic()
    polls = (b1 - b0) / 0.5
    per_request = max(0.0, ((c1 - c0) - idle_rate * (b1 - b0)) / polls)

    defaults = DaemonSettings()
    # The reference server streams events, so the idle daemon polls at the live interval.
    per_hour_requests = 3600 / defaults.live_poll_interval + 3600 / (300 * 0.6)
    cpu_hour = idle_rate * 3600 + per_request * per_hour_requests
    print("1. idle headless daemon, signed in, default intervals")
    print(f"   resident memory: {rss1 / 1024:.1f} MiB (start of window {rss0 / 1024:.1f} MiB)")
    print(
        f"   baseline bare python process: {bare_rss / 1024:.1f} MiB; ratio {rss1 / bare_rss:.1f}x"
    )
    print(
        f"   CPU while idle: {idle_rate * 1000:.3f} ms/s over a {t1 - t0:.0f} s window "
        f"(clock ticks of {1000 / TICK:.0f} ms)"
    )
    print(f"   CPU per poll request: {per_request * 1000:.2f} ms (from {polls:.0f} polls at 0.5 s)")
    print(
        f"   CPU per hour (extrapolated from the windows above, not measured for an hour): "
        f"{cpu_hour:.2f} s = {cpu_hour / 36:.3f} % of one core"
    )
    for proc, e in ((idle, env), (busy, benv)):
        cli(e, "quit")
        proc.wait(10)


class CountingContext(ssl.SSLContext):
    handshakes = 0

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        CountingContext.handshakes += 1
        return super().wrap_socket(*args, **kwargs)


class CountingTransport(httpx.HTTPTransport):
    requests = 0
    by_endpoint: ClassVar[Counter[str]] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        CountingTransport.requests += 1
        CountingTransport.by_endpoint[f"{request.method} {request.url.path}"] += 1
        return super().handle_request(request)


def bench_http(server: RefServer) -> None:
    ctx = CountingContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=server.cert_pem)
    # The adapter's own keep-alive expiry (httpx's default of 5 s would close the pool between
    # polls, which the daemon's client does not).
    transport = CountingTransport(
        verify=ctx, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY)
    )
    conn = Connection("bench", server.url, "anna", default=True)

    def factory(connection: Connection, timeout: float) -> ServerKind:
        return create_server(connection, transport=transport, timeout=timeout)

    clock = FakeClock()
    daemon = Daemon(
        connections=MemoryConnections([conn]),
        passwords=MemoryPasswords({"bench": PASSWORD}),
        server_factory=factory,
        notifier=RecordingNotifier(),
        scheduler=FakeScheduler(clock),
        clock=clock,
        client_info=ClientInfo("BENCH", "vms-tray", "bench"),
        rng=random.Random(1),
    )
    scheduler = daemon._scheduler
    assert isinstance(scheduler, FakeScheduler)
    daemon.start(thread=False)
    daemon.run_pending()
    assert daemon.snapshot().state.value == "signed_in"
    r0, h0 = CountingTransport.requests, CountingContext.handshakes
    e0 = Counter(CountingTransport.by_endpoint)
    for _ in range(100 * 12):  # 100 poll intervals of 60 s, in 5 s steps
        clock.tick(5)
        while scheduler.run_due() + daemon.run_pending():
            pass
    assert daemon.snapshot().state.value == "signed_in"
    requests = CountingTransport.requests - r0
    handshakes = CountingContext.handshakes - h0
    endpoints = CountingTransport.by_endpoint - e0
    polls = endpoints.pop("GET /api/v1/sessions", 0)
    refreshes = endpoints.pop("POST /api/v1/sessions/refresh", 0)
    print("2. HTTP per poll cycle (real protocol client, real reference server)")
    print(
        f"   {requests} requests over 100 poll cycles (6000 s of fake time): {polls} GET /sessions "
        f"= {polls / 100:.2f} per cycle (goal 1.00), {refreshes} token refreshes (one per "
        f"{6000 / max(refreshes, 1):.0f} s: 0.5-0.7 of the server's 300 s access token), "
        f"others {dict(endpoints) or 'none'}"
    )
    print(f"   TLS handshakes over 100 cycles: {handshakes} (goal 0: the sign-in's connection)")
    print(f"   baseline: {h0} handshake(s) and {r0} request(s) for the sign-in itself")
    daemon.stop()

    wait = DaemonSettings().poll_interval + 5
    with create_server(conn, transport=transport) as kind:
        outcome = kind.sign_in("anna", PASSWORD, ClientInfo("BENCH-IDLE", "vms-tray", "bench"))
        assert isinstance(outcome, SignedIn), outcome
        h1 = CountingContext.handshakes
        time.sleep(wait)
        kind.list_sessions(outcome.tokens.access_token)
        after = CountingContext.handshakes - h1
        kind.sign_out(outcome.tokens)
    print(
        f"   TLS handshakes for a poll made {wait:.0f} s (real time) after the sign-in: "
        f"{after} (goal 0)"
    )


def _poll_times(server: RefServer, env: dict[str, str], calls: int) -> list[float]:
    pin = Trust(mode="pinned", pin_sha256=server.fingerprint)
    conn = Connection("bench", server.url, "anna", trust=pin)
    with create_server(conn, env=env) as kind:
        outcome = kind.sign_in("anna", PASSWORD, ClientInfo("BENCH-PROXY", "vms-tray", "bench"))
        assert isinstance(outcome, SignedIn), outcome
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            kind.list_sessions(outcome.tokens.access_token)
            times.append(time.perf_counter() - start)
        kind.sign_out(outcome.tokens)
    return times


def bench_proxy(work: Path, server: RefServer, calls: int = 300) -> None:
    print("4. a poll through a real HTTP proxy (tinyproxy) against the same poll made directly")
    if shutil.which("tinyproxy") is None:
        print("   not measured: tinyproxy is not installed (scripts/test installs it as root)")
        return
    proxy = TinyProxy(work / "proxy").start()
    try:
        direct = _poll_times(server, {}, calls)
        tunnelled = _poll_times(server, {"https_proxy": proxy.url}, calls)
        tunnels = proxy.tunnels()
    finally:
        proxy.stop()

    def p(times: list[float], q: int) -> float:
        return statistics.quantiles(times, n=100)[q - 1] * 1000

    print(f"   {calls} GET /sessions each, one client, TLS on loopback, pinned certificate")
    print(f"   direct (baseline): p50 {p(direct, 50):.2f} ms, p99 {p(direct, 99):.2f} ms")
    print(
        f"   through the proxy: p50 {p(tunnelled, 50):.2f} ms, p99 {p(tunnelled, 99):.2f} ms "
        f"({p(tunnelled, 50) / p(direct, 50):.2f}x the direct p50)"
    )
    print(f"   CONNECT tunnels opened for sign-in, {calls} polls and sign-out: {tunnels} (goal 1)")


def bench_memory(cycles: int = 10_000, warmup: int = 1_000) -> None:
    sim = Sim()
    redactor = Redactor()
    sim.daemon._secret = redactor.add
    sim.office.refresh_ttl = 1e9  # a session that lives through the whole run
    sim.start()
    world = sim.office

    def trim() -> None:
        world.calls.clear()  # the fake server's call log, not the daemon's memory

    gc.collect()
    tracemalloc.start()
    sim.advance(warmup * 60, step=60, each=trim)
    gc.collect()
    base = tracemalloc.get_traced_memory()[0]
    sim.advance((cycles - warmup) * 60, step=60, each=trim)
    gc.collect()
    end = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert sim.state() == "signed_in"
    print(f"3. memory over {cycles} simulated poll cycles (fake clock and server, tracemalloc)")
    print(f"   traced after {warmup} warm-up cycles: {base / 1024:.1f} KiB")
    print(
        f"   traced after {cycles} cycles: {end / 1024:.1f} KiB; growth {(end - base) / 1024:+.1f} "
        f"KiB = {(end - base) / (cycles - warmup):+.2f} bytes per cycle"
    )


# What the headless daemon imports, by weight (each imported alone into a bare Python).
FOOTPRINT = {
    "httpx (HTTP client, TLS)": "import httpx",
    "keyring + the Secret Service backend the daemon uses (vms_tray.secretservice, jeepney)": (
        "import vms_tray.secretservice.backend"
    ),
    "for comparison: keyring's own Secret Service backend (secretstorage, cryptography)": (
        "import keyring.backends.SecretService"
    ),
    "APScheduler (background scheduler)": (
        "import apscheduler.schedulers.background, apscheduler.triggers.date"
    ),
    "websockets (AIPIX push)": "import websockets.sync.client",
    "the stack alone, none of ours (httpx, APScheduler, keyring, jeepney)": (
        "import httpx, apscheduler.schedulers.background, apscheduler.triggers.date, keyring, "
        "jeepney.io.blocking"
    ),
    "the headless daemon's imports at start (vms_tray.app.runner)": "import vms_tray.app.runner",
}
RSS_PRINT = "import re; print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read())[1])"


def _rss_after(code: str) -> int:
    # After vms_tray's own __init__, as in the daemon: it keeps httpx's command-line client
    # (click, rich) out, which a bare ``import httpx`` loads where they are installed.
    out = subprocess.run(
        [sys.executable, "-c", f"import vms_tray\n{code}\n{RSS_PRINT}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(out.stdout.split()[-1])


def bench_footprint(runs: int = 3) -> None:
    print("5. resident memory each dependency adds to a bare Python (median of 3, imported alone)")
    bare = statistics.median(_rss_after("pass") for _ in range(runs))
    print(f"   bare python: {bare / 1024:.1f} MiB")
    for what, code in FOOTPRINT.items():
        rss = statistics.median(_rss_after(code) for _ in range(runs))
        print(f"   {what}: +{(rss - bare) / 1024:.1f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=20.0, help="idle window in seconds")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="vms-tray-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        (work / "profiles").mkdir()
        base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        session = stack.enter_context(dbus_session(base, work))
        os.environ.clear()
        os.environ.update(stack.enter_context(secret_service(session)))
        server = RefServer.start(work / "server", users={"anna": PASSWORD}, max_sessions=10)
        try:
            bench_idle(work / "profiles", server, args.window)
            bench_http(server)
            bench_proxy(work, server)
        finally:
            server.stop()
    bench_memory()
    bench_footprint()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
