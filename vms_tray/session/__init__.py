"""The session engine: a pure state machine. Imports nothing of ours but ``errors``."""
