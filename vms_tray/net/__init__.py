"""How every server kind talks: the httpx adapter, transport-error translation, TLS trust
(pinning, the certificate read) and proxies (environment and system settings)."""
