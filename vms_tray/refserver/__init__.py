"""The reference server of protocol v1 (``vms-tray server run``).

Layers: ``app`` (Starlette, HTTP only) -> ``service`` (protocol semantics) -> ``storage`` (SQLite);
``captcha``, ``throttle``, ``tokens`` (secrets and password hashing), ``clock`` (injectable time),
``tls`` (self-signed certificate), ``runner`` (uvicorn in a thread), ``demo``. The protocol itself
is documented in ``vms_tray/data/openapi.json``.
"""
