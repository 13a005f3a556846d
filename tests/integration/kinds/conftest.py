"""Fixtures of the protocol v1 client's integration tests: the real reference server and a
real HTTP proxy."""

from tests.support.proxy import tinyproxy  # noqa: F401
from tests.support.refserver import refserver, refserver_factory  # noqa: F401
