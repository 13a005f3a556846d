"""Which proxy the environment names for a server, and what may be shown of it."""

from __future__ import annotations

import pytest

from vms_tray.errors import ProxySettingError
from vms_tray.net.proxy import bypasses, proxy_for

URL = "https://nvr.site.example:8443/vms"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"https_proxy": "http://proxy:3128"}, "http://proxy:3128"),
        ({"HTTPS_PROXY": "proxy:3128"}, "http://proxy:3128"),
        ({"https_proxy": "http://a:1", "HTTPS_PROXY": "http://b:2"}, "http://a:1"),
        ({"all_proxy": "http://any:8080"}, "http://any:8080"),
        ({"https_proxy": "  ", "ALL_PROXY": "http://any:8080"}, "http://any:8080"),
        ({"https_proxy": "https://tls-proxy:443"}, "https://tls-proxy:443"),
        # http_proxy is for http:// URLs; vms-tray only speaks https.
        ({"http_proxy": "http://plain:80"}, None),
        ({"https_proxy": "http://proxy:3128", "no_proxy": "site.example"}, None),
        ({"https_proxy": "http://proxy:3128", "NO_PROXY": "*"}, None),
        ({"https_proxy": "http://proxy:3128", "no_proxy": "other.example"}, "http://proxy:3128"),
    ],
)
def test_proxy_for(env: dict[str, str], expected: str | None) -> None:
    assert proxy_for(URL, env) == expected


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "direct"),
    [
        ("site.example", "nvr.site.example", 443, True),
        (".site.example", "nvr.site.example", 443, True),
        ("site.example", "site.example", 443, True),
        ("site.example", "notsite.example", 443, False),
        ("SITE.example.", "nvr.site.example", 443, True),
        ("site.example:8443", "nvr.site.example", 8443, True),
        ("site.example:8443", "nvr.site.example", 443, False),
        ("10.0.0.0/8", "10.20.30.40", 443, True),
        ("10.0.0.0/8", "192.168.1.1", 443, False),
        ("10.1.2.3", "10.1.2.3", 443, True),
        ("::1", "::1", 443, True),
        ("[::1]:443", "::1", 443, True),
        ("fd00::/8", "[fd12::5]", 443, True),
        ("10.0.0.0/8", "ten.example", 443, False),
        (" a.example , ,b.example ", "b.example", 443, True),
        ("*", "anything", 1, True),
        ("", "anything", 1, False),
        # From the system's settings (Windows' ProxyOverride, macOS' exceptions):
        ("<local>", "nvr", 443, True),
        ("<local>", "nvr.site.example", 443, False),
        ("<local>", "10.1.2.3", 443, False),
        ("*.site.example", "nvr.site.example", 443, True),
        ("*.site.example", "site.example", 443, False),
        ("10.*", "10.20.30.40", 443, True),
        ("10.*", "110.20.30.40", 443, False),
        ("nvr-*", "nvr-07", 443, True),
    ],
)
def test_no_proxy_entries(no_proxy: str, host: str, port: int, direct: bool) -> None:
    assert bypasses(no_proxy, host, port) is direct


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("socks5://proxy:1080", "socks5://, which vms-tray does not support"),
        ("http://proxy:port", "invalid port"),
        ("http://:3128", "names no host"),
    ],
)
def test_unusable_proxies_get_one_line_naming_the_variable(value: str, words: str) -> None:
    with pytest.raises(ProxySettingError) as info:
        proxy_for(URL, {"https_proxy": value})
    message = str(info.value)
    assert words in message and "https_proxy" in message and "\n" not in message
