"""The one exception tree: every error is a VmsTrayError of its branch, carries its fields, and
says in one line what happened and what to do, with no secret in it."""

from __future__ import annotations

import pytest

from vms_tray import errors as X


def test_every_error_of_ours_is_a_vms_tray_error_on_its_branch() -> None:
    branches = {
        X.InvalidURL: X.InvalidInput,
        X.InvalidName: X.InvalidInput,
        X.DuplicateName: X.InvalidInput,
        X.DefaultProtected: X.InvalidInput,
        X.ProxySettingError: X.InvalidInput,
        X.NoSecureKeyring: X.CredentialError,
        X.PasswordNeeded: X.CredentialError,
        X.ServerUnreachable: X.NetworkError,
        X.ServerTimeout: X.NetworkError,
        X.ServerBusy: X.NetworkError,
        X.BadResponse: X.NetworkError,
        X.CertificateUntrusted: X.TrustError,
        X.CertificateChanged: X.TrustError,
        X.InvalidCredentials: X.AuthError,
        X.AccessDenied: X.AuthError,
        X.TokenExpired: X.AuthError,
        X.SessionEnded: X.AuthError,
        X.NetworkError: X.ServerError,
        X.TrustError: X.ServerError,
        X.AuthError: X.ServerError,
        X.LoginThrottled: X.ServerError,
        X.SessionNotFound: X.ServerError,
        X.ProtocolError: X.ServerError,
        X.Unsupported: X.ServerError,
        X.IllegalTransition: X.EngineError,
        X.DaemonNotRunning: X.ControlError,
    }
    for cls, branch in branches.items():
        assert issubclass(cls, branch), cls
    for cls in (*branches, X.ConfigError, X.ConfigWriteError, X.UnknownConnection):
        assert issubclass(cls, X.VmsTrayError), cls
    assert issubclass(X.AutostartError, X.VmsTrayError)


def test_a_config_error_names_the_file_and_the_way_out() -> None:
    exc = X.ConfigError("/home/anna/.config/vms-tray/servers.toml", "line 3: a name is missing")
    assert exc.path == "/home/anna/.config/vms-tray/servers.toml"
    assert exc.problem == "line 3: a name is missing"
    assert str(exc) == (
        "/home/anna/.config/vms-tray/servers.toml: line 3: a name is missing (fix the file, or "
        "run 'vms-tray servers reset' to move it aside and start empty)"
    )


def test_an_unknown_connection_says_where_to_look() -> None:
    exc = X.UnknownConnection("annex")
    assert exc.name == "annex"
    assert str(exc) == "no server named 'annex' (see 'vms-tray servers list')"


def test_retry_after_is_carried_where_the_server_gave_one() -> None:
    assert X.ServerBusy("busy", 30).retry_after == 30
    assert X.ServerBusy("busy").retry_after is None
    assert X.LoginThrottled("slow down", 60).retry_after == 60
    # Any network error may be asked: the daemon's backoff reads it without a type check.
    assert X.ServerUnreachable("refused").retry_after is None


def test_certificate_errors_carry_their_fingerprints() -> None:
    untrusted = X.CertificateUntrusted("not trusted", fingerprint="AB:CD")
    assert untrusted.fingerprint == "AB:CD" and str(untrusted) == "not trusted"
    assert X.CertificateUntrusted("not trusted").fingerprint is None
    changed = X.CertificateChanged("changed", pinned="AB:CD", presented="EF:01")
    assert (changed.pinned, changed.presented) == ("AB:CD", "EF:01")


def test_an_ended_session_says_why_and_by_whom() -> None:
    by = X.EndedBy("OPS-PC-12", "vms-tray")
    exc = X.SessionEnded("ended elsewhere", "ended-elsewhere", by)
    assert (exc.reason, exc.ended_by, str(exc)) == ("ended-elsewhere", by, "ended elsewhere")
    assert X.SessionEnded("expired", "expired").ended_by is None


def test_a_protocol_error_keeps_the_problem_and_its_own_copy_of_the_extensions() -> None:
    extensions = {"max_sessions": 3}
    exc = X.ProtocolError("odd", "https://vms.example/problems/odd", 409, extensions)
    extensions["max_sessions"] = 99
    assert (exc.problem_type, exc.status, exc.extensions) == (
        "https://vms.example/problems/odd",
        409,
        {"max_sessions": 3},
    )
    bare = X.ProtocolError("odd")
    assert (bare.problem_type, bare.status, bare.extensions) == ("", 0, {})


def test_an_illegal_transition_names_the_state_and_the_event() -> None:
    exc = X.IllegalTransition("signed_out", "Polled")
    assert (exc.state, exc.event) == ("signed_out", "Polled")
    assert str(exc) == "event 'Polled' is not allowed in state 'signed_out'"


def test_daemon_not_running_says_how_to_start_it() -> None:
    assert str(X.DaemonNotRunning()) == "vms-tray is not running (start it with 'vms-tray run')"


@pytest.mark.parametrize(
    ("exc", "shown"),
    [
        (
            X.ServerUnreachable("office.example refused the connection"),
            "office.example refused the connection",
        ),
        (KeyError("access-token-123"), "KeyError"),
        (ValueError("Bearer abc.def.ghi"), "ValueError"),
    ],
)
def test_a_log_line_shows_our_message_but_only_the_class_of_a_foreign_error(
    exc: BaseException, shown: str
) -> None:
    assert X.loggable(exc) == shown


def test_without_retry_adds_to_the_message_and_keeps_class_and_fields() -> None:
    exc = X.CertificateChanged("the certificate of Lab changed", "AA", "BB")
    same = X.without_retry(exc, "you are still signed in to Office")
    assert same is exc and type(same) is X.CertificateChanged
    assert str(same) == "the certificate of Lab changed; you are still signed in to Office"
    assert (same.pinned, same.presented) == ("AA", "BB")


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (f"cannot reach lab:443 (refused): check the address; {X.WILL_RETRY}", "cannot reach "
         "lab:443 (refused): check the address; you are still signed in to Office"),
        (f"Lab is busy: {X.WILL_RETRY} in 30 s", "Lab is busy; you are still signed in to Office"),
        (f"Lab is under maintenance (HTTP 503): {X.WILL_RETRY} in 1 min; your password is fine",
         "Lab is under maintenance (HTTP 503); you are still signed in to Office"),
    ],
)  # fmt: skip
def test_without_retry_drops_the_promise_to_retry(message: str, shown: str) -> None:
    exc = X.without_retry(
        X.ServerBusy(message, retry_after=30), "you are still signed in to Office"
    )
    assert str(exc) == shown and exc.retry_after == 30
