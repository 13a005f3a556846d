"""One daemon per profile: the OS file lock that dies with its process."""

from __future__ import annotations

import os
import subprocess
import sys

from vms_tray import paths
from vms_tray.app.instance import InstanceLock


def test_instance_lock_is_exclusive_across_processes_and_dies_with_them() -> None:
    lock = InstanceLock()
    assert lock.acquire()
    code = (
        "import sys; from vms_tray.app.instance import InstanceLock; "
        "sys.exit(0 if InstanceLock().acquire() else 3)"
    )
    other = subprocess.run([sys.executable, "-c", code], env=os.environ, timeout=30, check=False)
    assert other.returncode == 3
    lock.release()
    assert subprocess.run([sys.executable, "-c", code], timeout=30, check=False).returncode == 0
    assert (paths.runtime_dir() / "daemon.lock").exists()
