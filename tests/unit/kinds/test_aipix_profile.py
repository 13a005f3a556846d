"""What the aipix kind keeps in the profile: the X-UUID device id (made once, never the machine's
id) and the session limit learnt per connection."""

from __future__ import annotations

import os
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

from vms_tray.kinds.aipix_profile import (
    DEVICE_FILE,
    device_id,
    learnt_limit,
    remember_limit,
)


def test_device_id_is_made_once_and_kept(tmp_path: Path) -> None:
    first = device_id(tmp_path)
    assert str(uuid.UUID(first)) == first
    assert device_id(tmp_path) == first
    assert stat.S_IMODE(os.stat(tmp_path / DEVICE_FILE).st_mode) == 0o600
    other = tmp_path / "other-profile"
    assert device_id(other) != first


def test_a_corrupt_device_id_is_replaced(tmp_path: Path) -> None:
    (tmp_path / DEVICE_FILE).write_text("not a uuid")
    new = device_id(tmp_path)
    assert str(uuid.UUID(new)) == new and device_id(tmp_path) == new


def test_the_default_folder_is_the_profile(isolated_profile: Path) -> None:
    value = device_id()
    assert (isolated_profile / "data" / DEVICE_FILE).read_text().strip() == value


def test_limits_are_remembered_per_connection(tmp_path: Path) -> None:
    when = datetime(2026, 5, 12, 9, 30, tzinfo=UTC)
    assert learnt_limit("https://a anna", tmp_path) is None
    remember_limit("https://a anna", 4, when, tmp_path)
    remember_limit("https://b anna", 2, when, tmp_path)
    got = learnt_limit("https://a anna", tmp_path)
    assert got is not None and (got.max, got.seen_at) == (4, when)
    (tmp_path / "aipix-limits.json").write_text("{broken")
    assert learnt_limit("https://a anna", tmp_path) is None
