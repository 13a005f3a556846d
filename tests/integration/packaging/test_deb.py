"""The Debian package installed for real: ``scripts/build-deb``, then a fresh Debian 12 root.

The root is debootstrap's minbase, made once and kept in ``/var/cache/vms-tray-tests`` (CI runs
on the same machine; measured: about 35 s to make, so the cache saves that per run). Each run
works on an overlay of it that is thrown away, and the downloaded .debs are kept beside it so
GTK and friends are fetched once. In the root, as an operator would: ``apt-get install
./vms-tray_*.deb`` pulls the dependencies, ``vms-tray --version``, ``vms-tray demo --headless``
meets the demo's session limit, ends a seat and signs in; ``vms-tray desktop-launcher add`` puts
the menu entry's twin (``Exec=vms-tray run``) on the desktop; the menu entry validates; ``apt-get
remove`` leaves none of the package's files (the user's data stays). lintian has no errors.

Needs root (chroot, mounts) and debootstrap, dpkg-deb, help2man, desktop-file-validate, lintian
(scripts/lib.sh's TEST_PACKAGES): missing, it skips on a laptop and fails with ``CI=true``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.components import require, require_binary
from vms_tray import __version__

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ.get("VMS_TRAY_TEST_CACHE", "/var/cache/vms-tray-tests"))
BASE = CACHE / "bookworm-minbase"
ARCHIVES = CACHE / "apt-archives"
MIRROR = "http://deb.debian.org/debian"

# Run inside the root by /bin/sh: the operator's steps, then the demo driven over its CLI.
IN_ROOT = r"""
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends /tmp/pkg/vms-tray.deb >/tmp/apt-install.log 2>&1 \
    || { cat /tmp/apt-install.log; exit 1; }
command -v gcc cc && { echo "a compiler was installed"; exit 1; }
vms-tray --version
vms-tray --help >/dev/null
dpkg -L vms-tray >/tmp/pkg/files.txt
/opt/vms-tray/bin/python -c 'import gi; print("gi from", gi.__file__)'
useradd --create-home --user-group vmsop
su vmsop -s /bin/sh -c 'cd && env -i HOME=/home/vmsop PATH=/usr/bin:/bin \
    XDG_RUNTIME_DIR=/tmp/run-vmsop sh /tmp/pkg/demo.sh'
apt-get remove -y -qq vms-tray >/dev/null
"""

DEMO = r"""
set -eu
mkdir -m 0700 -p "$XDG_RUNTIME_DIR"
# The desktop launcher is the package's menu entry's twin: Exec=vms-tray run, no second entry.
mkdir "$HOME/Desktop"
vms-tray desktop-launcher add
launcher="$HOME/Desktop/vms-tray.desktop"
grep -qx 'Exec=vms-tray run' "$launcher" && grep -qx 'Icon=vms-tray' "$launcher" \
    || { cat "$launcher"; exit 1; }
test -x "$launcher"
test ! -e "$HOME/.local/share/applications/vms-tray.desktop" \
    || { echo "a second menu entry"; exit 1; }
echo "desktop launcher: the menu entry's"
vms-tray demo --headless 2>demo.err &
demo=$!
n=0
until grep -q ' status$' demo.err 2>/dev/null; do
    n=$((n+1)); [ $n -lt 300 ] || { cat demo.err; exit 1; }; sleep 0.1
done
export VMS_TRAY_PROFILE="$(sed -n 's/^ *VMS_TRAY_PROFILE=\([^ ]*\) .* status$/\1/p' demo.err)"
n=0
until vms-tray status 2>/dev/null | grep -q 'state: limit_reached'; do
    n=$((n+1)); [ $n -lt 300 ] || { cat demo.err; vms-tray status; exit 1; }; sleep 0.1
done
id=$(vms-tray sessions --json | /usr/bin/python3 -c '
import json, sys
print([s["id"] for s in json.load(sys.stdin)["sessions"] if s["device"] == "OPS-PC-12"][0])')
vms-tray sessions end --yes -- "$id"
n=0
until vms-tray status | grep -q 'state: signed_in'; do
    n=$((n+1)); [ $n -lt 300 ] || { vms-tray status; exit 1; }; sleep 0.1
done
echo "demo: signed in"
vms-tray quit
wait $demo
"""


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload, no-any-return]


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One test run at a time prepares the cached root."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def base_root() -> Path:
    """debootstrap's minbase bookworm, made once (atomically: a half-made one is never used)."""
    with locked(CACHE / ".lock"):
        if not (BASE / ".complete").is_file():
            partial = CACHE / "bookworm-minbase.partial"
            shutil.rmtree(partial, ignore_errors=True)
            run(["debootstrap", "--variant=minbase", "bookworm", str(partial), MIRROR])
            (partial / ".complete").write_text("debootstrap --variant=minbase bookworm\n")
            shutil.rmtree(BASE, ignore_errors=True)
            partial.rename(BASE)
    return BASE


@contextlib.contextmanager
def fresh_root(workdir: Path) -> Iterator[Path]:
    """A throwaway overlay of the cached root, with /proc, /dev and apt's download cache."""
    upper, work, root = workdir / "upper", workdir / "work", workdir / "root"
    for d in (upper, work, root):
        d.mkdir(parents=True)
    ARCHIVES.mkdir(parents=True, exist_ok=True)
    mounts: list[Path] = []
    try:
        opts = f"lowerdir={base_root()},upperdir={upper},workdir={work}"
        run(["mount", "-t", "overlay", "overlay", "-o", opts, str(root)])
        mounts.append(root)
        for source, target, kind in (
            ("proc", root / "proc", ["-t", "proc"]),
            ("/dev", root / "dev", ["--rbind"]),
            (str(ARCHIVES), root / "var/cache/apt/archives", ["--bind"]),
        ):
            run(["mount", *kind, source, str(target)])
            mounts.append(target)
        shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
        # Like a new machine's first boot: services are not started inside a chroot.
        policy = root / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        yield root
    finally:
        for target in reversed(mounts):
            subprocess.run(["umount", "--recursive", "--lazy", str(target)], check=False)


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scripts/build-deb's package, built once for this module."""
    require_binary("dpkg-deb", "help2man", "desktop-file-validate")
    dist = tmp_path_factory.mktemp("dist")
    built = run(
        [str(ROOT / "scripts/build-deb")], cwd=ROOT, env={**os.environ, "DEB_DIST": str(dist)}
    )
    path = dist / f"vms-tray_{__version__}_amd64.deb"
    assert path.is_file(), built.stdout + built.stderr
    return path


def test_the_deb_installs_runs_and_removes_cleanly_on_a_fresh_debian_12(
    deb: Path, tmp_path: Path
) -> None:
    require("root (chroot and mounts)", os.geteuid() == 0, "run scripts/test as root")
    require_binary("debootstrap", "lintian")
    # lintian: no errors (its warnings and notes are printed by build-deb)
    lint = subprocess.run(["lintian", str(deb)], capture_output=True, text=True, check=False)
    errors = [ln for ln in lint.stdout.splitlines() if ln.startswith("E:")]
    assert errors == [], lint.stdout
    print(lint.stdout)

    with fresh_root(tmp_path / "chroot") as root:
        pkg = root / "tmp/pkg"
        pkg.mkdir(parents=True)
        shutil.copy(deb, pkg / "vms-tray.deb")
        (pkg / "demo.sh").write_text(DEMO)
        entry = root / "usr/share/applications/vms-tray.desktop"
        done = subprocess.run(
            ["chroot", str(root), "/bin/sh", "-c", IN_ROOT],
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=780,
            check=False,
        )
        out = done.stdout + done.stderr
        assert done.returncode == 0, out
        assert f"vms-tray {__version__}" in out
        assert re.search(r"gi from /usr/lib/python3/dist-packages/gi/", out), out
        assert "demo: signed in" in out
        assert "desktop launcher: the menu entry's" in out
        files = [Path(f) for f in (pkg / "files.txt").read_text().split()]
        # Removed: every file the package shipped, the virtualenv its postinst made.
        left = [f for f in files if (root / f.relative_to("/")).is_file()]
        assert left == [], left
        assert not (root / "opt/vms-tray").exists()
        assert not entry.exists()
        # The user's data stays (the demo's profile in their data folder).
        assert (root / "home/vmsop/.local/share/vms-tray/demo").is_dir()


def test_the_menu_entry_and_man_page_in_the_deb(deb: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    run(["dpkg-deb", "-x", str(deb), str(tree)])
    entry = tree / "usr/share/applications/vms-tray.desktop"
    run(["desktop-file-validate", str(entry)])
    text = entry.read_text()
    assert "Exec=vms-tray run" in text and "Icon=vms-tray" in text
    for size in (16, 24, 32, 48, 256):
        assert (tree / f"usr/share/icons/hicolor/{size}x{size}/apps/vms-tray.png").is_file()
    assert (tree / "usr/share/man/man1/vms-tray.1.gz").is_file()
    assert "Permission is hereby granted" in (tree / "usr/share/doc/vms-tray/copyright").read_text()
    assert (tree / "usr/share/vms-tray/service_templates/vms-tray.service.in").is_file()
    control = run(["dpkg-deb", "-f", str(deb), "Depends", "Recommends"]).stdout
    for dep in ("python3-gi", "gir1.2-gtk-3.0", "gir1.2-ayatanaappindicator3-0.1", "python3-tk"):
        assert dep in control
    assert "Recommends: gnome-keyring" in control
