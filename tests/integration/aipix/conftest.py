"""Fixtures of the AIPIX integration tests: the simulator as a real process
(``vms-tray server run --flavor aipix``) over TLS."""

from tests.support.refserver import refserver_factory  # noqa: F401
