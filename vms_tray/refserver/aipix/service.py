"""The AIPIX VMS Client API's semantics, independent of HTTP (note §2-§4).

Every method returns the JSON body of a success or raises ``AipixError`` carrying the status,
body and headers of the answer. Comments cite the note's section for each behaviour.
"""

from __future__ import annotations

import logging
import secrets
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vms_tray.refserver.captcha import CaptchaCheck
from vms_tray.refserver.clock import ServerClock
from vms_tray.refserver.storage import SessionRow
from vms_tray.refserver.throttle import RateLimit, address_key
from vms_tray.refserver.tokens import (
    DEFAULT_KDF,
    KdfParams,
    dummy_hash,
    hash_password,
    new_id,
    new_token,
    token_hash,
    verify_password,
)

from .captcha import CaptchaKeys
from .config import CAPTCHA_TTL, THROTTLE_LIMIT, THROTTLE_WINDOW, AipixConfig
from .store import AipixSession, AipixStore

log = logging.getLogger(__name__)

# Sessions do not lapse by themselves unless a reading says so (note §3 E3 [GAP] lifetime).
FOREVER = 100 * 365 * 86400.0

# Laravel-shaped messages (note header: the backend looks like Laravel [INF]), in the languages
# ``available_locales`` names (note §1 "Language", §3 E1).
MESSAGES: dict[str, dict[str, str]] = {
    "invalid": {"en": "The given data was invalid.", "ru": "Переданные данные некорректны."},
    "required": {"en": "The {field} field is required.", "ru": "Поле {field} обязательно."},
    "credentials": {
        "en": "These credentials do not match our records.",
        "ru": "Неверный логин или пароль.",
    },
    "captcha_wrong": {"en": "Invalid captcha.", "ru": "Неверная капча."},
    "captcha_expired": {"en": "The captcha has expired.", "ru": "Срок действия капчи истёк."},
    "session_invalid": {
        "en": "The selected session id is invalid.",
        "ru": "Выбранная сессия не найдена.",
    },
    "sessions_limit": {
        "en": "The number of sessions has been exceeded.",
        "ru": "Превышено количество сессий.",
    },
    "throttled": {"en": "Too Many Attempts.", "ru": "Слишком много попыток."},
    "unauthenticated": {"en": "Unauthenticated.", "ru": "Не авторизован."},
    "update": {
        "en": "Update the application to continue.",
        "ru": "Обновите приложение, чтобы продолжить.",
    },
    "licence": {"en": "License limit exceeded.", "ru": "Превышен лимит лицензии."},
    "not_found": {"en": "Not Found.", "ru": "Не найдено."},
    "maintenance": {"en": "Technical works.", "ru": "Технические работы."},
}


def message(key: str, lang: str, **fmt: str) -> str:
    table = MESSAGES[key]
    return table.get(lang, table["en"]).format(**fmt)


class AipixError(Exception):
    """An error answer: ``body`` None is an empty body."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def invalid(errors: Mapping[str, str], lang: str, status: int = 422) -> AipixError:
    # note §1 "Validation error (422) shape": {message, errors{field: [..]}}.
    return AipixError(
        status,
        {"message": message("invalid", lang), "errors": {k: [v] for k, v in errors.items()}},
    )


@dataclass(frozen=True)
class Device:
    """What the request's headers say about the client (note §1)."""

    address: str
    user_agent: str = ""
    client: str = ""
    uuid: str = ""
    version: str = ""
    lang: str = "en"


@dataclass(frozen=True)
class Caller:
    session_id: str
    login: str
    lang: str = "en"


def _version_tuple(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return None


@dataclass
class _Passed:
    until: float


class AipixService:
    def __init__(
        self,
        store: AipixStore,
        clock: ServerClock,
        config: AipixConfig | None = None,
        *,
        captcha_log: Path | None = None,
        kdf: KdfParams = DEFAULT_KDF,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config or AipixConfig()
        self.captchas = CaptchaKeys(clock, CAPTCHA_TTL, answer_log=captcha_log)
        self.throttle = RateLimit(clock, THROTTLE_LIMIT, THROTTLE_WINDOW)
        self._kdf = kdf
        self._dummy = dummy_hash(kdf)
        # (login, address) -> when a captcha passed before a 419 stops counting (note §3 E3,
        # iOS ``captcha_will_required_in``; the "window" reading of the session_id retry).
        self._passed: dict[tuple[str, str], _Passed] = {}
        # Told the token id of each session another device ends (the websocket push, E12).
        self.on_ended: Callable[[str], None] | None = None

    def add_user(self, login: str, password: str, max_sessions: int | None = None) -> None:
        self.store.add_user(
            login, hash_password(password, self._kdf), max_sessions, self.clock.now()
        )

    # --- gates ---------------------------------------------------------------------------------

    def gate(self, device: Device, *, licence: bool = True) -> None:
        """note §1 X-Version: 409 "force update"; note §1 402 licence problem (signed-in work
        and sign-in, not the public captcha)."""
        minimum = self.config.min_client_version
        if minimum is not None:
            have = _version_tuple(device.version) if device.version else None
            want = _version_tuple(minimum)
            if have is None or (want is not None and have < want):
                raise AipixError(409, {"message": message("update", device.lang)})
        if licence and self.config.licence_problem:
            raise AipixError(402, {"message": message("licence", device.lang)})

    def _hit_throttle(self, device: Device) -> None:
        # note §3 E2 429: "at most 20 requests from one IP within 10 minutes"; note §1
        # DISABLE_THROTTLE turns it off.
        if not self.config.throttle:
            return
        wait = self.throttle.hit(address_key(device.address))
        if wait is None:
            return
        log.info("throttled a client at %s", device.address)
        if self.config.readings.throttle_body == "laravel":
            seconds = str(max(1, int(wait + 0.999)))
            raise AipixError(
                429,
                {"message": message("throttled", device.lang)},
                {"Retry-After": seconds, "X-RateLimit-Limit": str(THROTTLE_LIMIT)},
            )
        raise AipixError(429, None)  # note §7.5: no body shown for the 429

    # --- public --------------------------------------------------------------------------------

    def basic(self) -> dict[str, Any]:
        # note §3 E1.
        return {
            "is_captcha_available": self.config.captcha,
            "is_external_auth_enabled": self.config.external_auth,
            "version": self.config.version,
            "available_locales": ["en", "ru"],
        }

    def captcha(self, device: Device) -> dict[str, Any]:
        # note §3 E2: no auth; throttled per address.
        self._hit_throttle(device)
        body = self.captchas.issue().as_json()
        if self.config.readings.captcha_ttl_unit == "milliseconds":
            body["ttl"] = CAPTCHA_TTL * 1000  # note §7.7: the same minute, in milliseconds
        return body

    # --- sign-in (note §3 E3, §4) -------------------------------------------------------------

    def _limit_for(self, login: str) -> int | None:
        user = self.store.get_user(login)
        if user is not None and user.max_sessions is not None:
            return None if user.max_sessions <= 0 else user.max_sessions
        return self.config.sessions_limit

    def _sweep(self, now: float) -> None:
        # note §3 E3 [GAP] lifetime: the "token_idle_ttl" reading ends idle sessions.
        self.store.expire_sessions(now, self.config.readings.token_idle_ttl)

    def _captcha_needed(self, login: str, device: Device, session_id: str | None) -> bool:
        if not self.config.captcha:
            return False  # note §3 E3: captcha/key "Optional when captcha is disabled"
        if session_id is None:
            return True
        # note §3 E3 call shape 3: "do not resend captcha on the session_id retry".
        if self.config.readings.retry_captcha == "exempt":
            return False
        passed = self._passed.get((login, address_key(device.address)))
        return passed is None or passed.until < self.clock.now()

    def _check_captcha(self, body: Mapping[str, Any], lang: str) -> None:
        answer, key = body.get("captcha"), body.get("key")
        if not isinstance(answer, str) or not answer or not isinstance(key, str) or not key:
            raise invalid({"captcha": message("required", lang, field="captcha")}, lang)
        result = self.captchas.check(key, answer)
        if result is CaptchaCheck.EXPIRED:
            # note §1: "Captcha problems are signalled by the key captcha inside errors".
            raise invalid({"captcha": message("captcha_expired", lang)}, lang)
        if result is not CaptchaCheck.OK:
            raise invalid({"captcha": message("captcha_wrong", lang)}, lang)

    def token(self, body: Mapping[str, Any], device: Device) -> dict[str, Any]:
        lang = device.lang
        self.gate(device)
        if self.config.readings.throttle_scope == "shared":
            self._hit_throttle(device)  # note §7.5 the "shared" reading
        login, password = body.get("login"), body.get("password")
        missing = {
            name: message("required", lang, field=name)
            for name, value in (("login", login), ("password", password))
            if not isinstance(value, str) or not value
        }
        if missing:
            raise invalid(missing, lang)
        assert isinstance(login, str) and isinstance(password, str)
        raw_sid = body.get("session_id")
        # note §3 E3: the doc's example value is "null|session_id": null means none.
        session_id = str(raw_sid) if raw_sid not in (None, "", "null") else None
        if self._captcha_needed(login, device, session_id):
            self._check_captcha(body, lang)
        user = self.store.get_user(login)
        if not verify_password(password, user.password_hash if user else self._dummy) or not user:
            log.info("sign-in refused for a login from %s", device.address)
            status = self.config.readings.bad_login_status  # note §3 E3 422 [INF]
            raise invalid({"login": message("credentials", lang)}, lang, status)
        now = self.clock.now()
        with self.store.atomic():
            self._sweep(now)
            if session_id is not None:
                self._replace(login, session_id, device, now)
            if self.config.readings.uuid_keyed and device.uuid:
                # note §1 X-UUID [INF]: the server keys the device's session on it.
                for old in self.store.sessions_of_device(login, device.uuid):
                    self.store.end_session(old, now, "logout")
            limit = self._limit_for(login)
            if limit is not None and self.store.count_active(login) >= limit:
                self._remember_passed(login, device, now)
                raise self._limit_error(login, limit, now, lang)
            return self._open(login, device, now)

    def _remember_passed(self, login: str, device: Device, now: float) -> None:
        for k in [k for k, v in self._passed.items() if v.until < now]:
            del self._passed[k]
        self._passed[(login, address_key(device.address))] = _Passed(
            now + self.config.captcha_grace
        )

    def _replace(self, login: str, session_id: str, device: Device, now: float) -> None:
        """note §3 E3 ``session_id``: the session "that should be replaced or deleted to make
        room" (an unknown one is a validation error, Laravel's ``exists`` rule [INF])."""
        target = self.store.get_session(session_id)
        if target is None or target.login != login or not target.active:
            raise invalid({"session_id": message("session_invalid", device.lang)}, device.lang)
        self.store.end_session(
            session_id, now, "ended_by_other", (device.user_agent, device.client)
        )
        self._push_ended(session_id)
        log.info("session %s replaced by a new sign-in", session_id)

    def _push_ended(self, session_id: str) -> None:
        # note §3 E5: "On the affected device: its websocket channel receives ... logout".
        extra = self.store.session_extra(session_id)
        if self.on_ended is not None and extra is not None:
            self.on_ended(extra.token_id)

    def _limit_error(self, login: str, limit: int, now: float, lang: str) -> AipixError:
        r = self.config.readings
        sessions = self.entries(login, now, None)
        if r.limit_body == "array":
            return AipixError(r.limit_status, sessions)  # note §3 E3 Android fallback parser
        body: dict[str, Any] = {
            "message": message("sessions_limit", lang),
            "sessions": sessions,
            "sessions_limit": limit,
            "key": secrets.token_hex(20),  # the external-auth retry's login key (note §3 E10)
        }
        if r.retry_captcha == "window":
            body["captcha_will_required_in"] = self.config.captcha_grace  # iOS only
        return AipixError(r.limit_status, body)

    def open_for_demo(self, login: str, device: Device) -> None:
        """A session of another device, opened without HTTP (the demo's seat holders)."""
        with self.store.atomic():
            self._open(login, device, self.clock.now())

    def _open(self, login: str, device: Device, now: float) -> dict[str, Any]:
        session = SessionRow(
            id=new_id(),
            login=login,
            device=device.user_agent,
            software=device.client,
            version=device.version,
            address=device.address,
            started_at=now,
            last_activity=now,
            refresh_expires_at=now + FOREVER,
        )
        self.store.insert_session(session)
        token = new_token()
        self.store.insert_token(token_hash(token), "access", session.id, now + FOREVER)
        token_id = secrets.token_hex(40)  # note §3 E3: "80 hex chars in example"
        self.store.insert_extra(AipixSession(session.id, device.uuid, token_id))
        log.info("session %s opened for a client at %s", session.id, device.address)
        # note §3 E3 200 body; §7.6 the "Bearer " prefix reading.
        shown = "Bearer " + token if self.config.readings.token_prefix else token
        return {"user": self._user(login, token_id), "access_token": shown}

    def _user(self, login: str, token_id: str) -> dict[str, Any]:
        user = self.store.get_user(login)
        created = user.created_at if user else self.clock.now()
        stamp = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return {
            "id": zlib.crc32(login.encode("utf-8")) % 100_000,
            "login": login,
            "name": login,
            "parent_id": None,
            "permissions": [],
            "created_at": stamp,
            "updated_at": stamp,
            "access_token_id": token_id,
            "can_update_password": True,
            "analytic_license": [],
        }

    # --- signed in (note §3 E4-E7) -------------------------------------------------------------

    def authenticate(self, bearer: str, device: Device) -> Caller:
        """note §1 Auth: a missing or invalid token on a protected route gives 401."""
        unauthenticated = AipixError(401, {"message": message("unauthenticated", device.lang)})
        now = self.clock.now()
        with self.store.atomic():
            self._sweep(now)
            tok = self.store.get_token(token_hash(bearer)) if bearer else None
            session = self.store.get_session(tok.session_id) if tok else None
            if session is None or not session.active:
                raise unauthenticated
            self.store.touch(session.id, now)
        self.gate(device)
        return Caller(session.id, session.login, device.lang)

    def entries(self, login: str, now: float, current: str | None) -> list[dict[str, Any]]:
        """note §3 Session object: id, online, last, user_agent, client, ip, is_current."""
        out = []
        for s in self.store.active_sessions(login):
            entry: dict[str, Any] = {
                "id": s.id,
                "online": now - s.last_activity <= self.config.online_window,  # [INF]
                "user_agent": s.device or None,
                "client": s.software or None,
                "ip": s.address or None,
                "is_current": s.id == current,
            }
            if self.config.readings.session_last:
                # Android: unix time [INF], in seconds or (the other reading) milliseconds.
                ms = self.config.readings.last_unit == "milliseconds"
                entry["last"] = int(s.last_activity * 1000) if ms else int(s.last_activity)
            out.append(entry)
        return out

    def sessions(self, caller: Caller) -> list[dict[str, Any]]:
        # note §3 E4: a JSON array of Session.
        return self.entries(caller.login, self.clock.now(), caller.session_id)

    def end_session(
        self, caller: Caller, session_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """note §3 E5: POST, id in the path; the doc's optional body ``token`` names the same
        session (SDKs send none). The device whose session ends is logged out."""
        lang = caller.lang
        named = body.get("token")
        if named is not None and str(named) != session_id:
            raise invalid({"token": message("session_invalid", lang)}, lang)
        now = self.clock.now()
        with self.store.atomic():
            target = self.store.get_session(session_id)
            if target is None or target.login != caller.login or not target.active:
                raise AipixError(404, {"message": message("not_found", lang)})  # note §1 404
            me = self.store.get_session(caller.session_id)
            by = (me.device, me.software) if me else None
            reason = "logout" if session_id == caller.session_id else "ended_by_other"
            self.store.end_session(session_id, now, reason, by if reason != "logout" else None)
            self._push_ended(session_id)
        log.info("session %s ended by request", session_id)
        return {"status": "ok"}  # note §3 E5 200

    def logout(self, caller: Caller) -> dict[str, Any] | None:
        # note §3 E6: ends the current token; optional {"uuid"}; body not specified [GAP].
        self.store.end_session(caller.session_id, self.clock.now(), "logout")
        log.info("session %s logged out", caller.session_id)
        return {"status": "ok"} if self.config.readings.logout_reply == "status" else None

    def token_id(self, caller: Caller) -> str:
        extra = self.store.session_extra(caller.session_id)
        return extra.token_id if extra else ""

    def users_self(self, caller: Caller) -> dict[str, Any]:
        # note §3 E7: the ``user`` object of the E3 200 body.
        extra = self.store.session_extra(caller.session_id)
        return self._user(caller.login, extra.token_id if extra else "")
