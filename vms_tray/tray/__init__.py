"""The tray icon: a pure view of the daemon snapshot (view), pystray (icon), wiring (app)."""
