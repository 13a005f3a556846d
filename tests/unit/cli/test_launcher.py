"""``vms-tray desktop-launcher add|remove|status`` in a temporary HOME."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vms_tray.cli import main
from vms_tray.tray.desktop_offer import ADDED, DECLINED, KEY, Offers


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "Desktop").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "no-system-entries"))
    return home


def test_add_status_remove(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = home / "Desktop/vms-tray.desktop"
    assert main(["desktop-launcher", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"path": str(copy), "present": False}
    assert main(["desktop-launcher", "add"]) == 0
    assert f"installed {copy}" in capsys.readouterr().out
    assert os.access(copy, os.X_OK)
    assert Offers().answer(KEY) == ADDED  # the tray will not ask any more
    assert main(["desktop-launcher", "status"]) == 0
    assert capsys.readouterr().out == f"on the desktop: {copy}\n"
    assert main(["desktop-launcher", "remove", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": [str(copy)]}
    assert not copy.exists()
    assert Offers().answer(KEY) == DECLINED
    assert main(["desktop-launcher", "remove"]) == 0
    assert capsys.readouterr().out == "no launcher on the desktop\n"


def test_no_desktop_folder_is_one_line(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "Desktop").rmdir()
    assert main(["desktop-launcher", "add"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("vms-tray: there is no desktop folder") and err.count("\n") == 1
    assert main(["desktop-launcher", "status"]) == 0
    assert "no desktop folder" in capsys.readouterr().out
