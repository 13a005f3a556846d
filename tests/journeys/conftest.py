"""The journeys suite: the real app on the real test desktop, walked as a person walks it.

Every journey needs the whole desktop (Xvfb, D-Bus, gnome-keyring, dunst, trayer: the session's
``desktop`` fixture), xdotool and ImageMagick's ``import``, PyGObject (the tray's GTK icon, as
a user gets it on this desktop) and Tk. A missing one skips on a laptop and fails with CI=true.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import components
from tests.support.journey import Journey, journey
from tests.support.refserver import RefServer, refserver_factory  # noqa: F401 - fixture

HAVE_GI = importlib.util.find_spec("gi") is not None
HAVE_TK = importlib.util.find_spec("tkinter") is not None

PASSWORD = "correct horse"


@pytest.fixture
def walk(
    request: pytest.FixtureRequest, desktop: components.Desktop, tmp_path: Path
) -> Iterator[Journey]:
    """A journey named after its test (``test_first_run`` -> ``first-run``), torn down after."""
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    components.require("tkinter", HAVE_TK, "install python3-tk")
    name = request.node.name.removeprefix("test_").replace("_", "-")
    with journey(name, desktop, tmp_path) as j:
        yield j


@pytest.fixture
def office(refserver_factory: Callable[..., RefServer]) -> RefServer:  # noqa: F811
    """The reference server of most journeys: anna's account, two seats."""
    return refserver_factory(users={"anna": PASSWORD}, max_sessions=2)
