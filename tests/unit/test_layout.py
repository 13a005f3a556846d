"""The import rules of the house (DEVELOPERS.md, "The rooms"), read from the code itself.

Every module's ``import``/``from ... import`` statements (anywhere in the file, so a
function-level import cannot hide a door) are mapped to rooms: a room is a subpackage of
``vms_tray`` or a top-level module. Each room may import only the rooms its row names; a room
missing from the table fails too, so a new package has to be placed on purpose.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "vms_tray"

# The ground floor: small modules every room may use.
BASE = frozenset(
    {"vms_tray", "errors", "text", "i18n", "paths", "safefs", "urls", "assets", "fingerprints"}
)

# room -> the rooms it may import (besides BASE and itself). Read top-down: each row names only
# rooms on lower rows, so the rooms form layers and no loop can appear between them.
ALLOWED: dict[str, frozenset[str]] = {
    # ground floor
    "vms_tray": frozenset(),
    "errors": frozenset(),
    "text": frozenset(),
    "paths": frozenset(),
    "i18n": frozenset(),
    "safefs": frozenset(),
    "urls": frozenset(),
    "assets": frozenset(),
    "fingerprints": frozenset(),
    # pure logic: the engine knows states and events, never I/O
    "session": frozenset(),
    "commands": frozenset({"session"}),
    # the server list and how every kind talks
    "connections": frozenset(),
    "net": frozenset({"connections"}),
    "kinds": frozenset({"net", "connections", "session"}),
    # the reference server is a program of its own: it shares only the ground floor
    "refserver": frozenset(),
    # platform backends
    "secretservice": frozenset(),
    "credentials": frozenset({"connections", "secretservice"}),
    "notify": frozenset({"session"}),
    "autostart": frozenset(),
    "control": frozenset(),
    # views: dialogs are child processes; the tray never imports the daemon, a kind or the net
    # (it reaches the daemon through tray/ports.py's DaemonPort). It saves the server list from
    # the dialog's answer itself, as the CLI's `servers` commands do: the store, and the keyring
    # so that passwords follow renames and removals.
    "dialogs": frozenset({"connections"}),
    "tray": frozenset(
        {"session", "commands", "connections", "credentials", "dialogs", "notify", "autostart"}
    ),
    # where engine, I/O, scheduler and threads meet
    "daemon": frozenset(
        {"session", "commands", "connections", "kinds", "credentials", "notify", "control"}
    ),
    # process wiring: everything below the command line
    "app": frozenset(
        {
            "session",
            "commands",
            "connections",
            "net",
            "kinds",
            "refserver",
            "credentials",
            "notify",
            "autostart",
            "control",
            "dialogs",
            "tray",
            "daemon",
        }
    ),
    "cli": frozenset(
        {
            "session",
            "commands",
            "connections",
            "net",
            "kinds",
            "refserver",
            "credentials",
            "notify",
            "autostart",
            "control",
            "dialogs",
            "tray",
            "daemon",
            "app",
        }
    ),
    "__main__": frozenset({"cli"}),
    # test doubles and contract suites; nothing in the app imports them (see below)
    "testing": frozenset({"session", "commands", "connections", "net", "kinds", "autostart"}),
}


def room_of_module(module: str) -> str:
    """``vms_tray.kinds.native`` -> ``kinds``; ``vms_tray`` -> ``vms_tray``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imported_rooms(path: Path) -> Iterator[tuple[int, str]]:
    """(line, room) for every import of vms_tray in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "vms_tray":
                # "from vms_tray import i18n" names the room by the imported name
                for alias in node.names:
                    name = alias.name
                    is_room = (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()
                    yield node.lineno, name if is_room else "vms_tray"
            elif node.module.startswith("vms_tray."):
                yield node.lineno, room_of_module(node.module)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("vms_tray."):
                    yield node.lineno, room_of_module(alias.name)


def package_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "locale" not in p.parts)


def test_every_room_is_placed_in_the_table() -> None:
    rooms = {room_of_module(module_name(p)) for p in package_files()}
    assert rooms - ALLOWED.keys() == set(), "add the new room to ALLOWED (and DEVELOPERS.md)"


def test_the_table_is_layered() -> None:
    """No two rooms may import each other, directly or around a loop."""
    seen: dict[str, int] = {}  # 1 = on the path, 2 = done

    def visit(room: str, path: tuple[str, ...]) -> None:
        if seen.get(room) == 2:
            return
        assert seen.get(room) != 1, f"the table has a loop: {' -> '.join((*path, room))}"
        seen[room] = 1
        for other in sorted(ALLOWED[room] | (BASE - {room} if room not in BASE else set())):
            visit(other, (*path, room))
        seen[room] = 2

    for room in ALLOWED:
        visit(room, ())


@pytest.mark.parametrize("path", package_files(), ids=lambda p: module_name(p))
def test_imports_follow_the_rules(path: Path) -> None:
    here = room_of_module(module_name(path))
    allowed = ALLOWED[here] | BASE | {here}
    if here in BASE:
        # the ground floor imports only the ground floor, never upwards
        allowed = BASE
    bad = [
        f"{path.relative_to(PACKAGE.parent)} line {line}: {here} may not import {room}"
        for line, room in imported_rooms(path)
        if room not in allowed
    ]
    assert bad == []


def test_nothing_in_the_app_imports_the_test_doubles() -> None:
    users = [
        f"{p.relative_to(PACKAGE.parent)} line {line}"
        for p in package_files()
        if room_of_module(module_name(p)) != "testing"
        for line, room in imported_rooms(p)
        if room == "testing"
    ]
    assert users == []


def test_a_module_over_500_lines_says_why_at_its_top() -> None:
    """Small modules named for what they hold; a longer one carries its reason in the docstring
    ("Longer than 500 lines because ...")."""
    long = []
    for p in package_files():
        text = p.read_text(encoding="utf-8")
        if text.count("\n") > 500:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "longer than 500 lines because" not in doc.lower():
                long.append(str(p.relative_to(PACKAGE.parent)))
    assert long == []


TESTS = PACKAGE.parent / "tests"
SUITES = ("unit", "integration", "desktop", "security")


def _is_stub(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A body of only a docstring, ``...`` or ``pass`` (an abstract method, a Protocol)."""
    body = [
        s
        for s in fn.body
        if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        and not isinstance(s, ast.Pass)
    ]
    return not body or all(isinstance(s, ast.Raise) for s in body)


def has_logic(path: Path) -> bool:
    """The module defines a function or method that does something (data classes, enums,
    Protocols and re-exporting package faces need no test file of their own)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_stub(n)
        for n in ast.walk(tree)
    )


def mirror_paths(path: Path) -> list[Path]:
    """Where the tests of ``vms_tray/<pkg>/<mod>.py`` live: ``tests/<suite>/<pkg>/test_<mod>.py``
    (a package's ``__init__`` is tested as ``test_<pkg>.py`` beside the package's tests)."""
    rel = path.relative_to(PACKAGE)
    if rel.name == "__init__.py":
        folder, name = rel.parent.parent, f"test_{rel.parent.name or 'vms_tray'}.py"
    else:
        folder, name = rel.parent, f"test_{rel.stem.strip('_')}.py"
    return [TESTS / suite / folder / name for suite in SUITES]


# Modules whose tests are named for something else, and why.
TESTED_ELSEWHERE = {
    "__main__.py": "two lines handing over to vms_tray.cli.main (tests/unit/test_cli.py)",
}


def test_every_module_with_logic_has_a_test_file_of_its_name() -> None:
    """Tests mirror the package file by file, so a module's tests are found without a search."""
    missing = [
        str(p.relative_to(PACKAGE.parent))
        for p in package_files()
        if has_logic(p)
        and str(p.relative_to(PACKAGE)) not in TESTED_ELSEWHERE
        and not any(t.is_file() for t in mirror_paths(p))
    ]
    assert missing == []


# A path in backticks under one of these roots (``tests/unit/kinds/test_aipix*.py``).
_DOC_PATH = re.compile(r"`((?:tests|vms_tray|docs|scripts|bench)/[^`\s<>{}]*)`")


def test_the_docs_name_only_paths_that_exist() -> None:
    """A moved test or module leaves no stale path in the docs (docs/*.md, README, DEVELOPERS);
    a glob names at least one file."""
    root = PACKAGE.parent
    pages = [*sorted((root / "docs").glob("*.md")), root / "README.md", root / "DEVELOPERS.md"]
    stale = [
        f"{page.name}: {path}"
        for page in pages
        for path in _DOC_PATH.findall(page.read_text(encoding="utf-8"))
        if not any(root.glob(path.rstrip("/")))
    ]
    assert stale == []


def _module_level(tree: ast.Module) -> set[int]:
    """ids of the imports at module level, a module-level ``if`` (``TYPE_CHECKING``, a platform)
    or ``try`` (``except ImportError``) included."""
    found: set[int] = set()

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                found.add(id(stmt))
            elif isinstance(stmt, ast.If):
                visit(stmt.body)
                visit(stmt.orelse)
            elif isinstance(stmt, ast.Try):
                for part in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse):
                    visit(part)

    visit(tree.body)
    return found


def _comment_lines(text: str) -> tuple[set[int], set[int]]:
    """(lines with a comment, lines that are only a comment)."""
    any_comment: set[int] = set()
    only_comment: set[int] = set()
    lines = text.splitlines()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            row = tok.start[0]
            any_comment.add(row)
            if lines[row - 1].lstrip().startswith("#"):
                only_comment.add(row)
    return any_comment, only_comment


def unexplained_local_imports(path: Path) -> list[int]:
    """Lines of function-level imports that do not say why they are not at the top: a comment
    on the import's line or a comment line just above it. Consecutive imports (blank lines
    between allowed) share the comment of the first."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    top = _module_level(tree)
    any_comment, only_comment = _comment_lines(text)
    bad: list[int] = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody", "handlers"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            explained = False
            for stmt in body:
                if not isinstance(stmt, ast.Import | ast.ImportFrom) or id(stmt) in top:
                    explained = False
                    continue
                line = stmt.lineno
                explained = explained or line in any_comment or line - 1 in only_comment
                if not explained:
                    bad.append(line)
    return sorted(bad)


# Rooms whose modules give the reason for their local imports once, in their docstring: every
# command module of the CLI imports at its top only what registering needs (CLI start-up).
REASON_IN_DOCSTRING = frozenset({"cli"})


def test_a_function_level_import_says_why() -> None:
    """Imports stay at the top of a module; one inside a function says why in a comment (an
    optional dependency, a platform's module, a measured start-up cost), DEVELOPERS.md."""
    bad = []
    for p in package_files():
        if room_of_module(module_name(p)) in REASON_IN_DOCSTRING:
            doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or ""
            assert "start-up" in doc.lower(), f"{p.name}: say why its imports are local"
            continue
        bad += [f"{p.relative_to(PACKAGE.parent)}:{line}" for line in unexplained_local_imports(p)]
    assert bad == []


def test_the_local_import_check_reads_comments(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import json\n"
        "try:\n"
        "    import tomllib\n"
        "except ImportError:\n"
        "    tomllib = None\n"
        "def a():\n"
        "    import os\n"  # 9: no reason
        "    x = '# not a comment'\n"
        "    import sys  # optional\n"
        "def b():\n"
        "    # measured: 20 ms\n"
        "    import ssl\n"
        "\n"
        "    import socket\n"
        "    y = 1\n"
        "    import struct\n",  # 18: a new run
        encoding="utf-8",
    )
    assert unexplained_local_imports(source) == [9, 18]
