"""The server list: a connection (name, https URL, login, kind, trust), the rules a list keeps
(one default, unique names) and its atomic TOML store (``servers.toml``)."""
