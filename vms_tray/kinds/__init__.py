"""Server kinds: turns a configured connection into a ``ServerKind``.

Which kinds exist is :data:`vms_tray.connections.model.KINDS` (the one list: a connection names
its kind, and the list must be known where connections are checked, below this package).
Implementations are imported lazily by kind name, so listing kinds or reading capabilities never
imports httpx or opens a connection, and a kind whose module is absent fails with a clear error.

Every kind's class takes ``(connection, *, transport=None, timeout=10.0, proxy=None)``.
"""

from __future__ import annotations

import importlib
import logging
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING

from vms_tray import APP_NAME, __version__
from vms_tray.connections.model import KINDS
from vms_tray.errors import InvalidInput, Unsupported
from vms_tray.kinds.base import Capabilities, ClientInfo, ServerKind

if TYPE_CHECKING:
    import httpx

    from vms_tray.connections.model import Connection

log = logging.getLogger(__name__)

__all__ = [
    "capabilities_for",
    "create_server",
    "default_client_info",
    "server_class",
]


def server_class(
    kind: str, *, registry: Mapping[str, tuple[str, str]] | None = None
) -> type[ServerKind]:
    """The implementation class of ``kind`` (imports its module). ``registry`` is for tests."""
    kinds = KINDS if registry is None else registry
    try:
        module_name, class_name = kinds[kind]
    except KeyError:
        raise InvalidInput(
            f"unknown server kind {kind!r} (known kinds: {', '.join(kinds)})"
        ) from None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise Unsupported(
            f"server kind {kind!r} is not available in this installation of vms-tray "
            f"({module_name} is missing): reinstall or update vms-tray"
        ) from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, ServerKind)):
        raise Unsupported(
            f"server kind {kind!r} is broken in this installation ({module_name}.{class_name} "
            "is not a server kind): reinstall vms-tray"
        )
    return cls


def capabilities_for(kind: str) -> Capabilities:
    """What a kind can do, without constructing a client or touching the network."""
    return server_class(kind).capabilities


def create_server(
    connection: Connection,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 10.0,
    env: Mapping[str, str] | None = None,
) -> ServerKind:
    """A client for ``connection``. ``transport`` replaces the network (tests); trust then is the
    transport's business. ``env``: where proxy variables are read (default ``os.environ``, with
    the system's proxy settings on Windows and macOS).
    Close the result when done.

    Raises ProxySettingError when the environment names a proxy vms-tray cannot use.
    """
    # Imported here: they import httpx, which listing kinds and capabilities never needs.
    from vms_tray.net.errors import proxy_label
    from vms_tray.net.proxy import proxy_for

    cls = server_class(connection.kind)
    proxy = None
    if transport is None:
        proxy = proxy_for(connection.url, env)
    if proxy is not None:
        log.info("%s is reached through the proxy %s", connection.name, proxy_label(proxy))
    # Each kind's constructor has this signature; ServerKind (the ABC) does not declare one.
    return cls(connection, transport=transport, timeout=timeout, proxy=proxy)  # type: ignore[call-arg]


def default_client_info() -> ClientInfo:
    """How this computer introduces itself to servers (shown in their session lists)."""
    device = socket.gethostname() or "unknown"
    return ClientInfo(device=device, software=APP_NAME, version=__version__)
