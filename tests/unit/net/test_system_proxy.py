"""The system's proxy settings (Windows registry, macOS SystemConfiguration) read as proxy
variables, through the seams that stand in for the OS calls on Linux."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from vms_tray.net.proxy import proxy_for
from vms_tray.net.system_proxy import (
    macos_variables,
    proxy_environment,
    windows_variables,
)

URL = "https://nvr.site.example:8443/vms"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, {}),
        ({"ProxyEnable": 0, "ProxyServer": "proxy:3128"}, {}),
        ({"ProxyEnable": 1, "ProxyServer": "proxy:3128"}, {"https_proxy": "proxy:3128"}),
        (
            {"ProxyEnable": 1, "ProxyServer": "http=web:80;https=secure:8443;ftp=f:21"},
            {"https_proxy": "secure:8443"},
        ),
        # Only an http= proxy: Windows sends https:// direct.
        ({"ProxyEnable": 1, "ProxyServer": "http=web:80"}, {}),
        ({"ProxyEnable": 1, "ProxyServer": ""}, {}),
        (
            {
                "ProxyEnable": 1,
                "ProxyServer": "proxy:3128",
                "ProxyOverride": "*.corp.example;10.*; <local> ;",
            },
            {"https_proxy": "proxy:3128", "no_proxy": "*.corp.example,10.*,<local>"},
        ),
        ({"AutoConfigURL": "http://wpad/proxy.pac"}, {}),  # PAC files are not evaluated
    ],
)
def test_windows_settings(values: dict[str, Any], expected: dict[str, str]) -> None:
    assert windows_variables(values) == expected


@pytest.mark.parametrize(
    ("proxies", "settings", "expected"),
    [
        ({}, {}, {}),
        ({"http": "http://web:80"}, {}, {}),
        ({"https": "http://secure:8443"}, {}, {"https_proxy": "http://secure:8443"}),
        (
            {"https": "http://secure:8443"},
            {"exclude_simple": True, "exceptions": ["*.local", "169.254/16", "10.0.0.1"]},
            {
                "https_proxy": "http://secure:8443",
                "no_proxy": "*.local,169.254.0.0/16,10.0.0.1,<local>",
            },
        ),
    ],
)
def test_macos_settings(
    proxies: dict[str, Any], settings: dict[str, Any], expected: dict[str, str]
) -> None:
    assert macos_variables(proxies, settings) == expected


class Registry:
    def __init__(self, values: Mapping[str, Any] | Exception) -> None:
        self.values = values
        self.reads = 0

    def __call__(self) -> Mapping[str, Any]:
        self.reads += 1
        if isinstance(self.values, Exception):
            raise self.values
        return self.values


ENABLED = {"ProxyEnable": 1, "ProxyServer": "proxy:3128", "ProxyOverride": "<local>;10.*"}


def test_windows_system_proxy_is_used_when_the_environment_names_none() -> None:
    env = proxy_environment({"PATH": "x"}, "win32", read_registry=Registry(ENABLED))
    assert proxy_for(URL, env) == "http://proxy:3128"
    assert proxy_for("https://nvr:8443", env) is None  # <local>
    assert proxy_for("https://10.1.2.3", env) is None
    assert env["PATH"] == "x"


def test_the_environment_wins_over_the_system() -> None:
    registry = Registry(ENABLED)
    env = {"https_proxy": "http://mine:8080"}
    assert proxy_environment(env, "win32", read_registry=registry) is env
    assert registry.reads == 0
    # no_proxy alone also means "the environment decides": everything else goes direct.
    env = {"no_proxy": "other.example"}
    assert proxy_for(URL, proxy_environment(env, "win32", read_registry=registry)) is None


def test_macos_system_proxy() -> None:
    def scproxy() -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        return {"https": "http://secure:8443"}, {"exclude_simple": False, "exceptions": []}

    env = proxy_environment({}, "darwin", read_scproxy=scproxy)
    assert proxy_for(URL, env) == "http://secure:8443"


def test_linux_reads_only_the_environment() -> None:
    registry = Registry(ENABLED)
    env: dict[str, str] = {}
    assert proxy_environment(env, "linux", read_registry=registry) is env
    assert registry.reads == 0


def test_unreadable_settings_mean_a_direct_connection(caplog: pytest.LogCaptureFixture) -> None:
    env = proxy_environment({}, "win32", read_registry=Registry(PermissionError("denied")))
    assert proxy_for(URL, env) is None
    assert "could not read the system's proxy settings: PermissionError" in caplog.text


def test_the_real_readers_return_nothing_off_their_platform() -> None:
    assert proxy_environment({}, "win32") == {}  # this is Linux: no registry to read
    assert proxy_environment({}, "darwin") == {}
