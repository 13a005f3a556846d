"""The simulator's settings, and the readings of what the AIPIX sources leave open.

Each ``Readings`` field is one [GAP]/[INF]/disagreement of the note; its default is the reading
the note calls likelier, and ``parse_pairs`` sets any of them from ``KEY=VALUE`` text (the CLI's
``--aipix`` option), so a test can run the client against every reading.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from vms_tray.errors import InvalidInput

# note §3 E2: "at most 20 requests from one IP within 10 minutes".
THROTTLE_LIMIT = 20
THROTTLE_WINDOW = 600.0
# note §3 E2: ``ttl`` 60 (seconds [INF unit], "the code is valid for a minute").
CAPTCHA_TTL = 60


@dataclass(frozen=True)
class Readings:
    # note §3 E3 "429 response on this endpoint" and §7.2: the session limit is 419 in all code,
    # 429 in the 23.09 intro text.
    limit_status: Literal[419, 429] = 419
    # note §3 E3 419 body: an object (both SDKs) or a bare array of sessions (Android fallback).
    limit_body: Literal["object", "array"] = "object"
    # note §3 E3 200 notes, §7.6: ``access_token`` raw (SDKs) or "Bearer <token>" (doc example).
    token_prefix: bool = False
    # note §3 E2 429 and §7.5: the 20-per-10-minutes limit counts /captcha only, or /captcha and
    # /token together ("token retrieval attempts").
    throttle_scope: Literal["captcha", "shared"] = "captcha"
    # note §7.5: the 429 body is not shown: none, or Laravel's ``{"message"}`` with Retry-After
    # (the backend "looks like Laravel" [INF], note header).
    throttle_body: Literal["empty", "laravel"] = "empty"
    # note §3 E3 call shape 3 ("do not resend captcha on the session_id retry"): the retry needs
    # no captcha at all, or only within iOS's ``captcha_will_required_in`` of the 419.
    retry_captcha: Literal["exempt", "window"] = "exempt"
    # note §3 E3 "422 ... Used for wrong credentials [INF]"; the other reading is 401.
    bad_login_status: Literal[422, 401] = 422
    # note §3 Session object: ``last`` is Android-only (iOS's model has none).
    session_last: bool = True
    # note §3 Session object ``last``: "Probably the last-activity unix time [INF]", in a unit
    # no source states: seconds (the likelier reading) or milliseconds.
    last_unit: Literal["seconds", "milliseconds"] = "seconds"
    # note §3 E2 ``ttl`` "lifetime in seconds [INF unit]" and §7.7: 60 seconds, or the same
    # minute ("the code is valid for a minute") stated in milliseconds (60000).
    captcha_ttl_unit: Literal["seconds", "milliseconds"] = "seconds"
    # note §1 X-UUID: "The server appears to key the device/session on it [INF]": a new sign-in
    # from the same X-UUID replaces that device's session (True) or takes a seat of its own.
    uuid_keyed: bool = False
    # note §3 E6 "Response: body not specified [GAP]": 204 empty, or 200 ``{"status": "ok"}``.
    logout_reply: Literal["empty", "status"] = "empty"
    # note §3 E3 [GAP] "Token lifetime is not documented": tokens never lapse (None), or lapse
    # after this many seconds without a request.
    token_idle_ttl: float | None = None
    # note §1 Accept / Content-Type: 23.09-24.03 require Accept, 24.12 words it Content-Type;
    # a request without the required header(s) gets its errors as an HTML page.
    required_headers: Literal["accept", "content-type", "both"] = "accept"
    # note §3 E12: ``GET /wsurl`` names ``ws_url`` and its parts (``host, port, path,
    # is_encrypted``) without saying which a client uses: the full URL, only the parts (an empty
    # ``ws_url``), or no websocket offered at all (404: the client must fall back to polling).
    websocket: Literal["full", "parts", "off"] = "full"


@dataclass(frozen=True)
class AipixConfig:
    name: str = "AIPIX simulator"
    # note §3 E1 ``version``: the backend version (SDK snapshots send 23.12.1.0 / 24.03.0.0).
    version: str = "24.03.0.0"
    # note §3 E1 ``is_captcha_available`` (the admin's "Captcha display" switch).
    captcha: bool = False
    # note §3 E1 ``is_external_auth_enabled`` (SSO, E9/E10: not simulated beyond this flag).
    external_auth: bool = False
    # note §3 E3 419 ``sessions_limit``; a user's own limit (``server user limit``) wins, as the
    # per-user override does (note §6, 26.05). None: no limit.
    sessions_limit: int | None = 2
    # note §1 X-Version / 409 "force update": clients older than this get 409 (None: never).
    min_client_version: str | None = None
    # note §1 402 "licence limit or a licence problem": True answers 402 to signed-in work.
    licence_problem: bool = False
    # note §1 "DISABLE_THROTTLE switch" of aipix-deploy.
    throttle: bool = True
    # note §3 Session ``online`` has no definition [INF]: online = a request within this window.
    online_window: float = 300.0
    # note §3 E3 iOS ``captcha_will_required_in``: how long a passed captcha is remembered.
    captcha_grace: int = 60
    readings: Readings = field(default_factory=Readings)


def _convert(name: str, current: Any, text: str) -> Any:
    if name == "token_idle_ttl":
        if text.lower() in ("", "none", "never"):
            return None
        return _number(name, text, float)
    if name == "sessions_limit":
        return None if text.lower() in ("none", "0") else _number(name, text, int)
    if name == "min_client_version":
        return None if text.lower() in ("", "none") else text
    if isinstance(current, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise InvalidInput(f"aipix setting {name} is true or false, not {text!r}")
    if isinstance(current, int | float):
        return _number(name, text, type(current))
    return text


def _number(name: str, text: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(text)
    except ValueError:
        raise InvalidInput(f"aipix setting {name} is a number, not {text!r}") from None


_CHOICES: dict[str, tuple[object, ...]] = {
    "limit_status": (419, 429),
    "limit_body": ("object", "array"),
    "throttle_scope": ("captcha", "shared"),
    "throttle_body": ("empty", "laravel"),
    "retry_captcha": ("exempt", "window"),
    "bad_login_status": (422, 401),
    "last_unit": ("seconds", "milliseconds"),
    "captcha_ttl_unit": ("seconds", "milliseconds"),
    "logout_reply": ("empty", "status"),
    "required_headers": ("accept", "content-type", "both"),
    "websocket": ("full", "parts", "off"),
}


def parse_pairs(pairs: Iterable[str], base: AipixConfig | None = None) -> AipixConfig:
    """``AipixConfig`` with ``KEY=VALUE`` settings applied; a key may name a config field or a
    reading. Raises InvalidInput naming the known keys."""
    config = base or AipixConfig()
    top: dict[str, Any] = {}
    readings: dict[str, Any] = {}
    top_names = {f.name for f in fields(AipixConfig)} - {"readings"}
    reading_names = {f.name for f in fields(Readings)}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in top_names | reading_names:
            known = ", ".join(sorted(top_names | reading_names))
            raise InvalidInput(f"--aipix takes KEY=VALUE, KEY one of: {known}")
        target, owner = (readings, config.readings) if key in reading_names else (top, config)
        value = _convert(key, getattr(owner, key), text.strip())
        choices = _CHOICES.get(key)
        if choices is not None and value not in choices:
            raise InvalidInput(
                f"aipix setting {key} is one of {', '.join(map(str, choices))}, not {text!r}"
            )
        target[key] = value
    new_readings = dataclasses.replace(config.readings, **readings)
    return dataclasses.replace(config, **top, readings=new_readings)
