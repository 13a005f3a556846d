"""Translations: every user-facing string goes through ``_``/``ngettext`` from here.

The language follows the OS locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, as gettext
reads them) unless ``VMS_TRAY_LANG`` or, in settings.toml, ``[ui] language = "ru"`` (or a top-level
``language``) overrides it. Catalogs
live in ``vms_tray/locale/<lang>/LC_MESSAGES/vms-tray.mo`` and ship in the wheel.

``python -m vms_tray.i18n`` recompiles the ``.po`` sources into ``.mo`` files (no gettext tools
needed); a unit test fails when a compiled catalog is stale. ``python -m vms_tray.i18n update``
first re-extracts the template (``vms-tray.pot``) from the sources and merges it into each ``.po``
(GNU gettext's xgettext and msgmerge; Debian package ``gettext``): new messages arrive
untranslated, removed ones are dropped.
"""

from __future__ import annotations

import gettext
import locale
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

DOMAIN = "vms-tray"
LANGUAGES = ("en", "ru")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

log = logging.getLogger(__name__)

_lock = threading.Lock()
_current: gettext.NullTranslations | None = None
_current_lang: str = "en"


def _settings_language() -> str | None:
    # Imported lazily so i18n stays importable where paths/platformdirs are not wanted, and
    # tomllib (~4 ms) only where a language is not given (the CLI gives "en": start-up).
    import tomllib

    from vms_tray import paths, safefs

    # Read as the daemon reads it (daemon/settings.py): a regular file of at most 1 MiB, so a
    # FIFO does not hang and /dev/zero does not fill the memory; deep nesting makes tomllib
    # raise RecursionError. Whatever is wrong, the OS's language will do: the daemon's own
    # reading of the file says what it is.
    try:
        text = safefs.read_regular(paths.settings_file(), safefs.CONFIG_LIMIT)
        data = tomllib.loads(text.decode("utf-8", errors="replace"))
    except (OSError, safefs.UnsafePath, tomllib.TOMLDecodeError, RecursionError):
        return None
    ui = data.get("ui")
    value = ui.get("language") if isinstance(ui, dict) else None
    value = value or data.get("language")
    return value if isinstance(value, str) and value else None


def _os_languages(env: Mapping[str, str]) -> list[str]:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return [part for part in value.split(":") if part]
    if sys.platform == "win32":  # pragma: no cover - Windows only
        try:
            lang = locale.getlocale()[0]
        except ValueError:
            lang = None
        return [lang] if lang else []
    return []


def choose_language(env: Mapping[str, str] | None = None, setting: str | None = None) -> str:
    """The catalog to use: explicit override, then settings, then the OS locale, else English."""
    env = os.environ if env is None else env
    candidates: list[str] = []
    if env.get("VMS_TRAY_LANG"):
        candidates.append(env["VMS_TRAY_LANG"])
    if setting:
        candidates.append(setting)
    candidates.extend(_os_languages(env))
    for cand in candidates:
        # "ru_RU.UTF-8@euro" -> "ru"
        code = cand.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
        if code in LANGUAGES:
            return code
        if code in ("c", "posix"):
            return "en"
    return "en"


def install(language: str | None = None) -> str:
    """Select the catalog for this process; returns the language code in use."""
    global _current, _current_lang
    lang = language or choose_language(setting=_settings_language())
    trans: gettext.NullTranslations
    try:
        trans = gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])
    except OSError:
        if lang != "en":
            log.warning("no %s translation found in %s; using English", lang, LOCALE_DIR)
        trans = gettext.NullTranslations()
    with _lock:
        _current = trans
        _current_lang = lang
    return lang


def _translations() -> gettext.NullTranslations:
    if _current is None:
        install()
    assert _current is not None
    return _current


def current_language() -> str:
    _translations()
    return _current_lang


def _(message: str) -> str:
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction without translating it now."""
    return message


# --- .po -> .mo compiler (a small subset of msgfmt: what our catalogs use) ----------------------


def _unquote(lines: list[str]) -> str:
    import ast  # the catalog tools' imports are theirs: every process translates (start-up)

    return "".join(ast.literal_eval(line) for line in lines)


def parse_po(text: str) -> dict[str, str]:
    """Parse a .po file into {msgid: msgstr}; plural entries are keyed ``singular\\0plural`` and
    their translations joined with NUL, as in the .mo format. Fuzzy and empty entries are dropped.
    """
    catalog: dict[str, str] = {}
    entries: list[list[str]] = [[]]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if entries[-1]:
                entries.append([])
            continue
        entries[-1].append(line)
    for entry in entries:
        if not entry:
            continue
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in entry)
        fields: dict[str, list[str]] = {}
        key: str | None = None
        for line in entry:
            if line.startswith("#"):
                continue
            if line.startswith('"'):
                if key is None:
                    raise ValueError(f"continuation line without a keyword: {line!r}")
                fields[key].append(line)
                continue
            keyword, _sep, rest = line.partition(" ")
            key = keyword
            fields[key] = [rest]
        if "msgid" not in fields:
            continue
        msgid = _unquote(fields["msgid"])
        if "msgid_plural" in fields:
            plural_id = _unquote(fields["msgid_plural"])
            forms: list[str] = []
            i = 0
            while f"msgstr[{i}]" in fields:
                forms.append(_unquote(fields[f"msgstr[{i}]"]))
                i += 1
            if not forms or not all(forms) or (fuzzy and msgid):
                continue
            catalog[msgid + "\0" + plural_id] = "\0".join(forms)
        else:
            msgstr = _unquote(fields.get("msgstr", ['""']))
            if not msgstr or (fuzzy and msgid):
                continue
            catalog[msgid] = msgstr
    return catalog


def make_mo(catalog: Mapping[str, str]) -> bytes:
    """Serialise a catalog in the GNU .mo format (little-endian, no hash table)."""
    keys = sorted(catalog)
    ids = b""
    strs = b""
    offsets: list[tuple[int, int, int, int]] = []
    for k in keys:
        kb = k.encode("utf-8")
        vb = catalog[k].encode("utf-8")
        offsets.append((len(ids), len(kb), len(strs), len(vb)))
        ids += kb + b"\0"
        strs += vb + b"\0"
    n = len(keys)
    keystart = 7 * 4 + 16 * n
    valuestart = keystart + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    import struct  # here, as the catalog tools' other imports: every process imports i18n

    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    return (
        header
        + struct.pack(f"{len(koffsets)}i", *koffsets)
        + struct.pack(f"{len(voffsets)}i", *voffsets)
        + ids
        + strs
    )


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def compile_catalogs() -> list[Path]:
    written = []
    for lang in LANGUAGES:
        src = po_path(lang)
        if not src.exists():
            continue
        data = make_mo(parse_po(src.read_text(encoding="utf-8")))
        dst = mo_path(lang)
        dst.write_bytes(data)
        written.append(dst)
    return written


# What xgettext looks for: the dialogs call this module's ``_`` as ``T`` (vms_tray.dialogs.common).
KEYWORDS = ("_", "N_", "T", "ngettext:1,2")


def source_files(package: Path = LOCALE_DIR.parent) -> list[Path]:
    """The modules whose strings are extracted: the whole package but the reference server,
    which talks to programs, not people."""
    return sorted(
        p
        for p in package.rglob("*.py")
        if "server" not in p.relative_to(package).parts[:1] and "__pycache__" not in p.parts
    )


def _run(*args: Any, **kwargs: Any) -> Any:
    # here: only the catalog tools run programs, and every process of ours imports this module
    # (subprocess is ~2 ms of each start, issue 13)
    import subprocess

    return subprocess.run(*args, **kwargs)


def extract_template(pot: Path, run: Callable[..., Any] = _run) -> None:
    """Write the catalog template of the current sources to ``pot`` (xgettext)."""
    root = LOCALE_DIR.parent.parent
    sources = [str(p.relative_to(root)) for p in source_files()]
    keywords = [f"--keyword={k}" for k in KEYWORDS]
    run(
        ["xgettext", "--language=Python", "--from-code=UTF-8", "--package-name=vms-tray",
         "--add-comments=Translators:", "--sort-by-file", *keywords, "-o", str(pot), *sources],
        cwd=root, check=True, timeout=120,
    )  # fmt: skip


def update_catalogs(run: Callable[..., Any] = _run) -> list[Path]:
    """Re-extract the template, merge it into every .po, compile; returns the files written."""
    root = LOCALE_DIR.parent.parent
    pot = LOCALE_DIR / f"{DOMAIN}.pot"
    try:
        extract_template(pot, run)
        for lang in LANGUAGES:
            po = po_path(lang)
            run(
                ["msgmerge", "--quiet", "--update", "--backup=none", "--no-fuzzy-matching",
                 "--sort-by-file", str(po), str(pot)],
                cwd=root, check=True, timeout=120,
            )  # fmt: skip
            # Old msgmerge versions keep removed messages as "#~" comments: drop them.
            run(
                ["msgattrib", "--no-obsolete", "--sort-by-file", "-o", str(po), str(po)],
                cwd=root, check=True, timeout=120,
            )  # fmt: skip
            # The template's date would change each .po on every update for nothing (and GNU
            # msgfmt leaves it out of the compiled header, where ours would keep it).
            text = po.read_text(encoding="utf-8")
            po.write_text(re.sub(r'^"POT-Creation-Date: .*"\n', "", text, flags=re.M), "utf-8")
    except FileNotFoundError as exc:
        raise SystemExit(
            f"{exc.filename} is missing: install GNU gettext (Debian: apt-get install gettext)"
        ) from None
    return [pot, *(po_path(lang) for lang in LANGUAGES), *compile_catalogs()]


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "compile"
    if command not in ("compile", "update"):
        raise SystemExit("usage: python -m vms_tray.i18n [compile|update]")
    for path in update_catalogs() if command == "update" else compile_catalogs():
        print(path)
