from __future__ import annotations

import hashlib

from vms_tray.refserver.tokens import (
    KdfParams,
    dummy_hash,
    hash_password,
    new_id,
    new_token,
    token_hash,
    verify_password,
)


def test_tokens_are_256_bit_and_unique() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) == 43 for t in tokens)  # 32 bytes, url-safe base64 without padding


def test_token_hash_is_sha256_hex() -> None:
    assert token_hash("abc") == hashlib.sha256(b"abc").hexdigest()


def test_ids_are_short_and_unique() -> None:
    assert len({new_id() for _ in range(1000)}) == 1000


def test_password_round_trip_with_per_user_salt() -> None:
    params = KdfParams(n=16)
    a, b = hash_password("pw", params), hash_password("pw", params)
    assert a != b  # salted
    assert a.startswith("scrypt$16$8$1$")
    assert verify_password("pw", a) and verify_password("pw", b)
    assert not verify_password("pW", a)
    assert "pw" not in a.split("$")


def test_default_parameters_are_recorded_in_the_hash() -> None:
    assert hash_password("x").startswith("scrypt$16384$8$1$")


def test_corrupt_or_foreign_hashes_never_verify() -> None:
    for bad in ("", "scrypt$", "bcrypt$2$8$1$AAAA$AAAA", "scrypt$16$8$1$!!$??", "plain"):
        assert not verify_password("pw", bad)


def test_dummy_hash_matches_nothing() -> None:
    h = dummy_hash(KdfParams(n=16))
    assert not verify_password("", h) and not verify_password("pw", h)
