"""A simulator of the AIPIX VMS Client API (``vms-tray server run --flavor aipix``).

No AIPIX server can be installed here, so the ``aipix`` server kind is tested against this one.
It is built from ``../shared/notes/aipix-client-api.md`` (cited as "note §N" at each behaviour)
and nothing else: where the note marks a point [GAP] or [INF], ``config.Readings`` lets a test
pick each reading. It shares the reference server's SQLite storage (users added with
``vms-tray server user add`` sign in here too), its TLS certificate and its uvicorn setup.

Layers: ``app`` (Starlette: headers, language, HTML errors) -> ``service`` (the API's semantics)
-> ``store`` (the reference ``Store`` plus what AIPIX keeps per session); ``captcha`` (keys checked
without state), ``config`` (settings and readings), ``runner`` (serving in a thread).
"""
