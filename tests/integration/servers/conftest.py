"""Fixtures of the protocol v1 client's integration tests: the real reference server."""

from tests.support.refserver import refserver, refserver_factory  # noqa: F401
