"""Reading AIPIX's session objects and answers into vms-tray's terms (pure, no I/O).

A session (note §3, the ``VMSSession`` model) has ``id``, ``online``, ``last`` (Android only),
``user_agent``, ``client``, ``ip`` and ``is_current``; no start time, device name or software
version [GAP]. vms-tray shows a device a person recognises from ``user_agent`` (the formats of
vms-tray, the vendor's SDKs and browsers are known), the software from ``client`` (the X-Client
value), and "unknown" for whatever is missing: nothing is invented.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vms_tray.errors import BadResponse
from vms_tray.i18n import N_, _
from vms_tray.session.records import Captcha, SessionEntry
from vms_tray.text import printable

MAX_FIELD = 120

# note §1 X-Client: documented values and what the SDKs send.
_CLIENTS = {
    "thick-legal": N_("AIPIX desktop client"),
    "web": N_("web browser"),
    "ios-cctv": N_("AIPIX iOS app"),
    "ios": N_("AIPIX iOS app"),
    "android-cctv": N_("AIPIX Android app"),
    "android": N_("AIPIX Android app"),
}

# ``vms-tray/0.1.0 (Linux 6.1; desk-1)``: what this kind sends (see ``user_agent``).
_OURS = re.compile(r"^(?P<name>[\w.+-]+)/(?P<version>\S+) \((?P<os>[^;()]*); (?P<device>.+)\)$")
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"))
_SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Mac OS X", "macOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def user_agent(software: str, version: str, system: str, device: str) -> str:
    """The User-Agent this kind sends: names vms-tray, its version, the OS and the device
    (note §1 User-Agent: "The server shows it later in the session list")."""
    clean = " ".join(device.replace(")", " ").replace("(", " ").split()) or "unknown"
    return f"{software}/{version} ({system}; {clean})"


@dataclass(frozen=True)
class Described:
    device: str
    software: str | None  # None: say what ``client`` says
    version: str


def describe_user_agent(ua: str) -> Described | None:
    """A device a person recognises, from a User-Agent; None when there is none."""
    ua = ua.strip()
    if not ua:
        return None
    m = _OURS.match(ua)
    if m and m["name"] != "Mozilla":
        return Described(m["device"], m["name"], m["version"])
    parts = [p.strip() for p in ua.split(" / ")]
    if len(parts) == 5 and parts[4].lower() == "android":
        # note §1 User-Agent, Android SDK: "Manufacturer / Model / OSrelease / SDKver / Android"
        return Described(f"{parts[0]} {parts[1]} (Android {parts[2]})", None, "")
    if len(parts) == 3 and parts[2].lower() == "ios":
        # note §1 User-Agent, iOS SDK: "Model OSver / appVer.build / IOS"
        model, _sep, osver = parts[0].rpartition(" ")
        device = f"{model} (iOS {osver})" if model else parts[0]
        return Described(device, None, parts[1])
    if ua.startswith("Mozilla/"):
        browser = next((name for key, name in _BROWSERS if key in ua), None)
        if browser is None and "Safari/" in ua:
            browser = "Safari"
        system = next((name for key, name in _SYSTEMS if key in ua), None)
        if browser and system:
            return Described(
                _("%(browser)s on %(system)s") % {"browser": browser, "system": system}, None, ""
            )
    return Described(ua, None, "")


def client_label(client: str | None) -> str:
    if not client:
        return _("unknown")
    label = _CLIENTS.get(client.lower())
    return _(label) if label else client


def _short(text: str) -> str:
    text = printable(text)
    return text if len(text) <= MAX_FIELD else text[: MAX_FIELD - 1] + "…"


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


# Unix times in seconds stay below this until the year 5138; a larger number is milliseconds
# (note §3 Session ``last``: "Probably the last-activity unix time [INF]", unit unstated).
_SECONDS_BELOW = 10**11


def last_activity(value: Any) -> datetime | None:
    """``last`` as a time, or None (unknown) for anything that is not one: never raises.

    Accepted: a unix time in seconds, in milliseconds (a number too large to be seconds), either
    as a numeric string, and an RFC 3339 / ISO 8601 date (no zone: UTC). Zero, negatives, NaN,
    booleans, times beyond what ``datetime`` holds and other text are unknown."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            return _iso_time(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an int beyond any float
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    if seconds >= _SECONDS_BELOW:
        seconds /= 1000.0
    if seconds >= _SECONDS_BELOW:
        return None  # neither seconds nor milliseconds of any plausible time
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _iso_time(text: str) -> datetime | None:
    if not 10 <= len(text) <= 40:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_session(obj: Any, where: str) -> SessionEntry:
    if not isinstance(obj, Mapping):
        raise BadResponse(
            f"{where} sent a session that is not a JSON object: is it an AIPIX server?"
        )
    raw_id = obj.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or raw_id == "":
        raise BadResponse(f"{where} sent a session without an id: is it an AIPIX server?")
    described = describe_user_agent(_opt_str(obj, "user_agent") or "")
    software = described.software if described and described.software else None
    # None: unknown, shown so, and sorted as least recently active.
    when = last_activity(obj.get("last"))
    online = obj.get("online")
    return SessionEntry(
        id=str(raw_id),
        device=_short(described.device) if described else _("unknown"),
        software=_short(software or client_label(_opt_str(obj, "client"))),
        version=_short(described.version) if described else "",
        address=_short(_opt_str(obj, "ip") or _("unknown")),
        started_at=None,  # [GAP] AIPIX reports no start time
        last_activity=when,
        # An offline session is the one to end first (the seed's recommendation).
        idle=online is False,
        current=obj.get("is_current") is True,
    )


def parse_sessions(data: Any, where: str) -> tuple[SessionEntry, ...]:
    if not isinstance(data, list):
        raise BadResponse(
            f"{where} sent a session list that is not a JSON array: is it an AIPIX server?"
        )
    return tuple(parse_session(item, where) for item in data)


@dataclass(frozen=True)
class LimitBody:
    sessions: tuple[SessionEntry, ...]
    limit: int | None


def parse_limit_body(data: Any, where: str) -> LimitBody | None:
    """The session-limit answer (note §3 E3 419): an object with ``sessions`` and
    ``sessions_limit``, or a bare array of sessions (Android's fallback parser). None when
    ``data`` is neither (a 429 that is only throttling)."""
    if isinstance(data, list):
        return LimitBody(parse_sessions(data, where), None)
    if isinstance(data, Mapping) and isinstance(data.get("sessions"), list):
        mx = data.get("sessions_limit")
        limit = mx if isinstance(mx, int) and not isinstance(mx, bool) and mx > 0 else None
        return LimitBody(parse_sessions(data["sessions"], where), limit)
    return None


def bare_token(value: Any, where: str) -> str:
    """``access_token`` as the bearer: raw (SDKs) or with a "Bearer " prefix (the doc's
    example value), note §7.6."""
    if not isinstance(value, str) or not value.strip():
        raise BadResponse(f"{where} signed in without an access token: is it an AIPIX server?")
    token = value.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token


def validation_text(data: Any) -> str:
    """The server's own words for a 422 (note §1 shape), on one line: the field messages
    (``message`` alone is "not informative", the doc says), else ``message``."""
    lines: list[str] = []
    if isinstance(data, Mapping):
        errors = data.get("errors")
        if isinstance(errors, Mapping):
            for value in errors.values():
                items = value if isinstance(value, list) else [value]
                lines += [str(v) for v in items if isinstance(v, str) and v.strip()]
        if not lines and isinstance(data.get("message"), str):
            lines.append(data["message"])
    text = " ".join(" ".join(lines).split())
    return _short(text) if text else ""


def error_fields(data: Any) -> frozenset[str]:
    if isinstance(data, Mapping) and isinstance(data.get("errors"), Mapping):
        return frozenset(str(k) for k in data["errors"])
    return frozenset()


def http_time(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header as a time (the server's clock), or None."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# note §3 E2 ``ttl`` "60 ... lifetime in seconds [INF unit]" (§7.7), "valid for a minute" in the
# desktop guides: a ttl this large is not seconds (over 16 minutes) but milliseconds.
_TTL_MILLISECONDS = 1000


def captcha_seconds(ttl: Any) -> float:
    """A captcha's ``ttl`` in seconds: seconds as the note assumes, milliseconds detected (at
    least ``_TTL_MILLISECONDS``); a minute when it is absent or no positive number."""
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        return 60.0
    try:
        seconds = float(ttl)
    except OverflowError:
        return 60.0
    if not math.isfinite(seconds) or seconds <= 0:
        return 60.0
    return seconds / 1000.0 if seconds >= _TTL_MILLISECONDS else seconds


def parse_captcha(data: Any, where: str) -> Captcha:
    """note §3 E2: ``key``, ``img`` (a data-URI PNG; iOS strips the ``data:...;base64,``
    prefix) and ``ttl`` (seconds [INF unit], or milliseconds: ``captcha_seconds``)."""
    if not isinstance(data, Mapping):
        raise BadResponse(f"{where} sent a captcha that is not a JSON object")
    key, img, ttl = data.get("key"), data.get("img"), data.get("ttl")
    if not isinstance(key, str) or not key or not isinstance(img, str):
        raise BadResponse(f"{where} sent a captcha without its key or image")
    encoded = img.partition(",")[2] if img.startswith("data:") else img
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadResponse(f"{where} sent a captcha image that is not base64") from None
    return Captcha(id=key, image_png=png, expires_in=captcha_seconds(ttl))
