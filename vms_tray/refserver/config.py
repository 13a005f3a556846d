"""The reference server's settings: names it reports, seat limit, lifetimes, captcha policy,
throttle and password hashing (``vms-tray server run`` options map onto these)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vms_tray import __version__
from vms_tray.refserver.throttle import ThrottlePolicy
from vms_tray.refserver.tokens import DEFAULT_KDF, KdfParams

CAPTCHA_POLICIES = ("never", "always", "after-failures")
# Protocol v1.1 features (docs/protocol.md) this server implements; /server lists them, and a
# client uses only those listed, so a feature is named here only once it works end to end.
FEATURES = ("events", "seat-estimates", "queue", "handover")


@dataclass(frozen=True)
class ServerConfig:
    name: str = "vms-tray reference server"
    product: str = "vms-tray-refserver"
    version: str = __version__
    api_version: str = "1.1"
    features: tuple[str, ...] = FEATURES
    captcha: str = "never"
    max_sessions: int | None = 2  # default per account; None: unlimited
    idle_timeout: float | None = 900.0  # None: sessions never idle out
    access_ttl: float = 300.0
    refresh_ttl: float = 12 * 3600.0
    conflict_ttl: float = 120.0
    # How long a spent refresh token may be presented again by a client that lost the reply.
    refresh_grace: float = 60.0
    tombstone_ttl: float = 7 * 86400.0
    # Protocol v1.1: how long a freed seat is held for the head of the queue, and how long the
    # holder of a session asked to hand over has before the server ends it.
    seat_hold: float = 60.0
    handover_grace: float = 60.0
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    kdf: KdfParams = DEFAULT_KDF

    def __post_init__(self) -> None:
        if self.captcha not in CAPTCHA_POLICIES:
            raise ValueError(f"captcha policy must be one of {', '.join(CAPTCHA_POLICIES)}")
        # Durations go out as whole seconds; below one they would read as "0".
        durations = {
            "idle timeout": self.idle_timeout,
            "access token lifetime": self.access_ttl,
            "refresh token lifetime": self.refresh_ttl,
            "conflict token lifetime": self.conflict_ttl,
            "seat hold": self.seat_hold,
            "handover grace": self.handover_grace,
        }
        for what, value in durations.items():
            if value is not None and value < 1:
                raise ValueError(f"the {what} must be at least 1 second")
        if self.max_sessions is not None and self.max_sessions < 1:
            raise ValueError("the session limit must be at least 1 (None: no limit)")


DEFAULT_CONFIG = ServerConfig()
