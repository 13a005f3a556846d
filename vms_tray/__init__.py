"""vms-tray: a system-tray companion for video-surveillance (VMS) servers."""

__version__ = "0.1.0"
APP_NAME = "vms-tray"
