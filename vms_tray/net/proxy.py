"""HTTP proxies named by the environment (``https_proxy``, ``all_proxy``, ``no_proxy``).

httpx's own ``trust_env`` is off (it would also read ``.netrc`` and ``SSL_CERT_FILE``, which must
not override a connection's trust settings), so the proxy variables are read here, the way curl
and Python's urllib read them: lower-case names win, ``no_proxy`` lists hosts (or domain
suffixes, or ``*``) reached directly.

Through a proxy, TLS still runs end to end inside a CONNECT tunnel, so certificate trust and
pinning apply unchanged: the proxy only ever sees encrypted bytes.
"""

from __future__ import annotations

import base64
import fnmatch
import ipaddress
import os
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from vms_tray.errors import ProxySettingError, ServerTimeout, ServerUnreachable
from vms_tray.net.errors import describe_os_error, proxy_label, proxy_refusal
from vms_tray.net.system_proxy import (
    LOCAL,
    NO_PROXY_VARIABLES,
    PROXY_VARIABLES,
    proxy_environment,
)

__all__ = [
    "ProxyRefused",
    "bypasses",
    "open_tunnel",
    "proxy_for",
]

_MAX_REPLY = 16384


class ProxyRefused(ServerUnreachable):
    """The proxy answered the CONNECT with something other than 2xx."""


def proxy_for(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """The proxy URL ``env`` names for the https ``url``; None to connect directly. Without
    ``env``: this process's environment, or where it names no proxy, the system's settings.

    Raises ProxySettingError (one line, naming the variable) for a proxy vms-tray cannot use.
    """
    if env is None:
        env = proxy_environment(os.environ)
    parts = urlsplit(url)
    no_proxy = next((env[v] for v in NO_PROXY_VARIABLES if env.get(v, "").strip()), "")
    if no_proxy and bypasses(no_proxy, parts.hostname or "", parts.port or 443):
        return None
    variable, value = next(
        ((v, env[v].strip()) for v in PROXY_VARIABLES if env.get(v, "").strip()), ("", "")
    )
    if not value:
        return None
    proxy = value if "://" in value else f"http://{value}"
    parts = urlsplit(proxy)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ProxySettingError(
            f"the proxy in {variable} uses {scheme}://, which vms-tray does not support: "
            f"name an http:// proxy, or list the server's host in no_proxy"
        )
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ProxySettingError(
            f"the proxy in {variable} has an invalid port: fix {variable}"
        ) from None
    if not parts.hostname:
        raise ProxySettingError(f"the proxy in {variable} names no host: fix {variable}")
    return proxy


def bypasses(no_proxy: str, host: str, port: int) -> bool:
    """Whether ``no_proxy`` (comma-separated) sends ``host:port`` direct. Entries: ``*``; a host
    name, which also covers its subdomains (a leading dot is optional); an IP address or CIDR
    network; any of them with ``:port`` to apply to that port only. From the system's settings
    (:mod:`vms_tray.net.system_proxy`) also: ``<local>``, a host name without a dot; and
    wildcard patterns such as ``*.corp.example`` or ``10.*``."""
    host = host.lower().strip("[]").rstrip(".")
    address = _address(host)
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if entry == LOCAL:
            if address is None and "." not in host:
                return True
            continue
        if "*" in entry:
            if fnmatch.fnmatchcase(host, entry):
                return True
            continue
        network = _network(entry)
        if network is not None:
            if address is not None and address in network:
                return True
            continue
        name = entry.lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [::1]:443
        inside, _, rest = entry[1:].partition("]")
        return inside, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        return name, int(port) if port.isdigit() else None
    return entry, None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _authorization(proxy: str) -> str | None:
    parts = urlsplit(proxy)
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def open_tunnel(proxy: str, host: str, port: int, timeout: float) -> socket.socket:
    """A socket to ``host:port`` through the http:// ``proxy`` (HTTP CONNECT), ready for TLS.

    Used where vms-tray opens a raw TLS socket itself (reading a certificate to show the user);
    requests go through httpx's own proxy support.
    """
    parts = urlsplit(proxy)
    label = proxy_label(proxy)
    if parts.scheme != "http":
        raise ProxySettingError(
            f"reading a certificate through the {parts.scheme}:// proxy {label} is not "
            "supported: trust the server's CA instead with "
            "'vms-tray servers edit NAME --ca-file FILE'"
        )
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    auth = _authorization(proxy)
    if auth is not None:
        lines.append(f"Proxy-Authorization: {auth}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    try:
        sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=timeout)
    except TimeoutError:
        raise ServerTimeout(
            f"the proxy {label} did not accept a connection within {timeout:g} s: check https_proxy"
        ) from None
    except OSError as exc:
        raise ServerUnreachable(
            f"cannot reach the proxy {label} ({describe_os_error(exc)}): check https_proxy"
        ) from None
    try:
        sock.sendall(request)
        reply = _read_reply(sock)
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        raise ServerUnreachable(
            f"the proxy {label} dropped the tunnel to {target} ({describe_os_error(exc)}): "
            "try again, or check the proxy settings"
        ) from None
    except BaseException:
        sock.close()
        raise
    status_line = reply.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    fields = status_line.split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].startswith("2"):
        sock.close()
        raise ProxyRefused(proxy_refusal(proxy, target, " ".join(fields[1:]).strip()[:80]))
    return sock


def _read_reply(sock: socket.socket) -> bytes:
    # Byte by byte up to the blank line, so no byte of the TLS stream that follows is consumed.
    reply = bytearray()
    while not reply.endswith(b"\r\n\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionResetError("the proxy closed the connection")
        reply += chunk
        if len(reply) > _MAX_REPLY:
            raise ConnectionError("the proxy's reply is too long")
    return bytes(reply)
