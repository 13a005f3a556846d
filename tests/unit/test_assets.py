"""The shipped files: found in a checkout, and every one of them in the build's list; the state
icons as shipped: every state has its files, and states a user must tell apart differ visibly at
16 px (the usual tray size)."""

from __future__ import annotations

import importlib.util
import sys
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from vms_tray import assets
from vms_tray.assets import IconName

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


# --- the state icons ---------------------------------------------------------------------------

SIZES = (16, 24, 32, 48)


def rendered(name: IconName, size: int, panel: str) -> Image.Image:
    """The icon as a tray shows it: composited on a panel colour, RGB."""
    data = assets.icon(f"{name.value}-{size}.png").read_bytes()
    icon = Image.open(BytesIO(data)).convert("RGBA")
    assert icon.size == (size, size)
    back = Image.new("RGBA", icon.size, panel)
    return Image.alpha_composite(back, icon).convert("RGB")


def changed_share(a: Image.Image, b: Image.Image, threshold: int = 64) -> float:
    """The share of pixels where some channel differs by more than ``threshold``."""
    raw = ImageChops.difference(a, b).convert("RGB").tobytes()
    px = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    return sum(1 for p in px if max(p) > threshold) / len(px)


@pytest.mark.parametrize("name", list(IconName))
def test_every_state_has_its_icon_at_every_size(name: IconName) -> None:
    for size in SIZES:
        rendered(name, size, "#ffffff")
    assert assets.icon(f"{name.value}.png").is_file()


@pytest.mark.parametrize("panel", ["#f3f3f3", "#2b2b2b"])
def test_blocked_at_the_limit_differs_from_signed_in_full_at_16_px(panel: str) -> None:
    a = rendered(IconName.LIMIT_REACHED, 16, panel)
    b = rendered(IconName.SIGNED_IN_FULL, 16, panel)
    # Before the fix the two were one file (share 0). Now the disc itself differs (grey against
    # orange): over a third of the 256 pixels, not a badge-sized detail.
    assert changed_share(a, b) > 0.35


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (IconName.SIGNED_IN_FULL, IconName.NEAR_LIMIT),
        (IconName.SIGNED_IN_FULL, IconName.SIGNED_IN),
        (IconName.LIMIT_REACHED, IconName.SIGNED_OUT),
        (IconName.LIMIT_REACHED, IconName.OFFLINE),
        (IconName.LIMIT_REACHED, IconName.ERROR),
    ],
)
def test_neighbouring_states_differ_at_16_px(one: IconName, other: IconName) -> None:
    assert changed_share(rendered(one, 16, "#f3f3f3"), rendered(other, 16, "#f3f3f3")) > 0.05


def test_every_icon_name_has_a_shipped_png() -> None:
    for name in IconName:
        assert assets.icon(f"{name}.png").is_file(), name
