"""A second local user for the security tests: real processes under another uid.

Only root can become someone else; without root the test skips on a laptop and fails with
``CI=true`` (``components.require``). The uid needs no account: the kernel checks numbers only,
and a number nobody has means the tests can never touch a real user's files.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.components import require


@dataclass(frozen=True)
class User:
    uid: int
    gid: int

    def popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        """``args`` run as this user, with no supplementary groups (none of root's)."""
        return subprocess.Popen(
            args, user=self.uid, group=self.gid, extra_groups=[], text=True, **kwargs
        )

    def python(self, code: str, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        """Standard-library Python code (``-I``: no user site, no current directory) run as
        this user, by the first interpreter it may execute (ours may sit in root's home)."""
        return self.popen([self.interpreter(), "-I", "-c", code, *args], **kwargs)

    def interpreter(self) -> str:
        candidates = [sys.executable, getattr(sys, "_base_executable", ""), "/usr/bin/python3"]
        candidates.append(shutil.which("python3") or "")
        for candidate in dict.fromkeys(c for c in candidates if c):
            try:
                probe = self.popen([candidate, "-I", "-c", "pass"], stderr=subprocess.DEVNULL)
            except OSError:
                continue
            if probe.wait(60) == 0:
                return candidate
        require("a Python interpreter the second user may run", False, "install python3")
        raise AssertionError("unreachable")


def _unused(taken: set[int], start: int = 61000) -> int:
    n = start
    while n in taken:
        n += 1
    return n


def another_user() -> User:
    require(
        "root (to act as a second local user)",
        hasattr(os, "geteuid") and os.geteuid() == 0,
        "run the security tests as root, as CI does",
    )
    uid = _unused({p.pw_uid for p in pwd.getpwall()})
    gid = _unused({g.gr_gid for g in grp.getgrall()})
    return User(uid, gid)


@contextlib.contextmanager
def shared_dir() -> Iterator[Path]:
    """A folder every user may create things in, like /tmp (mode 1777), outside the test's own
    0700 tmp_path so the other user can reach it."""
    path = Path(tempfile.mkdtemp(prefix="vms-tray-shared-"))
    try:
        path.chmod(0o1777)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
