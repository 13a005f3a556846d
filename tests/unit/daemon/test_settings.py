"""The daemon's tunables: [daemon] in settings.toml, overridden by VMS_TRAY_* variables, each
checked against its bounds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vms_tray.daemon import settings as settings_mod
from vms_tray.errors import ConfigError


def test_settings_file_and_environment(tmp_path: Path) -> None:
    f = tmp_path / "settings.toml"
    f.write_text("[daemon]\npoll_interval = 30\nwarn_margin = 2\nbogus = 1\n")
    s = settings_mod.load(f, env={"VMS_TRAY_POLL_INTERVAL": "1"})
    assert s.poll_interval == 1 and s.warn_margin == 2
    assert s.timing().warn_margin == 2
    assert settings_mod.load(tmp_path / "missing.toml", env={}).poll_interval == 60
    f.write_text("[daemon]\npoll_interval = -5\n")
    with pytest.raises(ConfigError, match="poll_interval must be between"):
        settings_mod.load(f, env={})
    f.write_text("[daemon\n")
    with pytest.raises(ConfigError):
        settings_mod.load(f, env={})


def test_a_setting_must_be_a_number_not_a_yes_or_no(tmp_path: Path) -> None:
    f = tmp_path / "settings.toml"
    f.write_text("[daemon]\nwarn_margin = true\n")
    with pytest.raises(ConfigError, match="warn_margin must be a number"):
        settings_mod.load(f, env={})
    f.write_text('[daemon]\nbackoff_cap = "soon"\n')
    with pytest.raises(ConfigError, match="backoff_cap must be a number"):
        settings_mod.load(f, env={})


def test_a_bad_environment_override_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="VMS_TRAY_SIGN_OUT_TIMEOUT: sign_out_timeout") as info:
        settings_mod.load(tmp_path / "missing.toml", env={"VMS_TRAY_SIGN_OUT_TIMEOUT": "5"})
    assert "between 0.1 and 1.8" in str(info.value)  # quit must free the seat within 2 s
    # An empty variable is no override.
    assert settings_mod.load(tmp_path / "missing.toml", env={"VMS_TRAY_POLL_INTERVAL": ""}) == (
        settings_mod.DaemonSettings()
    )


def test_the_daemon_section_must_be_a_table(tmp_path: Path) -> None:
    f = tmp_path / "settings.toml"
    f.write_text("daemon = 5\n")
    with pytest.raises(ConfigError, match=r"\[daemon\] must be a table"):
        settings_mod.load(f, env={})


def test_a_settings_file_that_is_no_file_is_refused_at_once(tmp_path: Path) -> None:
    f = tmp_path / "settings.toml"
    os.mkfifo(f)  # opening it must not wait for a writer
    with pytest.raises(ConfigError, match="not a regular file"):
        settings_mod.load(f, env={})


@pytest.mark.parametrize("nested", ["[" * 60_000, "{a = " * 60_000])
def test_a_deeply_nested_settings_file_is_refused_in_one_line(tmp_path: Path, nested: str) -> None:
    # tomllib recurses once per level: RecursionError, said as what it is (issue 14 item 5).
    f = tmp_path / "settings.toml"
    f.write_text(f"[daemon]\nx = {nested}\n")
    with pytest.raises(ConfigError, match=r"cannot read it \(RecursionError\)") as info:
        settings_mod.load(f, env={})
    assert str(f) in str(info.value) and "\n" not in str(info.value)


def test_the_engine_gets_every_timing_setting(tmp_path: Path) -> None:
    f = tmp_path / "settings.toml"
    f.write_text(
        "[daemon]\npoll_interval = 30\nwarn_margin = 2\nseat_retry_interval = 45\n"
        "backoff_initial = 3\nbackoff_cap = 120\n"
    )
    timing = settings_mod.load(f, env={}).timing()
    assert (timing.poll_interval, timing.warn_margin, timing.seat_retry_interval) == (30, 2, 45)
    assert (timing.backoff_initial, timing.backoff_cap) == (3, 120)
