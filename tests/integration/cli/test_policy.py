"""``vms-tray policy show`` and the policy applied by the CLI: the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli

pytestmark = pytest.mark.integration


def write_policy(profile: Path, text: str) -> Path:
    path = profile / "system" / "policy.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_policy_show_says_where_each_value_came_from(isolated_profile: Path) -> None:
    path = write_policy(isolated_profile, "lock_servers = true\npoll_interval = 30\n")
    out = run_cli(cli_env(isolated_profile), "policy", "show", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)["settings"]
    assert data["lock_servers"] == {"value": True, "from": str(path)}
    assert data["poll_interval"] == {"value": 30.0, "from": str(path)}
    assert data["forbid_remember_password"]["from"] == "default"
    text = run_cli(cli_env(isolated_profile), "policy", "show").stdout
    assert f"Policy file: {path}" in text and "poll_interval" in text


def test_locked_servers_and_forbidden_passwords_are_refused(isolated_profile: Path) -> None:
    path = write_policy(isolated_profile, "lock_servers = true\nforbid_remember_password = true\n")
    env = cli_env(isolated_profile)
    out = run_cli(env, "servers", "add", "A", "a.example.com", "--login", "me")
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "locked the server list" in out.stderr and str(path) in out.stderr
    out = run_cli(env, "password", "set", "A", stdin="secret\n")
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "forbids storing passwords" in out.stderr and str(path) in out.stderr


def test_a_malformed_policy_is_one_line_and_ignored(isolated_profile: Path) -> None:
    path = write_policy(isolated_profile, "lock_servers = [")
    env = cli_env(isolated_profile)
    out = run_cli(env, "servers", "add", "A", "a.example.com", "--login", "me")
    assert out.returncode == 0, out.stderr
    out = run_cli(env, "policy", "show")
    assert out.returncode == 0
    assert out.stderr.count("\n") == 1 and str(path) in out.stderr
