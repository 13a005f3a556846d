"""Server URL normalisation: what the user types becomes one canonical ``https`` URL.

``normalise_url(text)`` returns the stored form or raises :class:`~vms_tray.errors.InvalidURL`
with a message saying what is wrong and how to write it instead. The rules:

* surrounding whitespace is trimmed; a URL without a scheme gets ``https://``;
* the scheme must be ``https`` (any case): ``http://``, ``ftp://`` ... are refused;
* a host is required: a DNS name, an IPv4 address or a bracketed IPv6 literal;
* ``user:password@`` is refused (a password in a URL would land in the config file), and so are
  a query (``?``) and a fragment (``#``);
* a port must be 1-65535; the https default ``:443`` is dropped;
* a path is kept (percent-encoded where needed); trailing slashes are dropped.

The stored form: lower-case scheme and host, no trailing slash, IPv6 in its compressed form, and
**internationalised host names as punycode** (``xn--…``, IDNA 2008 with UTS #46 mapping). Punycode
is the one spelling that is unambiguous (Unicode has many ways to write the same name, e.g.
full-width letters or ``ß``), it is what DNS and TLS certificates use, and it is ASCII in the
config file. :func:`display_url` turns it back into Unicode for people to read, label by label,
except a label that could pass for another name (mixed scripts, as Latin "p" beside Cyrillic
"а", or Cyrillic letters that all look Latin, as "аррӏе.com"): that one stays punycode, as in a
browser's address bar. ``normalise_url`` is idempotent:
``normalise_url(normalise_url(x)) == normalise_url(x)``.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote

from vms_tray.errors import InvalidURL

__all__ = ["display_url", "normalise_url"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# Looks like "http:host" or "https:/host": a scheme without the two slashes, almost surely a typo.
_SCHEME_NO_SLASHES = re.compile(r"^(https?|ftp):(?!\d)/*", re.IGNORECASE)
# Looks like "https//host": a scheme without its colon (read naively: host "https", path "/host").
_SCHEME_NO_COLON = re.compile(r"^(https?|ftp)//+", re.IGNORECASE)
_PORT = re.compile(r"^[0-9]{1,5}$")
_IPV4ISH = re.compile(r"^[0-9.]+$")
_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PCT_HEX = re.compile(r"%[0-9A-Fa-f]{2}")
# Path characters kept as they are (RFC 3986 pchar + "/" + "%" of existing escapes).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_MAX_HOST = 253
_DEFAULT_PORT = 443


def normalise_url(text: str) -> str:
    """Return the canonical https URL for what the user typed, or raise InvalidURL."""
    raw = text.strip()
    if not raw:
        raise InvalidURL("the server URL is empty: type its address, e.g. https://vms.example.com")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise InvalidURL("the server URL contains spaces or control characters: remove them")
    if "\\" in raw:
        raise InvalidURL("the server URL contains a backslash: use '/' in URLs")
    match = _SCHEME.match(raw)
    if match:
        scheme = match.group(1).lower()
        if scheme != "https":
            raise InvalidURL(
                f"the server URL uses {scheme}://, but vms-tray only connects over https: "
                "write https:// or leave the scheme out"
            )
        rest = raw[match.end() :]
    elif typo := _SCHEME_NO_SLASHES.match(raw):
        raise InvalidURL(
            "the server URL has a scheme without '//'"
            + _did_you_mean(raw[typo.end() :], "write it as https://host (or just host)")
        )
    elif typo := _SCHEME_NO_COLON.match(raw):
        raise InvalidURL(
            "the server URL has a scheme without ':'"
            + _did_you_mean(raw[typo.end() :], "write it as https://host (or just host)")
        )
    else:
        rest = raw
    if "?" in rest or "#" in rest:
        raise InvalidURL(
            "the server URL has a query ('?') or fragment ('#'): give only host, port and path"
        )
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        raise InvalidURL(
            "the server URL contains a user name or password ('user@host'): remove it and "
            "give the login separately (passwords are kept in the system keyring)"
        )
    host, port = _split_host_port(authority)
    netloc = _normalise_host(host) + _normalise_port(port)
    return "https://" + netloc + (_normalise_path(slash + path) if slash else "")


def _did_you_mean(rest: str, otherwise: str) -> str:
    """ ": did you mean 'https://REST'?" when that is a valid URL, else ": OTHERWISE"."""
    try:
        fixed = normalise_url("https://" + rest)
    except InvalidURL:
        return f": {otherwise}"
    return f": did you mean {display_url(fixed)!r}?"


def display_url(url: str) -> str:
    """The stored URL with punycode host labels shown in Unicode where that is safe to read (for
    people, never for I/O): a label that could pass for another name stays punycode."""
    match = _SCHEME.match(url)
    if not match:
        return url
    rest = url[match.end() :]
    authority, slash, path = rest.partition("/")
    if authority.startswith("["):
        return url
    host, sep, port = authority.partition(":")
    if "xn--" not in host.lower():
        return url  # no punycode label: nothing to show differently
    # here: only a punycode host needs idna (~1.5 ms of start-up for `servers list`, issue 13)
    import idna

    stored = host.split(".")
    decoded = []
    for label in stored:
        try:
            decoded.append(idna.decode(label) if label.lower().startswith("xn--") else label)
        except (idna.IDNAError, UnicodeError, ValueError):
            decoded.append(label)
    tld = _scripts(decoded[-1])
    labels = [
        shown if _readable(shown, tld) else label
        for label, shown in zip(stored, decoded, strict=True)
    ]
    return f"{match.group(0)}{'.'.join(labels)}{sep}{port}{slash}{path}"


# Letters of these scripts that look like Latin ones (lower case: IDNA maps to it). A label made
# of them alone, as Cyrillic "аррӏе", reads as "apple": it stays punycode unless the top-level
# domain is of that script too, as browsers do (Chromium's whole-script confusable sets).
_LOOKS_LATIN = {
    "CYRILLIC": frozenset("асԁеһіјӏорԛѕԝхуъьҽпгѵѡ"),
    "GREEK": frozenset("αικνορτυχϲ"),
}
# Scripts written together: Japanese mixes kanji and kana, Korean hangul and hanja, with Latin.
_MIXES = (
    frozenset({"CJK", "HIRAGANA", "KATAKANA", "LATIN"}),
    frozenset({"HANGUL", "CJK", "LATIN"}),
)


def _scripts(label: str) -> frozenset[str] | None:
    """The scripts of a label's letters by their Unicode names' first word (CYRILLIC, LATIN,
    CJK...), or None if a character has no name or is a width or combining variant."""
    # here: only a punycode host needs it
    import unicodedata

    found = set()
    for ch in _letters(label):
        script = unicodedata.name(ch, "").split(" ", 1)[0]
        if script in ("", "FULLWIDTH", "HALFWIDTH", "COMBINING"):
            return None  # IDNA maps these away; one that stayed is not for display
        found.add(script)
    return frozenset(found)


def _letters(label: str) -> list[str]:
    return [ch for ch in label if ch.isalpha() or not ch.isascii()]  # digits, '-': every script's


def _readable(label: str, tld: frozenset[str] | None) -> bool:
    """Whether a Unicode host label can be shown as such: one script (or a usual mix, as in
    Japanese), and not made wholly of letters that pass for Latin ones unless the top-level
    domain's script (``tld``) is the label's too."""
    scripts = _scripts(label)
    if scripts is None:
        return False
    if len(scripts) > 1:
        return any(scripts <= mix for mix in _MIXES)
    if len(scripts) == 1 and scripts != tld:
        (script,) = scripts
        confusable = _LOOKS_LATIN.get(script)
        if confusable is not None and all(ch in confusable for ch in _letters(label)):
            return False
    return True


def _split_host_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise InvalidURL("the server URL has an IPv6 address without its closing ']'")
        host, after = authority[: end + 1], authority[end + 1 :]
        if not after:
            return host, None
        if not after.startswith(":"):
            raise InvalidURL("the server URL has text after the IPv6 address: write [addr]:port")
        return host, after[1:]
    if "]" in authority:
        raise InvalidURL("the server URL has ']' without '[': write IPv6 addresses as [addr]")
    if authority.count(":") > 1:
        raise InvalidURL(
            "the server URL looks like an IPv6 address without brackets: write https://[addr]"
        )
    host, sep, port = authority.partition(":")
    return host, (port if sep else None)


def _normalise_host(host: str) -> str:
    if not host:
        raise InvalidURL("the server URL has no host: write e.g. https://vms.example.com")
    if host.startswith("["):
        literal = host[1:-1]
        if "%" in literal:
            raise InvalidURL("the server URL has an IPv6 zone id ('%'): it is not supported")
        try:
            return f"[{ipaddress.IPv6Address(literal).compressed}]"
        except ValueError:
            raise InvalidURL(f"the server URL has an invalid IPv6 address: {literal!r}") from None
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]  # the fully-qualified spelling of the same name
    if _IPV4ISH.match(host):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise InvalidURL(f"the server URL has an invalid IPv4 address: {host!r}") from None
    if len(host) > _MAX_HOST:
        raise InvalidURL("the server URL's host name is longer than 253 characters")
    # here: checking a typed host name needs idna; listing and display do not (start-up)
    import idna

    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise InvalidURL(
            f"the server URL has an invalid host name {host!r}: use letters, digits, '-' and '.'"
        ) from None
    ascii_host = ascii_host.lower()
    if len(ascii_host) > _MAX_HOST:
        raise InvalidURL("the server URL's host name is longer than 253 characters")
    if _IPV4ISH.match(ascii_host):
        # Full-width digits map to an ASCII address: store it in its one canonical spelling.
        return _normalise_host(ascii_host)
    return ascii_host


def _normalise_port(port: str | None) -> str:
    if port is None:
        return ""
    if not _PORT.match(port) or not 1 <= int(port) <= 65535:
        raise InvalidURL(f"the server URL has an invalid port {port!r}: use a number 1-65535")
    number = int(port)
    return "" if number == _DEFAULT_PORT else f":{number}"


def _normalise_path(path: str) -> str:
    if _PCT.search(path):
        raise InvalidURL("the server URL has a '%' that is not followed by two hex digits")
    quoted = quote(path, safe=_PATH_SAFE)
    quoted = _PCT_HEX.sub(lambda m: m.group(0).upper(), quoted)
    return quoted.rstrip("/")
