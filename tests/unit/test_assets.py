"""The shipped files: found in a checkout, and every one of them in the build's list."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from vms_tray import assets

ROOT = Path(__file__).resolve().parents[2]


def _backend():  # type: ignore[no-untyped-def]
    """The in-tree build backend, loaded as the build loads it (from _build/)."""
    spec = importlib.util.spec_from_file_location("backend", ROOT / "_build" / "backend.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("backend", module)
    spec.loader.exec_module(module)
    return module


def test_a_checkout_reads_the_top_level_folders() -> None:
    assert Path(str(assets.icon("signed-in.png"))) == ROOT / "icons" / "signed-in.png"
    assert Path(str(assets.template("vms-tray.service.in"))).parent == ROOT / "service_templates"


def test_a_missing_file_names_both_places() -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.png is neither in .* nor in .*icons"):
        assets.icon("nowhere.png")


def test_an_unknown_folder_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown asset folder 'data'"):
        assets.asset("data", "openapi.json")


def test_the_build_ships_every_icon_and_template_and_nothing_else() -> None:
    shipped = {(folder, path.name) for path, folder in _backend().shipped_files(ROOT)}
    icons = {p.name for p in (ROOT / "icons").iterdir() if p.suffix in (".png", ".ico")}
    templates = {p.name for p in (ROOT / "service_templates").iterdir() if p.name != "README.md"}
    assert shipped == {("icons", n) for n in icons - {"preview.png"}} | {
        ("service_templates", n) for n in templates
    }
