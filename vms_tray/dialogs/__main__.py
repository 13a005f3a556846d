"""``python -m vms_tray.dialogs NAME``: one dialog, JSON request on stdin, JSON answer on stdout."""

from __future__ import annotations

import importlib
import json
import logging
import sys

from vms_tray import i18n
from vms_tray.dialogs import NAMES


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in NAMES:
        print(f"usage: python -m vms_tray.dialogs {{{','.join(NAMES)}}}", file=sys.stderr)
        return 2
    name = args[0]
    logging.basicConfig(level=logging.WARNING, format="vms-tray dialog %(name)s: %(message)s")
    line = sys.stdin.readline()
    try:
        request = json.loads(line) if line.strip() else {}
    except ValueError:
        print("vms-tray dialog: the request on stdin is not JSON", file=sys.stderr)
        return 2
    if not isinstance(request, dict):
        print("vms-tray dialog: the request must be a JSON object", file=sys.stderr)
        return 2
    language = request.get("language")
    i18n.install(str(language) if language else None)
    # Imported after the catalog is chosen; tkinter fails here when there is no display.
    from vms_tray.dialogs.common import Dialog

    module = importlib.import_module(f"vms_tray.dialogs.{name}")
    try:
        dlg = Dialog(name, "vms-tray")
    except Exception as exc:  # TclError: no display, or Tk missing
        print(
            f"vms-tray dialog: cannot open a window ({type(exc).__name__}: {exc})", file=sys.stderr
        )
        print(json.dumps({"action": "cancel", "error": "no_display"}), flush=True)
        return 1
    dlg.listen(sys.stdin)
    module.run(request, dlg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
