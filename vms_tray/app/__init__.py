"""The process wiring: where the daemon, the tray, the control socket, the logs and the demo
meet. Only :mod:`vms_tray.cli` imports this package."""
