"""Language choice and the catalogs: compiled .mo files are up to date with their .po sources."""

from __future__ import annotations

import gettext
import os
import subprocess

import pytest

from vms_tray import i18n


@pytest.mark.parametrize(
    ("env", "setting", "lang"),
    [
        ({"LANG": "ru_RU.UTF-8"}, None, "ru"),
        ({"LANGUAGE": "de:ru", "LANG": "en_US.UTF-8"}, None, "ru"),
        ({"LC_ALL": "C"}, None, "en"),
        ({"LANG": "ru_RU.UTF-8"}, "en", "en"),
        ({"LANG": "en_US.UTF-8", "VMS_TRAY_LANG": "ru"}, "en", "ru"),
        ({}, None, "en"),
        ({"LANG": "fr_FR.UTF-8"}, None, "en"),
    ],
)
def test_choose_language(env: dict[str, str], setting: str | None, lang: str) -> None:
    assert i18n.choose_language(env, setting) == lang


def test_settings_file_overrides_the_os(
    isolated_profile: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vms_tray import paths

    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text('[ui]\nlanguage = "ru"\n\n[daemon]\nwarn_margin = 1\n')
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("VMS_TRAY_LANG", raising=False)
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    try:
        assert i18n.install() == "ru"
        assert i18n._("Quit") == "Выход"
    finally:
        i18n.install("en")


@pytest.mark.parametrize(
    "text",
    [
        '[ui]\nlanguage = "ru"\n' + "#" * (1024 * 1024),  # over the 1 MiB of a settings file
        '[ui]\nlanguage = "ru"\nx = ' + "[" * 60_000,  # tomllib: RecursionError
        'language = "ru"\nx = ' + "{a = " * 60_000,
    ],
    ids=["oversized", "nested-arrays", "nested-tables"],
)
def test_a_hostile_settings_file_leaves_the_os_language(
    text: str, isolated_profile: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 14 items 5 and 8: read like servers.toml and the daemon's settings, or not at all.
    from vms_tray import paths

    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text(text)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    for name in ("VMS_TRAY_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    try:
        assert i18n.install() == "en"
    finally:
        i18n.install("en")


def test_a_settings_file_that_is_no_file_leaves_the_os_language(
    isolated_profile: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vms_tray import paths

    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(paths.settings_file())  # open() would wait for a writer forever
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    for name in ("VMS_TRAY_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    try:
        assert i18n.install() == "ru"
    finally:
        i18n.install("en")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_compiled_catalogs_are_current(lang: str) -> None:
    fresh = i18n.make_mo(i18n.parse_po(i18n.po_path(lang).read_text(encoding="utf-8")))
    assert i18n.mo_path(lang).read_bytes() == fresh, "run: python -m vms_tray.i18n"


def test_our_compiler_agrees_with_gnu_msgfmt(tmp_path: object) -> None:
    from pathlib import Path

    from tests.support.components import require_binary

    require_binary("msgfmt")  # Debian: gettext
    out = Path(str(tmp_path)) / "ru.mo"
    subprocess.run(["msgfmt", "-o", str(out), str(i18n.po_path("ru"))], check=True, timeout=30)
    ours = gettext.GNUTranslations(open(i18n.mo_path("ru"), "rb"))  # noqa: SIM115
    gnu = gettext.GNUTranslations(open(out, "rb"))  # noqa: SIM115
    assert ours._catalog == gnu._catalog  # type: ignore[attr-defined]


def test_every_russian_message_is_translated() -> None:
    catalog = i18n.parse_po(i18n.po_path("ru").read_text(encoding="utf-8"))
    pot = i18n.LOCALE_DIR / "vms-tray.pot"
    ids = [
        k for k in i18n.parse_po(pot.read_text(encoding="utf-8").replace('msgstr ""', 'msgstr "x"'))
    ]
    missing = [m for m in ids if m and m not in catalog]
    assert missing == []


def test_plural_forms_in_russian() -> None:
    i18n.install("ru")
    try:
        forms = [
            i18n.ngettext("%(n)d day ago", "%(n)d days ago", n) % {"n": n} for n in (1, 3, 5, 21)
        ]
        assert forms == ["1 день назад", "3 дня назад", "5 дней назад", "21 день назад"]
    finally:
        i18n.install("en")


def test_parse_po_handles_continuations_and_fuzzy() -> None:
    po = (
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, fuzzy\nmsgid "skip"\nmsgstr "no"\n\n'
        'msgid ""\n"long "\n"one"\nmsgstr "дл"\n"инный"\n'
    )
    cat = i18n.parse_po(po)
    assert cat["long one"] == "длинный" and "skip" not in cat


def test_the_template_holds_every_message_of_the_sources(tmp_path: object) -> None:
    from pathlib import Path

    from tests.support.components import require_binary

    require_binary("xgettext")  # Debian: gettext
    fresh = Path(str(tmp_path)) / "fresh.pot"
    i18n.extract_template(fresh)

    def ids(path: Path) -> set[str]:
        text = path.read_text(encoding="utf-8")
        return set(i18n.parse_po(text.replace('msgstr ""', 'msgstr "x"').replace('] ""', '] "x"')))

    stored = i18n.LOCALE_DIR / "vms-tray.pot"
    assert ids(fresh) == ids(stored), "run: python -m vms_tray.i18n update"
