"""The administrator's policy: read from its file, a malformed one ignored as a whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from vms_tray.connections.managed import visible
from vms_tray.connections.policy import load_policy
from vms_tray.connections.store import ConnectionStore
from vms_tray.daemon import settings

PIN = "AB" * 32


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def test_every_setting_is_read(tmp_path: Path) -> None:
    p = load_policy(
        policy_file(
            tmp_path,
            "lock_servers = true\nforbid_remember_password = true\nforce_autostart = true\n"
            f'poll_interval = 30\nwarn_margin = 3\n[pins]\nPlant = "{PIN.lower()}"\n',
        )
    )
    assert p.problem is None
    assert (p.lock_servers, p.forbid_remember_password, p.force_autostart) == (True, True, True)
    assert (p.poll_interval, p.warn_margin) == (30.0, 3)
    assert p.pin_for("plant") == ":".join(PIN[i : i + 2] for i in range(0, 64, 2))


def test_no_file_no_policy(tmp_path: Path) -> None:
    p = load_policy(tmp_path / "none.toml")
    assert p.problem is None and not p.lock_servers and p.poll_interval is None


@pytest.mark.parametrize(
    "text",
    [
        "lock_servers = [",
        'lock_servers = "yes"',
        "colour = 1",
        "warn_margin = 1.5",
        "[pins]\nA = 'x'",
    ],
)
def test_a_malformed_policy_is_one_line_naming_the_file_and_ignored(
    tmp_path: Path, text: str
) -> None:
    path = policy_file(tmp_path, "force_autostart = true\n" + text)
    p = load_policy(path)
    assert p.problem is not None and str(path) in p.problem and "\n" not in p.problem
    assert not p.force_autostart


def test_the_policy_wins_over_the_users_settings(tmp_path: Path) -> None:
    user = tmp_path / "settings.toml"
    user.write_text("[daemon]\npoll_interval = 5\nwarn_margin = 9\nrequest_timeout = 3\n")
    p = load_policy(policy_file(tmp_path, "poll_interval = 42\n"))
    s = settings.load(user, env={}, policy=p)
    assert (s.poll_interval, s.warn_margin, s.request_timeout) == (42.0, 9, 3.0)
    bad = load_policy(policy_file(tmp_path, "poll_interval = 'x'\n"))
    assert settings.load(user, env={}, policy=bad).poll_interval == 5.0


def test_pins_become_the_named_servers_trust(tmp_path: Path) -> None:
    store = ConnectionStore(tmp_path / "servers.toml")
    store.update(lambda lst: lst.add("Plant", "plant.example.com", "me"))
    p = load_policy(policy_file(tmp_path, f'[pins]\nplant = "{PIN}"\n'))
    trust = visible(store, tmp_path / "none.toml", p).list.get("Plant").trust
    assert trust.mode == "pinned" and trust.pin_sha256 is not None
    assert store.load().get("Plant").trust.mode == "system"  # the user's file is unchanged
