"""net.errors: every transport failure becomes the right vms-tray exception."""

from __future__ import annotations

import socket
import ssl
import string

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.kinds.fakes import Canned
from tests.unit.net.helpers import (
    FINGERPRINT,
    NOW,
    URL,
    adapter,
    fail,
    fake_certificate,
    unreadable_certificate,
)
from vms_tray.connections.model import Trust
from vms_tray.errors import (
    BadResponse,
    CertificateChanged,
    CertificateUntrusted,
    InvalidURL,
    ServerTimeout,
    ServerUnreachable,
    TrustError,
)
from vms_tray.net.errors import MAX_DETAIL, PinMismatch, Scrubber, proxy_label, proxy_refusal
from vms_tray.net.http import HttpAdapter

# --- transport failures --------------------------------------------------------------------------


def test_connection_refused() -> None:
    cause = ConnectionRefusedError(111, "Connection refused")
    exc = httpx.ConnectError("[Errno 111] Connection refused")
    exc.__cause__ = cause
    err = fail(exc)
    assert type(err) is ServerUnreachable
    assert "vms.example.com" in str(err) and "connection refused" in str(err)


def test_dns_failure() -> None:
    exc = httpx.ConnectError("x")
    exc.__context__ = socket.gaierror(-2, "Name or service not known")
    err = fail(exc)
    assert type(err) is ServerUnreachable and "does not resolve" in str(err)


def test_connect_timeout() -> None:
    err = fail(httpx.ConnectTimeout("timed out"))
    assert type(err) is ServerTimeout and "7 s" in str(err)


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("t"), httpx.WriteTimeout("t")])
def test_read_and_write_timeouts(exc: Exception) -> None:
    err = fail(exc)
    assert type(err) is ServerTimeout and "did not answer within 7 s" in str(err)


def test_pool_timeout() -> None:
    assert type(fail(httpx.PoolTimeout("t"))) is ServerTimeout


def test_read_error() -> None:
    assert type(fail(httpx.ReadError("reset"))) is ServerUnreachable


def test_unsupported_scheme() -> None:
    assert isinstance(fail(httpx.UnsupportedProtocol("ftp")), InvalidURL)
    assert isinstance(fail(httpx.InvalidURL("bad")), InvalidURL)


def test_undecodable_body() -> None:
    assert type(fail(httpx.DecodingError("bad gzip"))) is BadResponse


def _tls_failure(ssl_error: ssl.SSLError) -> httpx.ConnectError:
    # The shape httpcore produces: the ssl error is the argument of its ConnectError, which
    # httpx wraps again.
    inner = httpx.ConnectError(str(ssl_error))
    inner.args = (ssl_error,)
    outer = httpx.ConnectError(str(ssl_error))
    outer.__cause__ = inner
    return outer


def verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    err = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    err.verify_code = code
    err.verify_message = message
    return err


def test_untrusted_self_signed_certificate_shows_the_fingerprint() -> None:
    err = fail(_tls_failure(verify_error(18, "self-signed certificate")))
    assert isinstance(err, CertificateUntrusted) and isinstance(err, TrustError)
    assert err.fingerprint == FINGERPRINT
    message = str(err)
    assert FINGERPRINT in message
    assert "vms.example.com" in message
    assert message.endswith("then run: vms-tray servers trust office")
    assert "nothing was sent" in message


def test_the_trust_hint_quotes_a_name_with_spaces_and_cyrillic() -> None:
    canned = Canned(_tls_failure(verify_error(18, "self-signed certificate")))
    with (
        HttpAdapter(
            URL,
            name="Склад №2 камеры",
            transport=canned.transport(),
            timeout=7.0,
            fetch_certificate=fake_certificate,
            now=lambda: NOW,
        ) as a,
        pytest.raises(CertificateUntrusted) as info,
    ):
        a.request("GET", "/sessions/current", bearer="tok-SECRET-123")
    assert str(info.value).endswith("then run: vms-tray servers trust 'Склад №2 камеры'")


@pytest.mark.parametrize(
    ("code", "words"),
    [(10, "has expired"), (62, "another name"), (9, "clock")],
)
def test_untrusted_reasons(code: int, words: str) -> None:
    err = fail(_tls_failure(verify_error(code, "x")))
    assert isinstance(err, CertificateUntrusted) and words in str(err)


def test_untrusted_with_ca_file_names_the_file() -> None:
    canned = Canned(_tls_failure(verify_error(20, "unable to get local issuer certificate")))
    trust = Trust(mode="ca-file", ca_file="/etc/vms/ca.pem")
    with adapter(canned, trust=trust) as a, pytest.raises(CertificateUntrusted) as info:
        a.request("GET", "/server")
    assert "/etc/vms/ca.pem" in str(info.value)


def test_untrusted_when_the_certificate_cannot_be_read_again() -> None:
    canned = Canned(_tls_failure(verify_error(18, "self-signed certificate")))
    with (
        adapter(canned, fetch=unreadable_certificate) as a,
        pytest.raises(CertificateUntrusted) as info,
    ):
        a.request("GET", "/server")
    assert info.value.fingerprint is None
    assert "SHA-256" not in str(info.value)


def test_pin_mismatch_shows_both_fingerprints() -> None:
    pinned, presented = ":".join(["11"] * 32), ":".join(["22"] * 32)
    err = fail(_tls_failure(PinMismatch(pinned, presented)))
    assert isinstance(err, CertificateChanged)
    assert (err.pinned, err.presented) == (pinned, presented)
    assert pinned in str(err) and presented in str(err) and "nothing was sent" in str(err)


def test_other_tls_failure_is_unreachable() -> None:
    bad = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    bad.reason = "WRONG_VERSION_NUMBER"
    err = fail(_tls_failure(bad))
    assert type(err) is ServerUnreachable
    assert "secure connection" in str(err) and "WRONG_VERSION_NUMBER" in str(err)


def test_labels_and_refusals_never_carry_credentials() -> None:
    proxy = "http://ops:s3cret@proxy.corp:3128"
    assert proxy_label(proxy) == "proxy.corp:3128"
    assert proxy_label("https://[fd00::1]") == "[fd00::1]:443"
    assert proxy_label("http://proxy.corp") == "proxy.corp:80"
    refusal = proxy_refusal(proxy, "nvr:443", "407 Proxy Authentication Required")
    assert "s3cret" not in refusal and "ops" not in refusal
    assert refusal.startswith("the proxy proxy.corp:3128 refused a tunnel to nvr:443 (407 ")
    assert "user name and password" in refusal
    assert "no_proxy" in proxy_refusal(proxy, "nvr:443", "403 Forbidden")


# --- server text ---------------------------------------------------------------------------------

EVIL = "EVIL\x1b]0;title\x07\x1b[2J \u202e"


def test_server_text_cannot_drive_a_terminal_or_reorder_what_is_read() -> None:
    # Issue 14 item 4: a title-setting OSC, a screen clear and a right-to-left override.
    assert Scrubber([])(EVIL) == "EVIL\\x1b]0;title\\x07\\x1b[2J \\u202e"
    assert Scrubber([])("a\x9bb\u2066c\u200fd\x7f") == "a\\x9bb\\u2066c\\u200fd\\x7f"


def test_scrubbed_text_is_one_line_and_cut_short_after_escaping() -> None:
    assert Scrubber([])("one\r\ntwo\tthree\u2028four") == "one two three four"
    cut = Scrubber([])("\x1b" * 1000)
    assert len(cut) == MAX_DETAIL and cut.endswith("…") and "\x1b" not in cut


@given(
    st.text(max_size=300),
    st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=4, max_size=40),
)
def test_scrubbing_leaves_nothing_unsafe_and_no_secret(text: str, secret: str) -> None:
    scrubbed = Scrubber([secret])(text + secret + text)
    assert Scrubber([])(scrubbed) == scrubbed  # nothing left to neutralise
    assert not any(c in scrubbed for c in "\x1b\x07\x9b\u202e\u2066\n\r")
    assert secret not in scrubbed


def test_escaping_does_not_spell_out_a_secret() -> None:
    # "x01..." is the secret; escaping the \x01 before the rest would write it out again.
    secret = "x01abcdefghijklmn"
    assert secret not in Scrubber([secret])(f"{secret}\x01abcdefghijklmn")
