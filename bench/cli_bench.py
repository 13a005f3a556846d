"""CLI start-up benchmark: whole-process wall time of each command against a bare interpreter.

    .venv/bin/python bench/cli_bench.py [--runs 20] [--only help,version,...]

Each command is the console script as a user runs it (``vms-tray`` beside this interpreter),
started as a new process and timed from its start to its exit, paired run for run with
``python -c pass`` of the same interpreter (A B A B ...), so a machine whose speed drifts moves
both. Printed: the medians of both and the median of the per-pair ratios (goal: <= 3x).

The commands run against real components, as a user's would: a private D-Bus session with
gnome-keyring (the server's password stored there), a reference server on loopback with a
pinned certificate, and ``vms-tray run --headless`` signed in to it, so ``status`` answers from
a signed-in daemon (seat counts and all) and ``servers list`` asks the keyring whether a
password is stored. ``module-version`` is ``python -m vms_tray --version``: how the Debian
package's /usr/bin/vms-tray starts (a shell script that execs ``python -m vms_tray``).

The commands run with their bytecode cached, as installed ones do (pip and the Debian package's
postinst compile it): ``PYTHONDONTWRITEBYTECODE`` is removed from their environment, so the
uncounted warm-up run writes the ``.pyc`` files of an editable checkout. With it set, every run
compiles every module of ours from source (about 30 ms more per command, measured).

Figures only; nothing is asserted. One warm-up round is not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password 1"
SCRIPT = str(Path(sys.executable).with_name("vms-tray"))

COMMANDS: dict[str, list[str]] = {
    "version": [SCRIPT, "--version"],
    "help": [SCRIPT, "--help"],
    "servers-list": [SCRIPT, "servers", "list"],
    "status": [SCRIPT, "status"],
    "module-version": [sys.executable, "-m", "vms_tray", "--version"],
}
BASELINE = [sys.executable, "-c", "pass"]
GOAL = 3.0


def wall(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from the start of ``argv`` to its exit; a failure is an error, not a figure."""
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    took = time.perf_counter() - t0
    if r.returncode:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.decode()[-300:]}")
    return took


def paired(argv: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    wall(argv, env)  # warm-up: the page cache and .pyc files
    wall(BASELINE, env)
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        a.append(wall(argv, env))
        b.append(wall(BASELINE, env))
    return {
        "command_s": statistics.median(a),
        "python_s": statistics.median(b),
        "ratio": statistics.median(x / y for x, y in zip(a, b, strict=True)),
    }


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    r = subprocess.run(
        [SCRIPT, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    if r.returncode:
        raise RuntimeError(f"vms-tray {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def signed_in(env: dict[str, str]) -> bool:
    try:
        return bool(json.loads(cli(env, "status", "--json"))["state"] == "signed_in")
    except RuntimeError:  # not up yet
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=20, help="paired runs per command")
    ap.add_argument("--only", default=",".join(COMMANDS), help="comma-separated commands")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    from tests.support.components import dbus_session, secret_service, terminate, wait_until
    from tests.support.refserver import RefServer

    chosen = [c for c in COMMANDS if c in args.only.split(",")]
    results: dict[str, dict[str, float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="vms-tray-cli-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        base.pop("PYTHONDONTWRITEBYTECODE", None)  # see the docstring: installed = compiled
        base |= {"VMS_TRAY_PROFILE": str(work / "profile"), "VMS_TRAY_LANG": "en"}
        session = stack.enter_context(dbus_session(base, work))
        env = stack.enter_context(secret_service(session))
        server = RefServer.start(work / "server", users={"anna": PASSWORD}, max_sessions=10)
        stack.callback(server.stop)
        cli(env, "servers", "add", "bench", server.url, "--login", "anna")
        cli(env, "servers", "trust", "bench", "--fingerprint", server.fingerprint)
        cli(env, "password", "set", "bench", stdin=PASSWORD + "\n")
        daemon = subprocess.Popen(
            [SCRIPT, "run", "--headless"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(terminate, daemon)
        wait_until(lambda: signed_in(env), 30, "the headless daemon to sign in")
        for name in chosen:
            results[name] = paired(COMMANDS[name], env, args.runs)
    if args.json:
        print(json.dumps({"runs": args.runs, **results}))
        return 0
    print(
        f"CLI start-up: {args.runs} paired runs each, medians, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; baseline: {' '.join(BASELINE)}"
    )
    print(f"{'command':16}{'command s':>11}{'python s':>11}{'ratio':>9}   (goal <= {GOAL:g}x)")
    for name, r in results.items():
        print(f"{name:16}{r['command_s']:11.3f}{r['python_s']:11.3f}{r['ratio']:8.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
