"""vms-tray: a system-tray companion for video-surveillance (VMS) servers."""

import sys

__version__ = "0.1.0"
APP_NAME = "vms-tray"

# httpx's __init__ imports its command-line client, httpx._main (click, rich, pygments), whenever
# those happen to be importable: in a venv that has them for other tools, or in the .deb's venv
# (--system-site-packages) on a system that has them. Nothing of ours runs that client, and it
# cost a signed-in headless daemon 6 MB resident and 40-70 ms of imports (issue 13, measured with
# python -X importtime and ru_maxrss). httpx offers no switch: a None entry makes its import of
# _main fail, and httpx then keeps its stub that says to install httpx[cli]. This is the one place
# that does it; every process of ours imports this package before it imports httpx.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
