"""The wheel and sdist as PyPI gets them: ``python -m build``, ``twine check``, a plain pip install.

The build runs on a copy of the tracked tree (so nothing lands in the checkout); the wheel goes
into a fresh virtualenv with ``--only-binary=:all:`` (no compiler may be needed), and the
installed program answers ``--version`` and ``--help``, reads its shipped icons from the wheel,
and runs the headless daemon, which ``status`` and ``quit`` reach over its control socket.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support.components import wait_until
from vms_tray import __version__

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[3]


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


def test_build_twine_and_a_plain_pip_install(tmp_path: Path) -> None:
    src, dist = tmp_path / "src", tmp_path / "dist"
    copy_tree(src)
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(src)],
        check=True,
        capture_output=True,
    )
    wheel = dist / f"vms_tray-{__version__}-py3-none-any.whl"
    sdist = dist / f"vms_tray-{__version__}.tar.gz"
    assert wheel.is_file() and sdist.is_file()
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

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin/python"
    subprocess.run(
        [py, "-m", "pip", "install", "-q", "--only-binary=:all:", str(wheel)],
        check=True,
        capture_output=True,
    )
    app = env_dir / "bin/vms-tray"
    profile = tmp_path / "profile"
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "VMS_TRAY_PROFILE": str(profile)}
    env["HOME"] = str(tmp_path / "home")
    out = subprocess.run([app, "--version"], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"vms-tray {__version__}"
    helped = subprocess.run([app, "--help"], env=env, capture_output=True, text=True, check=True)
    assert "servers" in helped.stdout
    icon = subprocess.run(
        [py, "-c", "from vms_tray import assets; print(assets.icon('vms-tray.png'))"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert icon.startswith(str(env_dir)), icon

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
