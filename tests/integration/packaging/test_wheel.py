"""The wheel and sdist as PyPI gets them: ``python -m build``, ``twine check``, a plain pip install.

The build runs on a copy of the tracked tree (so nothing lands in the checkout). The wheels of
every dependency are fetched once per module with ``pip download --only-binary=:all:`` (no sdist,
so no compiler may be needed); each test then installs the wheel into a fresh virtualenv with
``pip install --no-index`` from them, offline, as a user's plain ``pip install`` would end up.
That virtualenv has no PyGObject. The installed program answers ``--version`` and ``--help``,
reads its shipped icons from the wheel, runs the headless daemon, which ``status`` and ``quit``
reach over its control socket, and runs the tray with pystray's Xorg backend on the test
desktop, where its icon is embedded in trayer (XEmbed: reparented into trayer's window).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import components
from tests.support.components import require_binary, wait_until
from vms_tray import __version__

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "artifacts" / "screenshots"


def copy_tree(target: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            dest = target / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(source.read_bytes())


def pip(python: Path | str) -> list[str]:
    return [str(python), "-m", "pip", "-q", "--disable-pip-version-check"]


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path
    wheelhouse: Path  # the wheel and every dependency's, for --no-index installs


@dataclass(frozen=True)
class Installed:
    venv: Path
    app: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin/python"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    work = tmp_path_factory.mktemp("wheel")
    src, dist, house = work / "src", work / "dist", work / "wheelhouse"
    copy_tree(src)
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(src)],
        check=True,
        capture_output=True,
    )
    wheel = dist / f"vms_tray-{__version__}-py3-none-any.whl"
    sdist = dist / f"vms_tray-{__version__}.tar.gz"
    assert wheel.is_file() and sdist.is_file()
    # Binary wheels only: a dependency that would need a compiler fails here.
    subprocess.run(
        [*pip(sys.executable), "download", "--only-binary=:all:", "--dest", str(house), str(wheel)],
        check=True,
        capture_output=True,
    )
    return Dists(wheel, sdist, house)


def install(dists: Dists, where: Path) -> Installed:
    """A fresh virtualenv (no system site packages: no PyGObject) with the wheel, offline."""
    env_dir = where / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin/python"
    subprocess.run(
        [
            *pip(py),
            "install",
            "--no-index",
            "--find-links",
            str(dists.wheelhouse),
            str(dists.wheel),
        ],
        check=True,
        capture_output=True,
    )
    home = where / "home"
    home.mkdir()
    env = {
        "PATH": f"{env_dir / 'bin'}:/usr/bin:/bin",
        "VMS_TRAY_PROFILE": str(where / "profile"),
        "HOME": str(home),
    }
    return Installed(env_dir, env_dir / "bin/vms-tray", env)


def test_build_and_twine(dists: Dists) -> None:
    wheel, sdist = dists.wheel, dists.sdist
    twine = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert twine.returncode == 0, twine.stdout + twine.stderr

    names = zipfile.ZipFile(wheel).namelist()
    assert "vms_tray/data/icons/vms-tray.png" in names
    assert "vms_tray/data/service_templates/launcher.desktop.in" in names
    assert not any(n.startswith(("tests/", "icons/")) for n in names)
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    top = f"vms_tray-{__version__}"
    for name in ("_build/backend.py", "icons/vms-tray.png", "service_templates/README.md"):
        assert f"{top}/{name}" in members
    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(f"vms_tray-{__version__}.dist-info/METADATA").decode()
    for field in ("Keywords:", "Classifier: Typing :: Typed", "License-Expression: MIT"):
        assert field in meta
    assert "Description-Content-Type: text/markdown" in meta


def test_a_plain_pip_install_runs_the_headless_daemon(dists: Dists, tmp_path: Path) -> None:
    inst = install(dists, tmp_path)
    app, env = inst.app, inst.env
    out = subprocess.run([app, "--version"], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"vms-tray {__version__}"
    helped = subprocess.run([app, "--help"], env=env, capture_output=True, text=True, check=True)
    assert "servers" in helped.stdout
    icon = subprocess.run(
        [inst.python, "-c", "from vms_tray import assets; print(assets.icon('vms-tray.png'))"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert icon.startswith(str(inst.venv)), icon

    daemon = subprocess.Popen(
        [app, "run", "--headless"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def answers() -> bool:
            if daemon.poll() is not None:
                raise AssertionError(daemon.stderr.read() if daemon.stderr else b"")
            done = subprocess.run([app, "status"], env=env, capture_output=True, check=False)
            return done.returncode == 0

        wait_until(answers, 30, "the headless daemon from the wheel to answer status")
        subprocess.run([app, "quit"], env=env, capture_output=True, check=True, timeout=30)
        assert daemon.wait(15) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)


def embedder(desktop: components.Desktop, wid: str) -> str:
    """WM_CLASS of the top-level window ``wid`` sits in (itself when nothing embedded it)."""
    from Xlib import display

    d = display.Display(desktop.display)
    try:
        window = d.create_resource_object("window", int(wid))
        while True:
            tree = window.query_tree()
            if tree.parent.id == tree.root.id:
                break
            window = tree.parent
        wm_class = window.get_wm_class()
        return " ".join(wm_class) if wm_class else f"window {window.id:#x} (no WM_CLASS)"
    finally:
        d.close()


@pytest.fixture
def tray_process(
    dists: Dists, desktop: components.Desktop, tmp_path: Path
) -> Iterator[tuple[Installed, subprocess.Popen[bytes], Path]]:
    require_binary("trayer")
    inst = install(dists, tmp_path)
    home = Path(inst.env["HOME"])
    env = {
        **{k: v for k, v in desktop.env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
        **inst.env,
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "PYSTRAY_BACKEND": "xorg",
        "VMS_TRAY_LANG": "en",
    }
    log = tmp_path / "tray.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [inst.app, "--debug", "demo"],
            env=env,
            cwd=tmp_path,  # not the checkout: only the installed package may be imported
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield inst, proc, log
    finally:
        components.terminate(proc)
        # The next test's tray must not find this icon.
        wait_until(lambda: not desktop.windows("^vms-tray"), 10, "the icon to go")


@pytest.mark.desktop
def test_a_plain_pip_install_runs_the_xorg_tray_embedded_in_the_tray(
    tray_process: tuple[Installed, subprocess.Popen[bytes], Path], desktop: components.Desktop
) -> None:
    inst, proc, log = tray_process
    no_gi = subprocess.run(
        [inst.python, "-c", "import gi"], env=inst.env, capture_output=True, check=False
    )
    assert no_gi.returncode != 0, "the fresh virtualenv must not see PyGObject"
    found: list[str] = []

    def docked() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"vms-tray exited {proc.returncode}:\n{log.read_text()}")
        found[:] = desktop.windows("^vms-tray")
        return bool(found)

    wait_until(docked, 60, "the Xorg tray icon from the wheel")
    text = log.read_text(errors="replace")
    assert "tray backend: xorg" in text, text[-3000:]
    # The program that runs is the wheel's, in the fresh virtualenv: Pillow's compiled module
    # (which draws the icon) is mapped from there, not from the dev venv.
    maps = Path(f"/proc/{proc.pid}/maps").read_text()
    assert (
        f"{inst.venv}/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages/PIL/"
        in maps
    )
    assert f"{ROOT}/.venv" not in maps
    # Embedded: trayer reparented the icon window into its own; a window that never docked
    # would be a top level of its own (or not visible at all).
    owner = embedder(desktop, found[0])
    assert "trayer" in owner.lower() or "panel" in owner.lower(), owner
    desktop.screenshot(ARTIFACTS / "wheel-xorg-tray.png")
    proc.terminate()  # SIGTERM: signs out and quits cleanly
    assert proc.wait(15) == 0, log.read_text()[-3000:]
