"""The subprocess reference-server fixtures for this package's tests."""

from tests.support.refserver import refserver, refserver_factory

__all__ = ["refserver", "refserver_factory"]
