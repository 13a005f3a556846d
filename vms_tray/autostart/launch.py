"""The command line that starts the tray, and how each file format wants it quoted.

The command is the *real* interpreter of this installation (``sys.executable``, not resolved:
resolving a venv's ``bin/python`` symlink would leave the venv and lose our package), run as
``python -m vms_tray run``. That works the same from a virtualenv, from pipx (its venv's python)
and from a system install, and the interpreter is a plain file ``status`` can check, unlike a
console script whose shebang may point at a vanished interpreter.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

RUN_ARGS = ("-m", "vms_tray", "run")


def launch_command(executable: str, platform: str, *, gui: bool, frozen: bool = False) -> list[str]:
    """argv that starts the tray; ``gui`` asks for no console window (pythonw.exe on Windows).

    ``frozen``: a bundled application (PyInstaller, py2app) whose executable is vms-tray itself.
    """
    if frozen:
        return [executable, RUN_ARGS[-1]]
    exe = executable
    if platform == "win32" and gui and Path(executable).name.lower() == "python.exe":
        candidate = Path(executable).with_name("pythonw.exe")
        if candidate.exists():
            exe = str(candidate)
    return [exe, *RUN_ARGS]


# --- Desktop Entry (freedesktop) ------------------------------------------------------------------

# Desktop Entry spec, "The Exec key": an argument containing any of these must be quoted.
_DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_DESKTOP_ESCAPED_IN_QUOTES = set('"`$\\')


def desktop_exec(argv: Sequence[str]) -> str:
    """The value of an ``Exec=`` key (before string escaping; see :func:`desktop_string`)."""
    parts = []
    for arg in argv:
        if "\n" in arg or "\r" in arg:
            raise ValueError("a Desktop Entry Exec argument cannot contain a line break")
        arg = arg.replace("%", "%%")  # a bare % starts a field code
        if arg and not (set(arg) & _DESKTOP_RESERVED):
            parts.append(arg)
            continue
        quoted = "".join("\\" + c if c in _DESKTOP_ESCAPED_IN_QUOTES else c for c in arg)
        parts.append(f'"{quoted}"')
    return " ".join(parts)


def desktop_string(value: str) -> str:
    """Escape a value for a ``string``/``localestring`` key (``\\\\``, ``\\s`` etc.)."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
    out = out.replace("\r", "\\r")
    # Leading spaces would be stripped by readers.
    if out.startswith(" "):
        out = "\\s" + out[1:]
    return out


def desktop_unstring(value: str) -> str:
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    out: list[str] = []
    i = 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value) and value[i + 1] in escapes:
            out.append(escapes[value[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_desktop_exec(value: str) -> list[str]:
    """Split an ``Exec=`` value (already string-unescaped) into argv; field codes are dropped."""
    args: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] == " ":
            i += 1
        if i >= n:
            break
        buf: list[str] = []
        if value[i] == '"':
            i += 1
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n and value[i + 1] in _DESKTOP_ESCAPED_IN_QUOTES:
                    i += 1
                buf.append(value[i])
                i += 1
            if i >= n:
                raise ValueError("unterminated quote in Exec")
            i += 1
        else:
            while i < n and value[i] != " ":
                buf.append(value[i])
                i += 1
        arg = "".join(buf)
        if re.fullmatch(r"%[fFuUdDnNickvm]", arg):
            continue
        args.append(arg.replace("%%", "%"))
    return args


# --- systemd ----------------------------------------------------------------------------------


def systemd_exec(argv: Sequence[str]) -> str:
    """The value of ``ExecStart=``: C-style double quotes, ``%%`` for a literal ``%`` everywhere,
    ``$$`` for a literal ``$`` in the arguments (the program path is not expanded)."""
    if not argv or not argv[0].startswith("/"):
        raise ValueError("ExecStart= needs an absolute path")
    parts = []
    for i, arg in enumerate(argv):
        if "\n" in arg:
            raise ValueError("a systemd ExecStart argument cannot contain a line break")
        esc = arg.replace("%", "%%")
        if i > 0:
            # Variables are expanded in the arguments only, never in the program path.
            esc = esc.replace("$", "$$")
        if esc and not re.search(r"[\s\"'\\;]", esc):
            parts.append(esc)
            continue
        esc = esc.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'"{esc}"')
    return " ".join(parts)


def parse_systemd_exec(value: str) -> list[str]:
    """Inverse of :func:`systemd_exec` for the values we write (quotes, ``\\``, ``%%``, ``$$``)."""
    lexer = shlex.shlex(value, posix=True)
    lexer.whitespace_split = True
    lexer.escapedquotes = '"'
    lexer.escape = "\\"
    lexer.quotes = "\"'"
    lexer.commenters = ""
    args = [a.replace("%%", "%") for a in lexer]
    return args[:1] + [a.replace("$$", "$") for a in args[1:]]


# --- Windows ----------------------------------------------------------------------------------


def windows_cmdline(argv: Sequence[str]) -> str:
    """A command line as CreateProcess/CommandLineToArgvW parse it (the Run key's format)."""
    return subprocess.list2cmdline(list(argv))


def parse_windows_cmdline(value: str) -> list[str]:
    """CommandLineToArgvW's rules (the parts list2cmdline produces: quotes and backslashes)."""
    args: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " \t":
            i += 1
        if i >= n:
            break
        buf: list[str] = []
        in_quotes = False
        while i < n and (in_quotes or value[i] not in " \t"):
            if value[i] == "\\":
                j = i
                while j < n and value[j] == "\\":
                    j += 1
                count = j - i
                if j < n and value[j] == '"':
                    buf.append("\\" * (count // 2))
                    if count % 2:
                        buf.append('"')
                        i = j + 1
                    else:
                        i = j
                    continue
                buf.append("\\" * count)
                i = j
                continue
            if value[i] == '"':
                in_quotes = not in_quotes
                i += 1
                continue
            buf.append(value[i])
            i += 1
        args.append("".join(buf))
    return args
