"""scripts/lib.sh, as scripts/demo and scripts/test run it on a first start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.components import require, require_binary

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "scripts" / "lib.sh"


def bash(
    script: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'source "{LIB}"; {script}'],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_missing_packages_are_named_with_advice_for_systems_without_sudo(tmp_path: Path) -> None:
    require_binary("dpkg-query")
    # A user who is not root: an `id` that answers as uid 1000 does.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_id = bin_dir / "id"
    fake_id.write_text('#!/bin/sh\n[ "$1" = -u ] && echo 1000 && exit 0\nexec /usr/bin/id "$@"\n')
    fake_id.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    r = bash("ensure_apt vms-tray-no-such-package", env)
    assert r.returncode == 1
    assert "as root (or with sudo)" in r.stderr
    assert "    apt-get install -y vms-tray-no-such-package" in r.stderr
    assert "sudo apt-get" not in r.stderr


def _project_copy(target: Path) -> Path:
    target.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(ROOT / name, target / name)
    # The package, the in-tree build backend and the asset folders it ships (vms_tray/assets.py).
    for folder in ("vms_tray", "_build", "icons", "service_templates"):
        shutil.copytree(
            ROOT / folder,
            target / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    return target


def test_the_editable_install_prints_no_build_backend_warning(tmp_path: Path) -> None:
    """The first run of scripts/demo printed setuptools' "Editable installation" note as a
    BuildBackendWarning block (a flat layout, relayed by recent pip even with -q)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {**os.environ, "VMS_TRAY_VENV": str(venv)}
    env.pop("PYTHONWARNINGS", None)
    # The pip ensure_venv uses (the newest the index has): the bundled one relays no warnings.
    upgraded = bash("venv_pip install -q --upgrade pip", env)
    require("a package index for pip", upgraded.returncode == 0, upgraded.stderr.strip()[-200:])
    project = _project_copy(tmp_path / "project")
    r = bash(f'venv_pip install -q --no-deps -e "{project}"', env)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr and "Editable installation" not in r.stderr, r.stderr
    assert r.stdout == ""
