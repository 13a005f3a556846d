"""The one exception tree of vms-tray.

Every message says what happened and what to do, fits on one line, and never contains a secret
(password, token, captcha answer). The CLI prints ``str(error)`` and exits 1.

    VmsTrayError
    ├── ConfigError                    config file unreadable, corrupt or invalid (names the file)
    ├── ConfigWriteError               the config could not be locked or written (disk, permissions)
    ├── InvalidInput                   a value the user typed breaks a rule
    │   ├── InvalidURL
    │   ├── InvalidName
    │   ├── DuplicateName
    │   ├── DefaultProtected           the default connection cannot be removed
    │   └── ProxySettingError          https_proxy/all_proxy names an unusable proxy
    ├── UnknownConnection
    ├── CredentialError                keyring problems
    │   ├── NoSecureKeyring            no usable (secure) keyring backend
    │   └── PasswordNeeded             no password stored or typed: ask the user for one
    ├── ServerError                    anything about talking to a VMS server
    │   ├── NetworkError               transient: connect error, timeout, 5xx, 503 (retry later)
    │   │   ├── ServerUnreachable
    │   │   ├── ServerTimeout
    │   │   ├── ServerBusy             503 / 5xx, with retry_after
    │   │   └── BadResponse            not the protocol (HTML error page, non-JSON, wrong shape)
    │   ├── TrustError                 TLS: nothing was sent to the server
    │   │   ├── CertificateUntrusted   first contact with an unknown certificate (has fingerprint)
    │   │   └── CertificateChanged     pinned certificate differs (has both fingerprints)
    │   ├── AuthError                  the server refused who we are
    │   │   ├── InvalidCredentials
    │   │   ├── AccessDenied           e.g. ZoneMinder "API disabled"
    │   │   ├── TokenExpired
    │   │   └── SessionEnded           reason + ended_by
    │   ├── LoginThrottled             429, retry_after
    │   ├── SessionNotFound            404
    │   ├── ProtocolError              any other problem+json (type, status, detail)
    │   └── Unsupported                this server kind cannot do that
    ├── EngineError
    │   └── IllegalTransition          the session engine refused an event; state unchanged
    ├── ControlError                   the local control socket
    │   └── DaemonNotRunning
    └── AutostartError                 installing/removing a login item or launcher failed
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar


class VmsTrayError(Exception):
    """Base of every error vms-tray raises on purpose."""


# --- configuration and input -------------------------------------------------------------------


class ConfigError(VmsTrayError):
    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(
            f"{self.path}: {problem} (fix the file, or run 'vms-tray servers reset' "
            "to move it aside and start empty)"
        )


class ConfigWriteError(VmsTrayError):
    """The config file could not be locked or saved; nothing was changed."""


class InvalidInput(VmsTrayError):
    """A value typed by the user breaks one of the rules."""


class InvalidURL(InvalidInput):
    pass


class InvalidName(InvalidInput):
    pass


class DuplicateName(InvalidInput):
    pass


class DefaultProtected(InvalidInput):
    pass


class ManagedConnection(InvalidInput):
    """The user tried to change a server the administrator manages."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        super().__init__(
            f"{name!r} is managed by the administrator (in {path}) and cannot be changed here"
        )


class ProxySettingError(InvalidInput):
    """A proxy variable in the environment (https_proxy, all_proxy) that cannot be used."""


class UnknownConnection(VmsTrayError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no server named {name!r} (see 'vms-tray servers list')")


# --- credentials -------------------------------------------------------------------------------


class CredentialError(VmsTrayError):
    pass


class NoSecureKeyring(CredentialError):
    pass


class PasswordNeeded(CredentialError):
    """A sign-in needs a password and none is stored: the caller may ask for one and retry."""


# --- servers -----------------------------------------------------------------------------------


class ServerError(VmsTrayError):
    pass


class NetworkError(ServerError):
    """Transient: the daemon goes to ``reconnecting`` and keeps its tokens."""

    retry_after: float | None = None


class ServerUnreachable(NetworkError):
    pass


class ServerTimeout(NetworkError):
    pass


class ServerBusy(NetworkError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadResponse(NetworkError):
    pass


class TrustError(ServerError):
    """The TLS handshake was refused: no request reached the server."""


class CertificateUntrusted(TrustError):
    def __init__(self, message: str, fingerprint: str | None = None) -> None:
        super().__init__(message)
        self.fingerprint = fingerprint


class CertificateChanged(TrustError):
    def __init__(self, message: str, pinned: str, presented: str | None) -> None:
        super().__init__(message)
        self.pinned = pinned
        self.presented = presented


class AuthError(ServerError):
    """The server refused who we are: the session (if any) is over."""


class InvalidCredentials(AuthError):
    pass


class AccessDenied(AuthError):
    pass


class TokenExpired(AuthError):
    pass


@dataclass(frozen=True)
class EndedBy:
    device: str
    software: str


class SessionEnded(AuthError):
    def __init__(self, message: str, reason: str, ended_by: EndedBy | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.ended_by = ended_by


class LoginThrottled(ServerError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SessionNotFound(ServerError):
    pass


class ProtocolError(ServerError):
    def __init__(
        self,
        message: str,
        problem_type: str = "",
        status: int = 0,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.problem_type = problem_type
        self.status = status
        self.extensions = dict(extensions or {})


class Unsupported(ServerError):
    pass


# --- engine and control ------------------------------------------------------------------------


class EngineError(VmsTrayError):
    pass


class IllegalTransition(EngineError):
    def __init__(self, state: str, event: str) -> None:
        self.state = state
        self.event = event
        super().__init__(f"event {event!r} is not allowed in state {state!r}")


class ControlError(VmsTrayError):
    pass


class DaemonNotRunning(ControlError):
    def __init__(self) -> None:
        super().__init__("vms-tray is not running (start it with 'vms-tray run')")


# --- desktop integration -----------------------------------------------------------------------


class AutostartError(VmsTrayError):
    """Installing or removing a login item or an application launcher failed."""


def loggable(exc: BaseException) -> str:
    """What a log line may say about ``exc``: our errors' messages are written to be safe; a
    foreign exception is named by its class only (its text could carry a secret or a token)."""
    return str(exc) if isinstance(exc, VmsTrayError) else type(exc).__name__


VmsTrayErrorT = TypeVar("VmsTrayErrorT", bound=VmsTrayError)

# How a transient error's message ends where the daemon retries by itself (net/errors.py,
# kinds/problems.py, kinds/aipix_errors.py build it in).
WILL_RETRY = "vms-tray will retry"


def without_retry(exc: VmsTrayErrorT, instead: str) -> VmsTrayErrorT:
    """``exc`` for a caller that does not retry (a switch refused before it gave anything up):
    its one-line message loses the promise to retry, and what follows, for ``instead``. Its
    class and fields stay, so whoever reads the error as data (the tray's trust choice) still
    can."""
    message = str(exc)
    cut = message.find(WILL_RETRY)
    if cut > 0:
        message = message[:cut].rstrip(" ;:,")
    exc.args = (f"{message}; {instead}", *exc.args[1:])
    return exc
