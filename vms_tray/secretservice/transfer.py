"""How a secret crosses the D-Bus session bus: the Secret Service's transfer algorithms.

    ALGORITHM_DH, ALGORITHM_PLAIN               the two names of the Secret Service API 0.2
    offer() -> Offer                             our half of a key agreement (.public: 128 bytes)
    Transfer(session_path, key=None)             an open session; key None: the plain algorithm
        .wrap(secret) -> (path, iv, value, type) the Secret struct (oayays) to send
        .unwrap(struct) -> bytes                 the secret from a struct the service sent

``dh-ietf1024-sha256-aes128-cbc-pkcs7`` (what libsecret and secretstorage use): Diffie-Hellman
in the 1024-bit MODP group of RFC 2409 (the "Second Oakley Group"), the shared number as 128
big-endian bytes through HKDF-SHA256 with no salt and no info into a 16-byte AES key, and each
secret AES-128-CBC encrypted with PKCS #7 padding under a fresh random IV. ``plain`` sends the
secret as is; it is used only when a Secret Service does not offer the other (as secretstorage
and libsecret do).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from hashlib import sha256

from vms_tray.secretservice import aes

__all__ = ["ALGORITHM_DH", "ALGORITHM_PLAIN", "Offer", "Transfer", "offer"]

ALGORITHM_DH = "dh-ietf1024-sha256-aes128-cbc-pkcs7"
ALGORITHM_PLAIN = "plain"
CONTENT_TYPE = "text/plain"  # what keyring's Secret Service backend stores passwords as

# RFC 2409 section 6.2, generator 2.
DH_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404"
    "DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406"
    "B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)
DH_GENERATOR = 2
_DH_BYTES = 128


@dataclass(frozen=True, repr=False)
class Offer:
    """Our private exponent and the public number we send; repr hides the exponent."""

    private: int
    public: bytes

    def key_with(self, peer_public: bytes) -> bytes:
        """The 16-byte AES key both sides derive from the peer's public number."""
        peer = int.from_bytes(peer_public, "big")
        if not 1 < peer < DH_PRIME - 1:
            # 0, 1 and p-1 would force a known shared number
            raise ValueError("the Secret Service sent an invalid Diffie-Hellman public key")
        shared = pow(peer, self.private, DH_PRIME).to_bytes(_DH_BYTES, "big")
        # HKDF (RFC 5869) with SHA-256: a missing salt is HashLen zero bytes, the info is
        # empty, and 16 bytes need only the first output block.
        prk = hmac.new(b"\0" * sha256().digest_size, shared, sha256).digest()
        return hmac.new(prk, b"\x01", sha256).digest()[: aes.BLOCK]


def offer() -> Offer:
    private = secrets.randbits(8 * _DH_BYTES) | 1 << (8 * _DH_BYTES - 1)
    return Offer(private, pow(DH_GENERATOR, private, DH_PRIME).to_bytes(_DH_BYTES, "big"))


@dataclass(frozen=True, repr=False)
class Transfer:
    session_path: str
    key: bytes | None = None

    def wrap(self, secret: bytes) -> tuple[str, bytes, bytes, str]:
        if self.key is None:
            return (self.session_path, b"", secret, CONTENT_TYPE)
        iv = secrets.token_bytes(aes.BLOCK)
        return (self.session_path, iv, aes.cbc_encrypt(self.key, iv, secret), CONTENT_TYPE)

    def unwrap(self, struct: tuple[str, bytes, bytes, str]) -> bytes:
        _session, parameters, value, _content_type = struct
        if self.key is None:
            return bytes(value)
        return aes.cbc_decrypt(self.key, bytes(parameters), bytes(value))
