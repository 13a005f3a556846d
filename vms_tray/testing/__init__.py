"""Test doubles and contract suites, shipped so other server kinds (and other backends) can run
vms-tray's contract tests against themselves.

Nothing in the application imports this package; its modules need the test tools (pytest),
which only the ``dev`` extra installs.
"""
