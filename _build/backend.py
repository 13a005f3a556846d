"""vms-tray's build backend: setuptools, plus the top-level asset folders copied into the wheel.

``icons/`` and ``service_templates/`` are the source of truth at the top of the tree (see
``vms_tray/assets.py``); ``BuildPy`` copies their shipped files to ``vms_tray/data/<folder>/`` in
the build, so the wheel is self-contained and git keeps one copy. Named in pyproject.toml as the
in-tree backend (``backend-path``) and as setuptools' ``build_py`` command.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.build_meta import *  # noqa: F403  (the PEP 517 hooks, unchanged)
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent

# folder -> the files of it that ship (the generator script, its preview and the README stay out)
SHIPPED = {
    "icons": ("*.png", "*.ico"),
    "service_templates": ("*.in", "*.ps1"),
}
LEFT_OUT = {"icons/preview.png"}


def shipped_files(root: Path = ROOT) -> list[tuple[Path, str]]:
    """(source file, folder) for every asset the wheel carries."""
    out = []
    for folder, patterns in SHIPPED.items():
        for pattern in patterns:
            for path in sorted((root / folder).glob(pattern)):
                if f"{folder}/{path.name}" not in LEFT_OUT:
                    out.append((path, folder))
    return out


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        for path, folder in shipped_files():
            target = Path(self.build_lib) / "vms_tray" / "data" / folder / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
