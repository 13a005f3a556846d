"""Tray benchmark on the real desktop stack (Xvfb + D-Bus + dunst + trayer), printing figures.

    .venv/bin/python bench/tray_bench.py [--backend gtk|xorg|appindicator] [--idle 5] [--runs 3]

(appindicator runs on a StatusNotifierItem host, gtk-sni-tray-standalone, as well.)

For each run it starts, on one fresh desktop, (a) a bare pystray icon and (b) the vms-tray tray
app (TrayApp with a stub daemon at the boundary), both with the same backend, and measures:

- resident memory (VmRSS) once the icon is embedded and settled, and the ratio app/bare
  (goal: within 1.25x);
- time from process start to the icon being visible in the tray (xdotool);
- CPU time used while idle over ``--idle`` seconds (utime+stime from /proc).

One warm-up round (not counted) runs first: the first GTK process on a fresh display builds
caches and would otherwise skew whichever program runs first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procstat import cpu_seconds, rss_kib  # noqa: E402

# --- the two measured programs (run as children) ---------------------------------------------


def child_bare() -> None:
    import pystray
    from PIL import Image

    img = Image.open(ROOT / "icons" / "signed-in.png")
    icon = pystray.Icon(
        "bench-bare",
        img,
        "bench-bare",
        menu=pystray.Menu(pystray.MenuItem("Quit", lambda i, _it: i.stop())),
    )
    icon.run()


def child_app() -> None:
    from vms_tray import commands, i18n
    from vms_tray.session.records import Captcha, Limit, SessionList
    from vms_tray.session.snapshot import ServerChoice, Snapshot, State
    from vms_tray.tray.app import TrayApp

    class NoNotices:
        def withdraw(self, topic: str) -> None:
            pass

    class StubDaemon:
        def __init__(self) -> None:
            self._subs: list[Callable[[Snapshot], None]] = []

        def snapshot(self) -> Snapshot:
            return Snapshot(
                state=State.SIGNED_IN,
                server="HQ",
                login="operator",
                sessions_in_use=3,
                max_sessions=5,
                servers=(ServerChoice("HQ", True, "native"), ServerChoice("B", False, "native")),
            )

        def subscribe(self, cb: Callable[[Snapshot], None]) -> None:
            self._subs.append(cb)

        def post(self, command: commands.Command) -> None:
            pass

        def execute(self, command: commands.Command, timeout: float = 15.0) -> None:
            pass

        # The rest of the tray's DaemonPort: no dialog is opened while measuring.
        notifier = NoNotices()
        stopped = False

        def has_password(self, server: str | None) -> bool:
            return True

        def on_show(self, callback: Callable[[str], None]) -> None:
            pass

        def on_stop(self, callback: Callable[[], None]) -> None:
            pass

        def captcha(self) -> Captcha | None:
            return None

        def conflict_sessions(self) -> SessionList | None:
            return None

        def sessions(self, timeout: float = 15.0) -> SessionList:
            return SessionList(Limit("user", None, 1), ())

    i18n.install()
    TrayApp(StubDaemon(), autostart=None).run()


# --- measuring --------------------------------------------------------------------------------


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


def measure(tray: Tray, which: str, idle: float) -> dict[str, float]:
    # The host drops the previous run's icon when it notices that process gone.
    settle = time.monotonic() + 5
    while tray.icons():
        if time.monotonic() > settle:
            raise RuntimeError("an icon from a previous run is still in the tray")
        time.sleep(0.02)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", which],
        env=tray.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = t0 + 30
        while tray.icons(proc.pid) < 1:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{which}: the icon never became visible")
            time.sleep(0.02)
        startup = time.monotonic() - t0
        # Let lazy initialisation (first paint, menus) finish before sampling memory.
        time.sleep(1.0)
        rss = rss_kib(proc.pid)
        c0 = cpu_seconds(proc.pid)
        time.sleep(idle)
        cpu = cpu_seconds(proc.pid) - c0
        rss_after = rss_kib(proc.pid)
    finally:
        from tests.support.components import terminate  # not in the measured children

        terminate(proc)
    return {
        "startup_s": startup,
        "rss_mib": rss / 1024,
        "rss_after_idle_mib": rss_after / 1024,
        "idle_cpu_pct": 100 * cpu / idle,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--child", choices=["bare", "app"], help=argparse.SUPPRESS)
    ap.add_argument(
        "--backend",
        default=None,
        help="pystray backend: gtk, xorg, or appindicator (on a StatusNotifierItem host); "
        "default gtk if PyGObject",
    )
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU sampling")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    if args.child == "bare":
        child_bare()
        return 0
    if args.child == "app":
        child_app()
        return 0

    from tests.support import components

    backend = args.backend
    if backend is None:
        try:
            import gi  # noqa: F401

            backend = "gtk"
        except ImportError:
            backend = "xorg"
    results: dict[str, list[dict[str, float]]] = {"bare": [], "app": []}
    with tempfile.TemporaryDirectory(prefix="vms-tray-bench-") as tmp:
        work = Path(tmp)
        with contextlib.ExitStack() as stack:
            desk = stack.enter_context(components.x_desktop(work / "desktop"))
            env = {
                **desk.env,
                "PYSTRAY_BACKEND": backend,
                "VMS_TRAY_PROFILE": str(work / "profile"),
                "VMS_TRAY_NOTIFIER": "log",
                "VMS_TRAY_LANG": "en",
            }
            tray = Tray(env)
            if backend == "appindicator":
                from tests.support.sni import sni_host

                tray = Tray(env, stack.enter_context(sni_host(desk)).bus)
            # The very first GTK process on a fresh desktop builds caches (fonts, icon theme,
            # pixbuf loaders) and shows far more resident memory: warm up, then measure.
            for which in ("bare", "app"):
                measure(tray, which, 0.1)
            for _ in range(args.runs):
                # Alternate the order so neither always runs on a warmer cache.
                for which in ("bare", "app"):
                    results[which].append(measure(tray, which, args.idle))
    summary: dict[str, dict[str, float]] = {}
    for which, runs in results.items():
        summary[which] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    ratio = summary["app"]["rss_mib"] / summary["bare"]["rss_mib"]
    if args.json:
        print(json.dumps({"backend": backend, "runs": args.runs, **summary, "rss_ratio": ratio}))
        return 0
    print(f"tray benchmark: backend={backend}, {args.runs} runs, medians, idle={args.idle:.0f}s")
    print(f"{'':24}{'bare pystray':>14}{'vms-tray app':>14}")
    for key, label, fmt in (
        ("rss_mib", "resident memory (MiB)", "{:14.1f}"),
        ("rss_after_idle_mib", "  after idle (MiB)", "{:14.1f}"),
        ("startup_s", "start -> icon visible (s)", "{:14.2f}"),
        ("idle_cpu_pct", "CPU while idle (%)", "{:14.2f}"),
    ):
        print(f"{label:24}" + fmt.format(summary["bare"][key]) + fmt.format(summary["app"][key]))
    verdict = "OK" if ratio <= 1.25 else "OVER GOAL"
    print(f"memory ratio app/bare: {ratio:.2f}x (goal <= 1.25x: {verdict})")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
