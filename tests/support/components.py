"""Real external components for tests: D-Bus session, Secret Service, X server, tray host, dunst.

A component that is missing skips the test on a developer's laptop but FAILS the run when
``CI=true``: in CI nothing may silently not be tested.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(component: str, available: bool, hint: str = "") -> None:
    """Skip (laptop) or fail (CI) when a real component the test needs is missing."""
    if available:
        return
    msg = f"{component} is not available{': ' + hint if hint else ''}"
    if IN_CI:
        pytest.fail(f"CI=true and {msg}", pytrace=False)
    pytest.skip(msg)


def require_binary(*names: str) -> None:
    for name in names:
        require(name, shutil.which(name) is not None, "install it with scripts/test (as root)")


def wait_until(check: Callable[[], bool], timeout: float, what: str, step: float = 0.05) -> None:
    """Poll a real process's state with a deadline (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@dataclass
class DBusSession:
    address: str
    env: dict[str, str]


@contextlib.contextmanager
def dbus_session(base_env: dict[str, str], workdir: Path) -> Iterator[DBusSession]:
    """A private session bus (like dbus-run-session) whose activation inherits ``base_env``."""
    require_binary("dbus-daemon")
    env = dict(base_env)
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1", "--nopidfile"],
        stdout=subprocess.PIPE,
        env=env,
        cwd=workdir,
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().decode().strip()
    if not address:
        terminate(proc)
        raise RuntimeError("dbus-daemon printed no address")
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        yield DBusSession(address, env)
    finally:
        terminate(proc)


@contextlib.contextmanager
def secret_service(
    session: DBusSession,
    password: str = "ci-keyring",  # noqa: S107 - a throwaway keyring for tests
    watch: dict[str, Watched] | None = None,
) -> Iterator[dict[str, str]]:
    """gnome-keyring-daemon, unlocked, serving org.freedesktop.secrets on ``session``;
    ``watch``: where to record it (its log beside it) so a test can tell it died."""
    require_binary("gnome-keyring-daemon")
    env = dict(session.env)
    log = tempfile.NamedTemporaryFile(prefix="gnome-keyring-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=env,
    )
    log.close()
    if watch is not None:
        watch["gnome-keyring-daemon"] = Watched(proc, Path(log.name))
    assert proc.stdin is not None
    proc.stdin.write(password.encode())
    proc.stdin.close()

    def owned() -> bool:
        out = subprocess.run(
            [
                "dbus-send",
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return "boolean true" in out.stdout

    try:
        wait_until(owned, 15, "gnome-keyring to own org.freedesktop.secrets")
        yield env
    finally:
        terminate(proc)
        Path(log.name).unlink(missing_ok=True)  # read only while the daemon should run


@dataclass
class Watched:
    """A component of the test desktop, and where its messages go (None: nowhere)."""

    proc: subprocess.Popen[bytes]
    log: Path | None = None

    def death(self) -> str | None:
        """None while it runs; else how it ended and its last messages, on one line."""
        code = self.proc.poll()
        if code is None:
            return None
        tail = ""
        if self.log is not None and self.log.exists():
            tail = " ".join(self.log.read_text(errors="replace").split())[-600:]
        return f"exited with code {code}" + (f"; its last messages: {tail}" if tail else "")


@dataclass
class Desktop:
    display: str
    env: dict[str, str]
    workdir: Path
    components: dict[str, Watched] = field(default_factory=dict)

    def dead(self) -> list[str]:
        """Each component that is no longer running, and how it ended: a session-wide desktop
        whose keyring died fails every later journey, and this says why."""
        return [
            f"{name} {death}"
            for name, part in self.components.items()
            if (death := part.death()) is not None
        ]

    def dunst_shown(self) -> list[dict[str, str]]:
        """Every notice dunst showed so far, oldest first: id, urgency (LOW, NORMAL, CRITICAL),
        timeout (ms; 0: never), icon (its path), summary, body (its line breaks and tabs as
        spaces)."""
        log = self.workdir / "dunst-shown.tsv"
        if not log.exists():
            return []
        keys = ("id", "urgency", "timeout", "icon", "summary", "body")
        return [
            dict(zip(keys, line.split("\t", 5), strict=True))
            for line in log.read_text().splitlines()
            if line.count("\t") >= 5
        ]

    def screenshot(self, path: Path, window: str = "root") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["import", "-window", window, "-display", self.display, str(path)],
            env=self.env,
            check=True,
            timeout=20,
            capture_output=True,
        )
        return path

    def keyboard_grabbed(self) -> bool:
        """Whether some client holds the keyboard grab, as a posted popup menu does: keys sent
        before that would go to whatever window has the focus."""
        from Xlib import X, display

        d = display.Display(self.display)
        try:
            status = d.screen().root.grab_keyboard(
                False, X.GrabModeAsync, X.GrabModeAsync, X.CurrentTime
            )
            if status == X.GrabSuccess:
                d.ungrab_keyboard(X.CurrentTime)
                d.sync()
            return bool(status == X.AlreadyGrabbed)
        finally:
            d.close()

    def windows(self, pattern: str) -> list[str]:
        """Visible windows whose name matches the regular expression ``pattern``."""
        return subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", pattern],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,  # xdotool exits 1 when nothing matches
        ).stdout.split()

    def wait_window(self, pattern: str, timeout: float, what: str) -> str:
        """The first visible window matching ``pattern``, waited for (looked up once: a second
        search could miss a window the toolkit remaps meanwhile)."""
        found: list[str] = []

        def seen() -> bool:
            found[:] = self.windows(pattern)
            return bool(found)

        wait_until(seen, timeout, what)
        return found[0]

    def box(self, window: str) -> tuple[int, int, int, int]:
        """``window``'s box on the screen: left, top, right, bottom."""
        out = self.xdotool("getwindowgeometry", "--shell", window)
        g = dict(line.split("=", 1) for line in out.split())
        x, y, w, h = (int(g[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        return x, y, x + w, y + h

    def xdotool(self, *args: str) -> str:
        out = subprocess.run(
            ["xdotool", *args],
            env=self.env,
            check=True,
            timeout=20,
            capture_output=True,
            text=True,
        )
        return out.stdout


def _x_answers(display: str) -> bool:
    from Xlib import display as xdisplay
    from Xlib.error import DisplayError

    try:
        xdisplay.Display(display).close()
    except DisplayError:
        return False
    return True


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@contextlib.contextmanager
def x_desktop(
    workdir: Path, *, tray: bool = True, notifications: bool = True, keyring: bool = True
) -> Iterator[Desktop]:
    """Xvfb + private D-Bus session + gnome-keyring + dunst + trayer, torn down afterwards."""
    require_binary("Xvfb", "xdotool", "import")
    if tray:
        require_binary("trayer")
    if notifications:
        require_binary("dunst", "dunstctl")
    workdir.mkdir(parents=True, exist_ok=True)
    home = workdir / "home"
    runtime = workdir / "xdg-runtime"
    for d in (home, runtime):
        d.mkdir(exist_ok=True)
    runtime.chmod(0o700)
    num = _free_display()
    display = f":{num}"
    env = {
        **os.environ,
        "DISPLAY": display,
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "NO_AT_BRIDGE": "1",
    }
    # A plain X desktop, whatever session the tests run from: these name the real desktop
    # (GNOME, KDE, Wayland) and would steer the tray's backend choice.
    for name in (
        "DBUS_SESSION_BUS_ADDRESS",
        "WAYLAND_DISPLAY",
        "XDG_CURRENT_DESKTOP",
        "XDG_SESSION_TYPE",
        "XDG_SESSION_DESKTOP",
        "DESKTOP_SESSION",
    ):
        env.pop(name, None)
    procs: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        xvfb = subprocess.Popen(
            ["Xvfb", display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        procs.append(xvfb)
        stack.callback(terminate, xvfb)
        # The socket file alone is no proof: a display's socket can outlive a killed X server,
        # and a client started against it fails for good (trayer then never owns the tray).
        wait_until(functools.partial(_x_answers, display), 15, "Xvfb to accept connections")
        session = stack.enter_context(dbus_session(env, workdir))
        env = session.env
        watched: dict[str, Watched] = {"Xvfb": Watched(xvfb)}
        if keyring:
            env = stack.enter_context(secret_service(session, watch=watched))
        if notifications:
            dunstrc = workdir / "dunstrc"
            # Every notice dunst shows is logged with what its history omits (urgency, timeout):
            # one tab-separated line each in <workdir>/dunst-shown.tsv (see Desktop.dunst_shown).
            script, shown = workdir / "dunst-shown.sh", workdir / "dunst-shown.tsv"
            script.write_text(
                "#!/bin/sh\n"
                "body=$(printf '%s' \"$DUNST_BODY\" | tr '\\n\\t' '  ')\n"
                'printf "%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n" "$DUNST_ID" "$DUNST_URGENCY" '
                '"$DUNST_TIMEOUT" "$DUNST_ICON_PATH" "$DUNST_SUMMARY" "$body" '
                f'>> "{shown}"\n'
            )
            script.chmod(0o755)
            dunstrc.write_text(
                "[global]\n  font = DejaVu Sans 9\n  timeout = 0\n  sticky_history = yes\n"
                "  history_length = 100\n"
                f'[shown]\n  summary = "*"\n  script = {script}\n'
            )
            dunst = subprocess.Popen(
                ["dunst", "-config", str(dunstrc)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            stack.callback(terminate, dunst)
            watched["dunst"] = Watched(dunst)

            def dunst_up() -> bool:
                r = subprocess.run(
                    ["dunstctl", "is-paused"],
                    env=env,
                    capture_output=True,
                    timeout=5,
                    check=False,
                )
                return r.returncode == 0

            wait_until(dunst_up, 15, "dunst to answer on D-Bus")
        if tray:
            trayer_argv = [
                "trayer",
                "--edge",
                "top",
                "--align",
                "right",
                "--widthtype",
                "request",
                "--height",
                "32",
                "--iconspacing",
                "4",
                "--transparent",
                "false",
                "--tint",
                "0x333333",
                "--SetDockType",
                "true",
            ]
            trayers: list[subprocess.Popen[bytes]] = []

            def start_trayer() -> None:
                trayer = subprocess.Popen(
                    trayer_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
                )
                trayers.append(trayer)
                stack.callback(terminate, trayer)

            def tray_owner() -> bool:
                # trayer's window exists before it owns the tray selection; icons need the owner.
                from Xlib import X, display

                d = display.Display(env["DISPLAY"])
                try:
                    return bool(
                        d.get_selection_owner(d.intern_atom("_NET_SYSTEM_TRAY_S0")) != X.NONE
                    )
                finally:
                    d.close()

            def trayer_docked() -> bool:
                # A trayer that exited early (it lost a race with the X server) is started again,
                # at most three times; one that runs is given the whole deadline.
                if trayers[-1].poll() is not None and len(trayers) < 3:
                    start_trayer()
                return tray_owner()

            start_trayer()
            wait_until(trayer_docked, 15, "trayer to own the tray selection")
        if tray:
            watched["trayer"] = Watched(trayers[-1])
        yield Desktop(display=display, env=env, workdir=workdir, components=watched)
