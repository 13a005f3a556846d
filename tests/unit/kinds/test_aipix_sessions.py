"""Reading AIPIX's sessions and answers (pure): devices a person recognises, both 419 bodies,
the Bearer-prefix reading, the 422 text, and "unknown" wherever the server says nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vms_tray.cli.daemon import session_rows
from vms_tray.dialogs.sessions import local_time
from vms_tray.errors import BadResponse
from vms_tray.kinds.aipix_sessions import (
    bare_token,
    captcha_seconds,
    describe_user_agent,
    last_activity,
    parse_limit_body,
    parse_session,
    parse_sessions,
    user_agent,
    validation_text,
)
from vms_tray.text import ago, recommended

WHERE = "HQ"


@pytest.mark.parametrize(
    ("ua", "device", "software", "version"),
    [
        ("vms-tray/0.1.0 (Linux 6.1; desk-1)", "desk-1", "vms-tray", "0.1.0"),
        ("Samsung / SM-G991B / 13 / 33 / Android", "Samsung SM-G991B (Android 13)", None, ""),
        ("iPhone14,2 17.1 / 2.3.1.45 / IOS", "iPhone14,2 (iOS 17.1)", None, "2.3.1.45"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Safari/537.36",
            "Chrome on Windows",
            None,
            "",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox on Linux",
            None,
            "",
        ),
        ("curl/8.5.0", "curl/8.5.0", None, ""),
    ],
)
def test_user_agents_become_devices(
    ua: str, device: str, software: str | None, version: str
) -> None:
    d = describe_user_agent(ua)
    assert d is not None and (d.device, d.software, d.version) == (device, software, version)


def test_our_user_agent_reads_back() -> None:
    ua = user_agent("vms-tray", "0.1.0", "Linux 6.1", "desk (1)")
    assert ua == "vms-tray/0.1.0 (Linux 6.1; desk 1)"
    d = describe_user_agent(ua)
    assert d is not None and d.device == "desk 1"


def test_a_full_session() -> None:
    s = parse_session(
        {
            "id": "s1",
            "online": False,
            "last": 1_800_000_000,
            "user_agent": "Samsung / A52 / 13 / 33 / Android",
            "client": "android",
            "ip": "10.0.0.5",
            "is_current": False,
        },
        WHERE,
    )
    assert (s.id, s.device, s.software, s.address) == (
        "s1",
        "Samsung A52 (Android 13)",
        "AIPIX Android app",
        "10.0.0.5",
    )
    assert s.idle and not s.current
    assert s.last_activity == datetime.fromtimestamp(1_800_000_000, UTC)


SECONDS = 1_800_000_000
WHEN = datetime.fromtimestamp(SECONDS, UTC)


@pytest.mark.parametrize(
    ("last", "when"),
    [
        (SECONDS, WHEN),  # seconds, as the note assumes (§3 Session ``last`` [INF])
        (SECONDS * 1000, WHEN),  # milliseconds: too large to be seconds
        (SECONDS * 1000 + 250, datetime.fromtimestamp(SECONDS + 0.25, UTC)),
        (float(SECONDS), WHEN),
        (str(SECONDS), WHEN),
        (str(SECONDS * 1000), WHEN),
        ("2027-01-15T08:00:00Z", WHEN),
        ("2027-01-15T11:00:00+03:00", WHEN),
        ("2027-01-15 08:00:00", WHEN),  # Laravel's date format, no zone: UTC
        (None, None),
        (0, None),
        (-5, None),
        (True, None),
        (float("nan"), None),
        (float("inf"), None),
        (10**30, None),  # neither seconds nor milliseconds of a time
        (10**400, None),  # beyond any float
        ("yesterday", None),
        ("", None),
        ([SECONDS], None),
        ({"t": SECONDS}, None),
    ],
)
def test_last_activity_is_total(last: object, when: datetime | None) -> None:
    assert last_activity(last) == when
    # One odd ``last`` never breaks the list (the 419's choice, every poll): it is unknown.
    (entry,) = parse_sessions([{"id": "s1", "online": False, "last": last}], WHERE)
    assert entry.last_activity == when


@pytest.mark.parametrize(
    ("ttl", "seconds"),
    [(60, 60.0), (90.5, 90.5), (60_000, 60.0), (None, 60.0), (0, 60.0), (True, 60.0)],
)
def test_captcha_ttl_in_seconds_or_milliseconds(ttl: object, seconds: float) -> None:
    # note §3 E2 ``ttl`` [INF unit], §7.7
    assert captcha_seconds(ttl) == seconds


def test_missing_fields_are_unknown_never_invented() -> None:
    # note §3 Session: user_agent/client/ip "string or null", ``last`` Android only
    s = parse_session({"id": 7, "user_agent": None, "client": None, "ip": None}, WHERE)
    assert (s.id, s.device, s.software, s.address, s.version) == (
        "7",
        "unknown",
        "unknown",
        "unknown",
        "",
    )
    assert s.started_at is None and s.last_activity is None and not s.idle and not s.current
    assert s.to_json()["started_at"] is None


def test_server_strings_are_made_harmless() -> None:
    s = parse_session({"id": "x", "user_agent": "evil\x1b[2J\u202e", "client": "web"}, WHERE)
    assert "\x1b" not in s.device and "\u202e" not in s.device


@pytest.mark.parametrize("bad", [None, {"id": ""}, {"id": True}, "text"])
def test_a_malformed_session_is_bad_response(bad: object) -> None:
    with pytest.raises(BadResponse, match="AIPIX"):
        parse_sessions([bad], WHERE)
    with pytest.raises(BadResponse):
        parse_sessions({"sessions": []}, WHERE)


def test_limit_bodies_object_and_bare_array() -> None:
    # note §3 E3 419 body, both readings
    obj = parse_limit_body({"sessions": [{"id": "a"}], "sessions_limit": 3, "key": "k"}, WHERE)
    assert obj is not None and obj.limit == 3 and [s.id for s in obj.sessions] == ["a"]
    arr = parse_limit_body([{"id": "a"}, {"id": "b"}], WHERE)
    assert arr is not None and arr.limit is None and len(arr.sessions) == 2
    assert parse_limit_body({"message": "Too Many Attempts."}, WHERE) is None
    assert parse_limit_body(None, WHERE) is None


def test_bearer_prefix_is_accepted() -> None:
    # note §7.6
    assert bare_token("abc", WHERE) == "abc"
    assert bare_token("Bearer abc", WHERE) == "abc"
    with pytest.raises(BadResponse):
        bare_token(None, WHERE)


def test_validation_text_is_one_line_of_the_field_messages() -> None:
    body = {"message": "The given data was invalid.", "errors": {"login": ["Wrong\nlogin."]}}
    assert validation_text(body) == "Wrong login."
    assert validation_text({"message": "Only this"}) == "Only this"
    assert validation_text(None) == ""


def test_unknown_times_show_as_unknown_in_the_dialog_and_the_cli() -> None:
    entry = parse_session({"id": "a", "user_agent": "curl/8", "online": True}, WHERE).to_json()
    assert local_time(entry["started_at"]) == "unknown"
    assert ago(entry["last_activity"], datetime.now(UTC)) == "unknown"
    assert "unknown" in session_rows([entry])[1]
    # An offline session is recommended before an online one, an unknown activity first.
    offline = parse_session({"id": "b", "online": False, "last": 1_800_000_000}, WHERE).to_json()
    assert recommended([entry, offline]) == "b"
