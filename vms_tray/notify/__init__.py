"""Notification backends (D-Bus, pystray, log) behind one base class; chosen in one place."""
