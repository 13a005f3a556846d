"""URL normalisation: the examples the rules name, and properties over generated input."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vms_tray.errors import InvalidURL
from vms_tray.urls import display_url, normalise_url


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("vms.example.com", "https://vms.example.com"),
        ("  vms.example.com \n", "https://vms.example.com"),
        ("HTTPS://VMS.Example.COM/", "https://vms.example.com"),
        ("https://vms.example.com:443", "https://vms.example.com"),
        ("vms.example.com:8443", "https://vms.example.com:8443"),
        ("https://vms.example.com:08443/", "https://vms.example.com:8443"),
        ("vms.example.com/api/v1///", "https://vms.example.com/api/v1"),
        ("vms.example.com./", "https://vms.example.com"),
        ("localhost:8443", "https://localhost:8443"),
        ("10.0.0.7", "https://10.0.0.7"),
        ("[2001:DB8::0001]:8443/vms/", "https://[2001:db8::1]:8443/vms"),
        ("https://[::1]", "https://[::1]"),
        ("bücher.example", "https://xn--bcher-kva.example"),
        ("BÜCHER.example", "https://xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "https://xn--bcher-kva.example"),
        ("ｖｍｓ.example.com", "https://vms.example.com"),
        ("１０.０.０.７", "https://10.0.0.7"),
        ("vms.example.com/kamera/Über", "https://vms.example.com/kamera/%C3%9Cber"),
        ("vms.example.com/a%2fb", "https://vms.example.com/a%2Fb"),
        ("vms.example.com/@x", "https://vms.example.com/@x"),
    ],
)
def test_normalises(typed: str, stored: str) -> None:
    assert normalise_url(typed) == stored
    assert normalise_url(stored) == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("http://lab.example.com", "http://"),
        ("HTTP://lab.example.com", "http://"),
        ("ftp://lab.example.com", "ftp://"),
        ("http:lab.example.com", "did you mean 'https://lab.example.com'?"),
        ("https://", "no host"),
        ("https:///path", "no host"),
        (":8443", "no host"),
        ("anna:secret@vms.example.com", "user name or password"),
        ("https://anna@vms.example.com", "user name or password"),
        ("vms.example.com?x=1", "query"),
        ("vms.example.com/#top", "fragment"),
        ("vms.example.com:0", "port"),
        ("vms.example.com:65536", "port"),
        ("vms.example.com:-1", "port"),
        ("vms.example.com:https", "port"),
        ("vms.example.com:", "port"),
        ("vms example.com", "spaces"),
        ("vms.example.com\\x", "backslash"),
        ("[::1", "closing"),
        ("[::1]x", "after the IPv6"),
        ("::1", "without brackets"),
        ("[fe80::1%25eth0]", "zone"),
        ("[not:an:address]", "invalid IPv6"),
        ("999.1.1.1", "invalid IPv4"),
        ("1.2.3", "invalid IPv4"),
        ("vms_host.lan", "invalid host name"),
        ("-vms.example.com", "invalid host name"),
        ("vms..example.com", "invalid host name"),
        ("xn--zz.example", "invalid host name"),
        ("a" * 64 + ".example.com", "invalid host name"),
        (".".join(["a" * 60] * 5), "253"),
        ("vms.example.com/%zz", "'%'"),
    ],
)
def test_refuses_with_a_clear_message(typed: str, says: str) -> None:
    with pytest.raises(InvalidURL) as info:
        normalise_url(typed)
    message = str(info.value)
    assert says in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("https//127.0.0.1:35979", "did you mean 'https://127.0.0.1:35979'?"),
        ("HTTPS//vms.example.com/vms", "did you mean 'https://vms.example.com/vms'?"),
        ("http//vms.example.com", "did you mean 'https://vms.example.com'?"),
        ("https///vms.example.com", "did you mean 'https://vms.example.com'?"),
        ("https:/vms.example.com:8443", "did you mean 'https://vms.example.com:8443'?"),
        ("https//bücher.example", "did you mean 'https://bücher.example'?"),
        ("https//", "write it as https://host"),
        ("https//:0", "write it as https://host"),
    ],
)
def test_a_scheme_missing_its_colon_or_slashes_is_refused_with_the_fix(
    typed: str, hint: str
) -> None:
    with pytest.raises(InvalidURL) as info:
        normalise_url(typed)
    message = str(info.value)
    assert hint in message, message
    assert "\n" not in message


def test_refusing_userinfo_never_echoes_the_password() -> None:
    with pytest.raises(InvalidURL) as info:
        normalise_url("https://anna:Sup3r-S3cret@vms.example.com")
    assert "Sup3r-S3cret" not in str(info.value)


def test_display_url_shows_unicode_hosts() -> None:
    assert display_url("https://xn--bcher-kva.example:8443/x") == "https://bücher.example:8443/x"
    assert display_url("https://[::1]:8443") == "https://[::1]:8443"
    assert display_url("https://vms.example.com") == "https://vms.example.com"


# --- properties ----------------------------------------------------------------------------------

_label = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\Z")
_unicode_label = st.sampled_from(["bücher", "münchen", "пример", "例え", "straße", "ÄÖÜ", "ｖｍｓ"])
_hostname = st.lists(st.one_of(_label, _unicode_label), min_size=1, max_size=4).map(
    lambda labels: ".".join([*labels, "example"])
)
_ipv4 = st.ip_addresses(v=4).map(str)
_ipv6 = st.ip_addresses(v=6).map(lambda a: f"[{a.exploded.upper()}]")
_host = st.one_of(_hostname, _ipv4, _ipv6)
_port = st.one_of(st.none(), st.integers(min_value=1, max_value=65535))
_path = st.lists(
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="/?#%\\"
        ),
        min_size=1,
        max_size=8,
    ),
    max_size=3,
).map(lambda parts: "".join("/" + p for p in parts))
_scheme = st.sampled_from(["", "https://", "HTTPS://", "Https://"])
_space = st.sampled_from(["", " ", "\t", "\n", "  "])


@st.composite
def _valid_urls(draw: st.DrawFn) -> str:
    host = draw(_host)
    port = draw(_port)
    authority = host + (f":{port}" if port is not None else "")
    trailing = draw(st.sampled_from(["", "/", "//"]))
    return draw(_space) + draw(_scheme) + authority + draw(_path) + trailing + draw(_space)


@given(_valid_urls())
def test_valid_urls_normalise_to_a_canonical_https_url(typed: str) -> None:
    url = normalise_url(typed)
    assert normalise_url(url) == url
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.hostname
    assert parts.username is None
    assert parts.password is None
    assert not parts.query
    assert not parts.fragment
    assert not url.endswith("/")
    assert url == url.strip()
    assert url.isascii()
    assert parts.netloc == parts.netloc.lower()
    assert parts.port != 443
    if parts.hostname and ":" in parts.hostname:
        assert ipaddress.IPv6Address(parts.hostname).compressed == parts.hostname


@given(st.text(max_size=60))
@example("ｈｔｔｐ://x")
@example("https://[::ffff:1.2.3.4]")
@example("xn--")
@example("a.xn--.b")
def test_any_text_is_refused_cleanly_or_normalised_idempotently(typed: str) -> None:
    try:
        url = normalise_url(typed)
    except InvalidURL as exc:
        assert "\n" not in str(exc)
        return
    assert url.startswith("https://")
    assert normalise_url(url) == url


@given(st.sampled_from(["http", "ftp", "ws", "file", "gopher", "HTTP", "sftp"]), _host)
def test_other_schemes_are_refused(scheme: str, host: str) -> None:
    with pytest.raises(InvalidURL, match="only connects over https"):
        normalise_url(f"{scheme}://{host}")


@given(_valid_urls())
def test_display_url_round_trips_through_normalise(typed: str) -> None:
    url = normalise_url(typed)
    assert normalise_url(display_url(url)) == url


@pytest.mark.parametrize(
    ("unicode", "shown"),
    [
        ("аррӏе.com", "punycode"),  # Cyrillic letters that all look Latin: "apple"
        ("pаypal.com", "punycode"),  # Latin with one Cyrillic "а"
        ("ορτ.example", "punycode"),  # Greek that reads as "opt"
        ("склад.рф", "unicode"),
        ("аррӏе.рф", "unicode"),  # a Cyrillic name under a Cyrillic top-level domain
        ("bücher.example", "unicode"),
        ("日本語.jp", "unicode"),
        ("テスト東京.jp", "unicode"),  # katakana with kanji: how Japanese is written
        ("склад-2.example", "unicode"),
    ],
)
def test_display_url_keeps_punycode_where_a_label_could_pass_for_another_name(
    unicode: str, shown: str
) -> None:
    url = normalise_url(f"https://{unicode}/x")
    assert url.isascii()
    expected = f"https://{unicode}/x" if shown == "unicode" else url
    assert display_url(url) == expected


def test_display_url_decides_label_by_label() -> None:
    url = normalise_url("https://аррӏе.склад.рф")
    assert display_url(url) == "https://аррӏе.склад.рф"  # the top-level domain is Cyrillic
    url = normalise_url("https://аррӏе.склад.example")
    assert display_url(url) == f"https://{url.split('//')[1].split('.')[0]}.склад.example"
