"""The first start's desktop-launcher offer: asked once, remembered either way, not made where
there is nothing to offer, and the answer acted on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.tray.fakes import SIGNED_IN, FakeDaemon, FakeLauncher, RecordingIcon
from vms_tray.autostart import AutostartError
from vms_tray.tray.app import TrayApp
from vms_tray.tray.desktop_offer import ADDED, DECLINED, DIALOG, KEY, DesktopOffer, Offers
from vms_tray.tray.dialog_host import DialogHost


class FakeDesktop:
    def __init__(self, folder: Path | None, present: bool = False) -> None:
        self._folder = folder
        self._present = present
        self.added = 0
        self.fail: Exception | None = None

    def folder(self) -> Path | None:
        return self._folder

    def present(self) -> bool:
        return self._present

    def add(self) -> list[Path]:
        if self.fail is not None:
            raise self.fail
        self.added += 1
        assert self._folder is not None
        return [self._folder / "vms-tray.desktop"]


def _offer(
    tmp_path: Path, desktop: FakeDesktop | None, **env: str
) -> tuple[DesktopOffer, FakeLauncher]:
    dialogs = FakeLauncher()
    offer = DesktopOffer(
        DialogHost(dialogs),
        launcher=lambda: desktop,
        offers=Offers(tmp_path / "data/offers.json"),
        env=env,
    )
    return offer, dialogs


@pytest.mark.parametrize(
    ("action", "remembered", "added"), [("add", ADDED, 1), ("not_now", DECLINED, 0)]
)
def test_asked_once_and_remembered_either_way(
    tmp_path: Path, action: str, remembered: str, added: int
) -> None:
    desktop = FakeDesktop(tmp_path / "Desktop")
    offer, dialogs = _offer(tmp_path, desktop)
    assert offer.maybe_offer()
    request, on_answer, _ = dialogs.last(DIALOG)
    assert request["folder"] == str(tmp_path / "Desktop")
    assert request["command"] == "vms-tray desktop-launcher add"
    on_answer({"action": action})
    assert Offers(tmp_path / "data/offers.json").answer(KEY) == remembered
    assert desktop.added == added
    # The second start: a new process, the same file.
    again, dialogs2 = _offer(tmp_path, desktop)
    assert not again.maybe_offer()
    assert dialogs2.opened == []


def test_a_dialog_closed_by_the_tray_asks_again(tmp_path: Path) -> None:
    offer, dialogs = _offer(tmp_path, FakeDesktop(tmp_path / "Desktop"))
    assert offer.maybe_offer()
    dialogs.last(DIALOG)[1]({"action": "cancel"})
    assert Offers(tmp_path / "data/offers.json").answer(KEY) is None
    assert _offer(tmp_path, FakeDesktop(tmp_path / "Desktop"))[0].maybe_offer()


def test_nothing_to_offer(tmp_path: Path) -> None:
    for desktop in (None, FakeDesktop(None)):
        offer, dialogs = _offer(tmp_path, desktop)
        assert not offer.maybe_offer()
        assert dialogs.opened == []
    assert Offers(tmp_path / "data/offers.json").answer(KEY) is None  # a desktop may come later


def test_a_launcher_already_there_counts_as_added(tmp_path: Path) -> None:
    offer, dialogs = _offer(tmp_path, FakeDesktop(tmp_path / "Desktop", present=True))
    assert not offer.maybe_offer()
    assert dialogs.opened == []
    assert Offers(tmp_path / "data/offers.json").answer(KEY) == ADDED


def test_no_offer_where_nothing_may_be_registered(tmp_path: Path) -> None:
    offer, dialogs = _offer(
        tmp_path, FakeDesktop(tmp_path / "Desktop"), VMS_TRAY_AUTOSTART_DIR=str(tmp_path / "a")
    )
    assert not offer.maybe_offer()
    assert dialogs.opened == []


def test_a_failed_add_is_logged_and_still_remembered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    desktop = FakeDesktop(tmp_path / "Desktop")
    desktop.fail = AutostartError("cannot write it")
    offer, dialogs = _offer(tmp_path, desktop)
    offer.maybe_offer()
    dialogs.last(DIALOG)[1]({"action": "add"})
    assert "cannot write it" in caplog.text and "vms-tray desktop-launcher add" in caplog.text
    assert Offers(tmp_path / "data/offers.json").answer(KEY) == ADDED


def test_a_broken_offers_file_makes_no_offer(tmp_path: Path) -> None:
    path = tmp_path / "data/offers.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    offer, dialogs = _offer(tmp_path, FakeDesktop(tmp_path / "Desktop"))
    assert not offer.maybe_offer()
    assert dialogs.opened == []


def test_remember_keeps_other_answers_and_is_private(tmp_path: Path) -> None:
    offers = Offers(tmp_path / "data/offers.json")
    offers.remember("other", "yes")
    offers.remember(KEY, DECLINED)
    assert offers.answer("other") == "yes" and offers.answer(KEY) == DECLINED
    assert offers.path.stat().st_mode & 0o777 == 0o600


def test_the_offer_never_raises(tmp_path: Path) -> None:
    def broken() -> FakeDesktop:
        raise RuntimeError("boom")

    offer = DesktopOffer(
        DialogHost(FakeLauncher()), launcher=broken, offers=Offers(tmp_path / "o.json"), env={}
    )
    assert offer.maybe_offer() is False


def test_the_tray_makes_the_offer_on_its_first_start_only_when_asked_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / "Desktop").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.delenv("VMS_TRAY_AUTOSTART_DIR", raising=False)
    opened: dict[bool, list[str]] = {}
    for offer in (False, True):
        dialogs = FakeLauncher()
        app = TrayApp(
            FakeDaemon(SIGNED_IN),
            icon_factory=lambda _i, _p: RecordingIcon(),
            launcher=dialogs,
            autostart=None,
            desktop_offer=offer,
        )
        app.start()
        assert app.drain()
        app.jobs.shutdown()
        opened[offer] = [name for name, *_ in dialogs.opened]
    assert opened == {False: [], True: [DIALOG]}
    request, _answer, _event = dialogs.last(DIALOG)
    assert request["folder"] == str(home / "Desktop")
