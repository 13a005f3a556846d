"""The proxy the operating system is set to use, in the vocabulary of the proxy variables.

On Linux desktops the proxy is named by the environment (``https_proxy``, ``no_proxy``), which
:mod:`vms_tray.net.proxy` reads. Windows and macOS users set it in the system's settings
instead (Internet Options and the registry; System Settings and SystemConfiguration). This module
turns those settings into the same variables, so one reader decides for every platform. As with
curl and Python's urllib, the environment wins: when it names any proxy variable, the system's
settings are not read. Automatic configuration scripts (PAC files) are not evaluated.

The OS calls are behind seams (``read_registry``, ``read_scproxy``) so both translations are
unit-tested on Linux.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

# In the order they are consulted; the lower-case spelling wins, as in curl.
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
NO_PROXY_VARIABLES = ("no_proxy", "NO_PROXY")
LOCAL = "<local>"  # a host name without a dot (Windows' and macOS' "simple host names")
_INTERNET_SETTINGS = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"
_PARTIAL_NETWORK = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){0,3})/(\d{1,2})$")

Registry = Callable[[], Mapping[str, Any]]
ScProxy = Callable[[], tuple[Mapping[str, Any], Mapping[str, Any]]]


def windows_variables(values: Mapping[str, Any]) -> dict[str, str]:
    """``https_proxy``/``no_proxy`` from the values of the Internet Settings registry key."""
    if not values.get("ProxyEnable"):
        if values.get("AutoConfigURL"):
            log.info("the system uses a proxy configuration script, which vms-tray cannot read")
        return {}
    server = str(values.get("ProxyServer") or "").strip()
    by_protocol: dict[str, str] = {}
    if "=" not in server:
        by_protocol["https"] = server  # one proxy for every protocol
    else:
        for part in server.split(";"):
            protocol, _, address = part.partition("=")
            by_protocol[protocol.strip().lower()] = address.strip()
    # Windows sends https:// through the "https=" proxy only; without one it goes direct.
    proxy = by_protocol.get("https", "")
    if not proxy:
        return {}
    found = {"https_proxy": proxy}
    override = [e.strip() for e in str(values.get("ProxyOverride") or "").split(";")]
    if any(override):
        found["no_proxy"] = ",".join(e for e in override if e)
    return found


def macos_variables(proxies: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, str]:
    """``https_proxy``/``no_proxy`` from SystemConfiguration (``_scproxy``'s two answers)."""
    proxy = str(proxies.get("https") or "").strip()
    if not proxy:
        return {}
    found = {"https_proxy": proxy}
    exceptions = [_macos_exception(str(e)) for e in settings.get("exceptions") or ()]
    if settings.get("exclude_simple"):
        exceptions.append(LOCAL)
    if exceptions:
        found["no_proxy"] = ",".join(e for e in exceptions if e)
    return found


def _macos_exception(entry: str) -> str:
    """macOS writes networks short ("169.254/16"); the reader wants "169.254.0.0/16"."""
    entry = entry.strip()
    match = _PARTIAL_NETWORK.match(entry)
    if match:
        octets = match.group(1).split(".")
        return ".".join(octets + ["0"] * (4 - len(octets))) + "/" + match.group(2)
    return entry


def _read_registry() -> Mapping[str, Any]:
    values: dict[str, Any] = {}
    if sys.platform == "win32":  # the guard also tells mypy where winreg exists
        import winreg  # Windows only

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, _INTERNET_SETTINGS) as key:
            for name in ("ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL"):
                try:
                    values[name] = winreg.QueryValueEx(key, name)[0]
                except OSError:  # the value is not set
                    continue
    return values


def _read_scproxy() -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    if sys.platform == "darwin":
        import _scproxy  # macOS only (CPython's own, as urllib uses it)

        return _scproxy._get_proxies(), _scproxy._get_proxy_settings()
    return {}, {}


def proxy_environment(
    environ: Mapping[str, str],
    platform: str = sys.platform,
    *,
    read_registry: Registry = _read_registry,
    read_scproxy: ScProxy = _read_scproxy,
) -> Mapping[str, str]:
    """``environ``, with the system's proxy settings added where it names none."""
    if any(environ.get(v, "").strip() for v in PROXY_VARIABLES + NO_PROXY_VARIABLES):
        return environ
    try:
        if platform == "win32":
            found = windows_variables(read_registry())
        elif platform == "darwin":
            found = macos_variables(*read_scproxy())
        else:
            return environ
    except Exception as exc:  # unreadable settings: connect as if there were none
        log.warning("could not read the system's proxy settings: %s", type(exc).__name__)
        return environ
    return {**environ, **found} if found else environ
