"""Load figures of the reference server: sign-in and refresh latency and throughput.

Starts ``vms-tray server run`` as a separate process on loopback (real TLS, default scrypt
parameters), then drives it from this process with N concurrent clients (asyncio + httpx), one
phase at a time for a bounded duration:

* baseline  GET /api/v1/server            (no auth, no storage: the cost of HTTP + TLS + JSON)
* poll      GET /api/v1/sessions          (what a signed-in daemon polls: each client with its
                                           own bearer over its kept-alive connection), once
                                           with 1 client and once with N: the 1-client run is
                                           the latency a lone daemon sees, measured in this run
* refresh   POST /api/v1/sessions/refresh (each client rotates its own session's tokens)
* sign-in   POST /api/v1/sessions         (scrypt + a seat check + two token inserts)

Prints p50/p99 latency and requests/s per phase and each phase's ratio to the baseline. The
client shares the machine with the server, so absolute figures are a floor; the ratios are the
point.

    .venv/bin/python bench/server_bench.py [--clients 200] [--duration 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from vms_tray.refserver.runner import open_store
from vms_tray.refserver.tokens import hash_password

CLIENT = {"device": "bench", "software": "server_bench", "version": "1"}
PASSWORD = "bench-password"


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "vms_tray", "server", "run", "--data", str(data), "--port", "0",
            "--captcha", "never", "--max-sessions", "0", "--max-pending-sign-ins", "100000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    lines = [proc.stdout.readline().decode(), proc.stdout.readline().decode()]
    if not lines[0].startswith("listening "):
        proc.kill()
        raise SystemExit(f"server did not start: {lines!r}")
    return proc, lines[0].split()[1], (data / "server.crt").read_text()


async def run_phase(
    name: str,
    clients: int,
    duration: float,
    make_worker: Callable[[int], Callable[[], Awaitable[httpx.Response]]],
) -> Phase:
    phase = Phase(name)
    deadline = time.perf_counter() + duration

    async def worker(i: int) -> None:
        step = make_worker(i)
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                r = await step()
            except httpx.HTTPError as exc:
                phase.errors[type(exc).__name__] += 1
                continue
            phase.latencies.append(time.perf_counter() - t0)
            phase.statuses[r.status_code] += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    phase.elapsed = time.perf_counter() - t0
    return phase


async def bench(url: str, pem: str, clients: int, duration: float) -> list[Phase]:
    context = ssl.create_default_context(cadata=pem)
    # One client (one connection) per simulated user, like real tray apps: a single shared
    # httpx pool with hundreds of connections is itself the bottleneck (measured: 60 req/s).
    https = [httpx.AsyncClient(base_url=url, verify=context, timeout=60) for _ in range(clients)]
    try:
        # Connect first so the phases measure requests, not TLS handshakes.
        await asyncio.gather(*(h.get("/api/v1/server") for h in https))
        baseline = await run_phase(
            "baseline GET /server",
            clients,
            duration,
            lambda i: lambda: https[i].get("/api/v1/server"),
        )

        async def sign_in(i: int) -> httpx.Response:
            body = {"login": f"user{i}", "password": PASSWORD, "client": CLIENT}
            return await https[i].post("/api/v1/sessions", json=body)

        first = await asyncio.gather(*(sign_in(i) for i in range(clients)))
        refresh_tokens = [r.json()["refresh_token"] for r in first]
        bearers = [{"Authorization": f"Bearer {r.json()['access_token']}"} for r in first]

        def poller(i: int) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: https[i].get("/api/v1/sessions", headers=bearers[i])

        poll_one = await run_phase("poll, 1 client", 1, duration, poller)
        poll = await run_phase(f"poll, {clients} clients", clients, duration, poller)

        def refresher(i: int) -> Callable[[], Awaitable[httpx.Response]]:
            async def step() -> httpx.Response:
                r = await https[i].post(
                    "/api/v1/sessions/refresh", json={"refresh_token": refresh_tokens[i]}
                )
                if r.status_code == 200:
                    refresh_tokens[i] = r.json()["refresh_token"]
                return r

            return step

        refresh = await run_phase("refresh", clients, duration, refresher)
        signin = await run_phase("sign-in", clients, duration, lambda i: lambda: sign_in(i))
    finally:
        await asyncio.gather(*(h.aclose() for h in https))
    return [baseline, poll_one, poll, refresh, signin]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vms-tray-bench-") as tmp:
        data = Path(tmp)
        store = open_store(data)
        hashed = hash_password(PASSWORD)  # default scrypt cost; one salt is enough for a bench
        for i in range(args.clients):
            store.add_user(f"user{i}", hashed, None, time.time())
        store.close()
        proc, url, pem = start_server(data)
        try:
            phases = asyncio.run(bench(url, pem, args.clients, args.duration))
        finally:
            proc.terminate()
            proc.wait(15)
    base = phases[0]
    print(
        f"reference server, {args.clients} concurrent clients on loopback over TLS, "
        f"{args.duration:.0f} s per phase, {os.cpu_count()} CPUs"
    )
    print(
        f"{'phase':22} {'requests':>9} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'p50 x base':>11} {'req/s x base':>13}  statuses"
    )
    for p in phases:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(p.statuses.items()))
        if p.errors:
            statuses += "; errors " + ", ".join(f"{k}: {v}" for k, v in p.errors.items())
        print(
            f"{p.name:22} {len(p.latencies):9d} {p.rate:9.1f} {p.pct(0.5):9.1f} {p.pct(0.99):9.1f} "
            f"{p.pct(0.5) / base.pct(0.5):11.2f} {p.rate / base.rate:13.3f}  {statuses}"
        )
    one, many = phases[1], phases[2]
    print(
        f"poll under load: p50 {many.pct(0.5) / one.pct(0.5):.1f}x and p99 "
        f"{many.pct(0.99) / one.pct(0.99):.1f}x the 1-client figures "
        f"({one.pct(0.5):.1f} / {one.pct(0.99):.1f} ms)"
    )
    signin = phases[4]
    mean = statistics.fmean(signin.latencies) * 1000 if signin.latencies else float("nan")
    print(f"sign-in mean latency {mean:.1f} ms (scrypt N=2**14, r=8, p=1 per attempt)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
