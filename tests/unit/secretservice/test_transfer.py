"""The transfer algorithms: key agreement, HKDF, and what crosses the bus."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vms_tray.secretservice import aes, transfer


def test_both_sides_agree_on_the_key_openssl_derives() -> None:
    ours, theirs = transfer.offer(), transfer.offer()
    key = ours.key_with(theirs.public)
    assert key == theirs.key_with(ours.public)
    shared = pow(int.from_bytes(theirs.public, "big"), ours.private, transfer.DH_PRIME)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=b"")
    assert key == hkdf.derive(shared.to_bytes(128, "big"))


def test_an_offer_is_a_fresh_full_size_number() -> None:
    a, b = transfer.offer(), transfer.offer()
    assert a.private != b.private
    assert len(a.public) == 128
    assert a.private.bit_length() == 1024
    assert str(a.private) not in repr(a)


@pytest.mark.parametrize("peer", [0, 1, transfer.DH_PRIME - 1, transfer.DH_PRIME])
def test_a_degenerate_peer_key_is_refused(peer: int) -> None:
    with pytest.raises(ValueError, match="invalid Diffie-Hellman public key"):
        transfer.offer().key_with(peer.to_bytes(129, "big"))


def test_an_encrypted_secret_crosses_with_a_fresh_iv_each_time() -> None:
    session = transfer.Transfer("/org/freedesktop/secrets/session/s1", key=b"k" * 16)
    first, second = session.wrap(b"pass word"), session.wrap(b"pass word")
    path, iv, value, content_type = first
    assert path == "/org/freedesktop/secrets/session/s1"
    assert content_type == "text/plain"
    assert len(iv) == 16 and iv != second[1]
    assert b"pass word" not in value and len(value) == 16
    assert aes.cbc_decrypt(b"k" * 16, iv, value) == b"pass word"
    assert session.unwrap(first) == session.unwrap(second) == b"pass word"


def test_the_plain_algorithm_sends_the_secret_as_is() -> None:
    session = transfer.Transfer("/s/2")
    assert session.wrap(b"pw") == ("/s/2", b"", b"pw", "text/plain")
    assert session.unwrap(("/s/2", b"", b"pw", "text/plain")) == b"pw"
