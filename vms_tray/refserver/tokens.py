"""Secrets the server hands out, and how it keeps them.

Tokens are 256-bit random values (``secrets.token_urlsafe(32)``). Only their SHA-256 is stored:
for high-entropy tokens a fast hash is enough (there is nothing to brute-force), and a stolen
database holds nothing usable as a bearer. Look-ups go through the hash, so no token is ever
compared byte by byte in Python.

Passwords use scrypt (stdlib ``hashlib.scrypt``) with a per-user 16-byte salt; the encoded form
carries its parameters, so they can be raised later without invalidating old hashes:
``scrypt$N$r$p$salt_b64$hash_b64``. Defaults N=2**14, r=8, p=1 (16 MiB, ~60 ms on one core).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_id() -> str:
    """A public identifier (session ids): unguessable but not a credential."""
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KdfParams:
    n: int = 2**14
    r: int = 8
    p: int = 1
    dklen: int = 32

    @property
    def maxmem(self) -> int:
        return 128 * self.r * self.n * 2 + 1024 * 1024


DEFAULT_KDF = KdfParams()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, params: KdfParams = DEFAULT_KDF) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        dklen=params.dklen,
        maxmem=params.maxmem,
    )
    return f"scrypt${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of ``password`` against an encoded hash; False for a corrupt hash."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = encoded.split("$")
        if scheme != "scrypt":
            return False
        params = KdfParams(int(n), int(r), int(p))
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
    except ValueError:
        return False
    try:
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=params.n,
            r=params.r,
            p=params.p,
            dklen=len(expected),
            maxmem=params.maxmem,
        )
    except ValueError:  # parameters scrypt refuses: not a hash we wrote
        return False
    return hmac.compare_digest(actual, expected)


def dummy_hash(params: KdfParams = DEFAULT_KDF) -> str:
    """Checked against for unknown logins, so they cost the same time as a wrong password."""
    return hash_password(new_token(), params)
