"""Tray benchmark: the real processes on the real desktop stack, printing figures and ratios.

    .venv/bin/python bench/tray_bench.py [--backend gtk|xorg|appindicator] [--idle 5] [--runs 3]

On one desktop (Xvfb + D-Bus + gnome-keyring + dunst + trayer; appindicator on a
StatusNotifierItem host, gtk-sni-tray-standalone, as well) and one reference server on loopback,
it starts, one at a time:

- ``app``: ``vms-tray run``, the product as a user runs it: the real daemon, signed in to the
  reference server over TLS with a pinned certificate, its password in the real keyring (Secret
  Service), its icon in the tray;
- ``bare``: a bare pystray icon with a one-item menu on the same backend (a tiny script), with
  GTK's defaults, and ``bare-nogl``: the same with ``GDK_GL=disable`` (the deterministic
  baseline: with the defaults GTK loads Mesa's llvmpipe on some starts and not on others);
  ``app-gl``: ``vms-tray run`` with ``GDK_GL`` set empty (GTK's defaults: how vms-tray ran before
  it disabled GL for itself, and what a user's own ``GDK_GL`` gets);
- ``headless``: ``vms-tray run --headless``, signed in the same way, and ``python``: a bare
  ``python -c`` process, the daemon's baseline.

Each is measured once it is visible (its icon embedded, or signed in when it has no icon) and has
settled: resident memory (VmRSS) and PSS (/proc/PID/smaps_rollup), seconds from process start to
visible (for vms-tray: icon embedded and signed in, as ``vms-tray status`` says, so its figure
includes up to one status call's latency), CPU while idle over ``--idle`` seconds, and whether
Mesa's libLLVM was mapped, and (``--top``) the mappings app holds most beyond bare-nogl and
headless beyond python. The medians
of ``--runs`` rounds are printed with the ratios measured in the same run: app/bare-nogl
(goal <= 1.25x), app/bare, headless/python (goal <= 2.5x). One warm-up round is not counted: the
first GTK process on a fresh display builds caches. Figures only; nothing is asserted.

The former stub measurement (TrayApp with a stub daemon) is gone: what it answered, the cost of
the tray layer alone, is now app minus headless, measured on the real processes.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procstat import cpu_seconds, mapped_kib, pss_kib, rss_kib  # noqa: E402

PASSWORD = "bench password 1"

# The bare icon: nothing but pystray, Pillow's image of our icon and a one-item menu.
BARE = f"""
import pystray
from PIL import Image
img = Image.open({str(ROOT / "icons" / "signed-in.png")!r})
menu = pystray.Menu(pystray.MenuItem("Quit", lambda i, _it: i.stop()))
pystray.Icon("bench-bare", img, "bench-bare", menu=menu).run()
"""

VARIANTS = ("python", "headless", "bare", "bare-nogl", "app", "app-gl")

# --- seeing an icon ---------------------------------------------------------------------------


def embedded_icons(display_name: str) -> int:
    """Viewable client windows embedded in the tray host (trayer's panel)."""
    from Xlib import X, display

    d = display.Display(display_name)
    try:
        count = 0
        stack = list(d.screen().root.query_tree().children)
        while stack:
            w = stack.pop()
            try:
                cls = w.get_wm_class()
                kids = w.query_tree().children
            except Exception:  # noqa: S112 - a window that vanished meanwhile
                continue
            if cls and cls[0] == "panel":
                for socket in kids:
                    for client in socket.query_tree().children:
                        if client.get_attributes().map_state == X.IsViewable:
                            count += 1
            else:
                stack.extend(kids)
        return count
    finally:
        d.close()


class Tray:
    """How an icon shows up: embedded in trayer (XEmbed), or an Active item registered with a
    StatusNotifierItem watcher (AppIndicator on gtk-sni-tray)."""

    def __init__(self, env: dict[str, str], sni: Any = None) -> None:
        self.env = env
        self.sni = sni  # tests.support.sni.SniBus, for the appindicator backend

    def icons(self, pid: int | None = None) -> int:
        if self.sni is None:
            return embedded_icons(self.env["DISPLAY"])
        return sum(
            1
            for item in self.sni.items()
            if (pid is None or item.pid == pid)
            and self.sni.item_property(item, "Status") == "Active"
        )


# --- the measured programs --------------------------------------------------------------------


class Bench:
    def __init__(self, tray: Tray, env: dict[str, str], idle: float) -> None:
        self.tray = tray
        self.env = env  # the desktop's, with the profile
        self.idle = idle
        self.mapped: dict[str, dict[str, int]] = {}  # each variant's last run, by mapped file

    def cli(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "vms_tray", *args],
            env=env or self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if r.returncode:
            raise RuntimeError(f"vms-tray {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def signed_in(self, env: dict[str, str]) -> bool:
        try:
            return bool(json.loads(self.cli("status", "--json", env=env))["state"] == "signed_in")
        except RuntimeError:  # not up yet
            return False

    def command(self, which: str) -> tuple[list[str], dict[str, str]]:
        py = sys.executable
        if which == "python":
            return [py, "-c", "import time; time.sleep(86400)"], self.env
        if which == "headless":
            env = {k: v for k, v in self.env.items() if k != "DISPLAY"}
            return [py, "-m", "vms_tray", "run", "--headless"], env
        if which == "app":
            return [py, "-m", "vms_tray", "run"], self.env
        if which == "app-gl":  # a GDK_GL of the user's (empty: GTK's defaults) wins over ours
            return [py, "-m", "vms_tray", "run"], {**self.env, "GDK_GL": ""}
        if which == "bare":
            return [py, "-c", BARE], self.env
        if which == "bare-nogl":
            return [py, "-c", BARE], {**self.env, "GDK_GL": "disable"}
        raise ValueError(which)

    def visible(self, which: str, proc: subprocess.Popen[bytes], env: dict[str, str]) -> bool:
        if which == "python":
            return True
        if which == "headless":
            return self.signed_in(env)
        if self.tray.icons(proc.pid) < 1:
            return False
        return not which.startswith("app") or self.signed_in(env)

    def measure(self, which: str, idle: float | None = None) -> dict[str, float]:
        idle = self.idle if idle is None else idle
        # The host drops the previous run's icon when it notices that process gone.
        settle = time.monotonic() + 5
        while which not in ("python", "headless") and self.tray.icons():
            if time.monotonic() > settle:
                raise RuntimeError("an icon from a previous run is still in the tray")
            time.sleep(0.02)
        argv, env = self.command(which)
        t0 = time.monotonic()
        proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = t0 + 30
            while not self.visible(which, proc, env):
                if time.monotonic() > deadline or proc.poll() is not None:
                    err = (
                        proc.stderr.read().decode()
                        if proc.poll() is not None and proc.stderr
                        else ""
                    )
                    raise RuntimeError(f"{which}: never became visible {err}")
                time.sleep(0.02)
            startup = time.monotonic() - t0
            # Let lazy initialisation (first paint, menus, the first poll) finish.
            time.sleep(1.0)
            rss, pss = rss_kib(proc.pid), pss_kib(proc.pid)
            c0, w0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(idle)
            cpu = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - w0)
            rss_after = rss_kib(proc.pid)
            maps = Path(f"/proc/{proc.pid}/maps").read_text()
            self.mapped[which] = mapped_kib(proc.pid)
        finally:
            from tests.support.components import terminate  # not in the measured children

            terminate(proc)  # SIGTERM: vms-tray signs out, freeing the seat
        return {
            "startup_s": startup,
            "rss_mib": rss / 1024,
            "pss_mib": pss / 1024,
            "rss_after_idle_mib": rss_after / 1024,
            "idle_cpu_pct": 100 * cpu,
            "llvm": float("libLLVM" in maps),
        }


def setup_profile(bench: Bench, profile: Path, server: Any) -> None:
    from vms_tray.connections.model import Trust
    from vms_tray.connections.store import ConnectionStore

    os.environ["VMS_TRAY_PROFILE"] = str(profile)  # ConnectionStore reads it
    trust = Trust(mode="pinned", pin_sha256=server.fingerprint)
    ConnectionStore().update(lambda lst: lst.add("bench", server.url, "anna", trust=trust))
    bench.cli("password", "set", "bench", stdin=PASSWORD + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--backend",
        default=None,
        help="pystray backend: gtk, xorg, or appindicator (on a StatusNotifierItem host); "
        "default gtk if PyGObject",
    )
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU sampling")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument(
        "--top",
        type=int,
        default=12,
        help="list the N mapped files (and anonymous memory) app holds most beyond bare-nogl, "
        "and headless beyond python (last run; 0: none)",
    )
    args = ap.parse_args()

    from tests.support import components
    from tests.support.refserver import RefServer

    backend = args.backend
    if backend is None:
        try:
            import gi  # noqa: F401

            backend = "gtk"
        except ImportError:
            backend = "xorg"
    variants = [v for v in VARIANTS if v in args.only.split(",")]
    results: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="vms-tray-bench-") as tmp:
        work = Path(tmp)
        with contextlib.ExitStack() as stack:
            desk = stack.enter_context(components.x_desktop(work / "desktop"))
            server = RefServer.start(work / "server", users={"anna": PASSWORD}, max_sessions=10)
            stack.callback(server.stop)
            env = {
                **desk.env,
                "PYSTRAY_BACKEND": backend,
                "VMS_TRAY_PROFILE": str(work / "profile"),
                "VMS_TRAY_LANG": "en",
            }
            tray = Tray(env)
            if backend == "appindicator":
                from tests.support.sni import sni_host

                tray = Tray(env, stack.enter_context(sni_host(desk)).bus)
            bench = Bench(tray, env, args.idle)
            setup_profile(bench, work / "profile", server)
            # The very first GTK process on a fresh desktop builds caches (fonts, icon theme,
            # pixbuf loaders) and shows far more resident memory: warm up, then measure.
            for which in variants:
                bench.measure(which, 0.1)
            for n in range(args.runs):
                # Alternate the order so no program always runs on a warmer cache.
                for which in variants if n % 2 == 0 else variants[::-1]:
                    results[which].append(bench.measure(which))
    summary = {
        which: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for which, runs in results.items()
    }
    llvm = {which: sum(int(r["llvm"]) for r in runs) for which, runs in results.items()}
    ratios = ratio_table(summary)
    if args.json:
        print(json.dumps({"backend": backend, "runs": args.runs, **summary, "ratios": ratios}))
        return 0
    print(
        f"tray benchmark: backend={backend}, {args.runs} runs, medians, idle={args.idle:.0f}s, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    )
    print(f"{'':28}" + "".join(f"{v:>11}" for v in variants))
    rows: tuple[tuple[str, str, Callable[[float], str]], ...] = (
        ("rss_mib", "resident memory (MiB)", lambda x: f"{x:11.1f}"),
        ("pss_mib", "PSS (MiB)", lambda x: f"{x:11.1f}"),
        ("rss_after_idle_mib", "  resident after idle (MiB)", lambda x: f"{x:11.1f}"),
        ("startup_s", "start -> visible (s)", lambda x: f"{x:11.2f}"),
        ("idle_cpu_pct", "CPU while idle (%)", lambda x: f"{x:11.2f}"),
    )
    for key, label, fmt in rows:
        print(f"{label:28}" + "".join(fmt(summary[v][key]) for v in variants))
    print(f"{'runs with libLLVM mapped':28}" + "".join(f"{llvm[v]:>11}" for v in variants))
    for name, value in ratios.items():
        print(f"{name:44} {value:.2f}x")
    for a, b in (("app", "bare-nogl"), ("headless", "python")):
        if args.top and a in bench.mapped and b in bench.mapped:
            print(f"resident beyond {b}, by mapping (MiB, last run of {a}):")
            for name, kib in top_beyond(bench.mapped[a], bench.mapped[b], args.top):
                print(f"  {kib / 1024:+7.2f}  {name}")
    return 0


def top_beyond(a: dict[str, int], b: dict[str, int], n: int) -> list[tuple[str, int]]:
    """The ``n`` mappings whose resident KiB in ``a`` most exceed ``b``'s."""
    extra = {name: kib - b.get(name, 0) for name, kib in a.items()}
    return sorted(extra.items(), key=lambda item: -item[1])[:n]


GOALS = {"app/bare-nogl": 1.25, "headless/python": 2.5}


def ratio_table(summary: dict[str, dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    pairs = (("app", "bare-nogl"), ("app", "bare"), ("app-gl", "bare"), ("headless", "python"))
    for a, b in pairs:
        if a in summary and b in summary:
            # A bare python is "visible" at once: no start-up ratio for the daemon.
            keys = ("rss_mib", "pss_mib") if b == "python" else ("rss_mib", "pss_mib", "startup_s")
            for key in keys:
                goal = GOALS.get(f"{a}/{b}") if key == "rss_mib" else None
                label = f"{a}/{b} {key}" + (f" (goal <= {goal}x)" if goal else "")
                out[label] = summary[a][key] / summary[b][key]
    return out


if __name__ == "__main__":
    sys.exit(main())
