"""kinds/__init__: resolving the one list of kinds (connections.model.KINDS)."""

from __future__ import annotations

import socket

import pytest

import vms_tray
from tests.unit.kinds.fakes import FakeV1
from vms_tray.connections.model import KNOWN_KINDS, Connection
from vms_tray.errors import InvalidInput, Unsupported
from vms_tray.kinds import (
    capabilities_for,
    create_server,
    default_client_info,
    server_class,
)
from vms_tray.kinds.native import NativeServer


@pytest.mark.parametrize("kind", KNOWN_KINDS)
def test_every_known_kind_resolves_to_its_implementation(kind: str) -> None:
    assert server_class(kind).kind == kind


def test_capabilities_without_a_client() -> None:
    caps = capabilities_for("native")
    assert caps.session_limit and not caps.silent_reauth


def test_create_native_server() -> None:
    conn = Connection(name="office", url="https://vms.example.com", login="op")
    fake = FakeV1()
    with create_server(conn, transport=fake.transport(), timeout=3) as server:
        assert isinstance(server, NativeServer)
        assert server.server_info().name == "Fake"
    assert fake.requests[0].extensions["timeout"]["read"] == 3


def test_unknown_kind() -> None:
    with pytest.raises(InvalidInput, match="unknown server kind 'milestone'"):
        server_class("milestone")


def test_missing_module_is_a_clear_error() -> None:
    registry = {"ghost": ("vms_tray.kinds.ghost", "GhostServer")}
    with pytest.raises(Unsupported, match="not available in this installation"):
        server_class("ghost", registry=registry)


def test_a_class_that_is_not_a_kind() -> None:
    registry = {"odd": ("vms_tray.kinds.base", "Capabilities")}
    with pytest.raises(Unsupported, match="broken"):
        server_class("odd", registry=registry)


def test_default_client_info() -> None:
    info = default_client_info()
    assert info.device == socket.gethostname()
    assert (info.software, info.version) == ("vms-tray", vms_tray.__version__)
