"""AES-128 in CBC mode with PKCS #7 padding, the cipher of the Secret Service's transfer algorithm.

    cbc_encrypt(key, iv, plaintext) -> bytes     16-byte key and IV; pads, then encrypts
    cbc_decrypt(key, iv, ciphertext) -> bytes    raises ValueError on a bad length or padding
    encrypt_block(key, block) -> bytes           one block, no mode (FIPS-197 vectors)

Why our own: the Secret Service encrypts each secret that crosses the D-Bus session bus with a
key agreed for that connection (vms_tray.secretservice.transfer), and the only AES in our
dependencies is ``cryptography``, whose OpenSSL build adds about 9 MB to every process that reads
a password (issue 13). A secret is a few 16-byte blocks, so speed does not matter; what matters is
that the output is AES. The tests check the FIPS-197 vectors and compare against
``cryptography`` on random keys, IVs and messages, and the integration tests read and write
through the real gnome-keyring. The key is fresh for each D-Bus connection and the peer is a
process of the same user on the same machine, so timing side channels are out of scope.

Layout: the state is 16 bytes, column by column (byte ``r + 4*c`` is row r of column c), as in
FIPS-197 section 3.4; a round key is 16 bytes in the same order.
"""

from __future__ import annotations

from functools import cache

__all__ = ["BLOCK", "cbc_decrypt", "cbc_encrypt", "encrypt_block"]

BLOCK = 16
_ROUNDS = 10  # AES-128


def _xtime(a: int) -> int:
    """``a`` times x (that is, 2) in GF(2^8) modulo the AES polynomial x^8 + x^4 + x^3 + x + 1."""
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def _mul(a: int, b: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        a = _xtime(a)
        b >>= 1
    return result


@cache
def _tables() -> tuple[bytes, bytes, tuple[bytes, ...]]:
    """The S-box, its inverse, and multiplication by 2, 3, 9, 11, 13, 14 (built once, ~1 ms)."""
    sbox = bytearray(256)
    # Walk GF(2^8)* with generator 3: p runs over every non-zero element and q over its
    # inverse (q is divided by 3 as p is multiplied), so the S-box is affine(q) at p.
    p = q = 1
    while True:
        p ^= _xtime(p)
        q ^= q << 1
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09
        rot = q
        s = q
        for _ in range(4):
            rot = ((rot << 1) | (rot >> 7)) & 0xFF
            s ^= rot
        sbox[p] = s ^ 0x63
        if p == 1:
            break
    sbox[0] = 0x63
    inverse = bytearray(256)
    for i, v in enumerate(sbox):
        inverse[v] = i
    muls = tuple(bytes(_mul(a, k) for a in range(256)) for k in (2, 3, 9, 11, 13, 14))
    return bytes(sbox), bytes(inverse), muls


def _round_keys(key: bytes) -> list[bytes]:
    if len(key) != BLOCK:
        raise ValueError(f"an AES-128 key is 16 bytes, not {len(key)}")
    sbox = _tables()[0]
    words = [list(key[i : i + 4]) for i in range(0, 16, 4)]
    rcon = 1
    for i in range(4, 4 * (_ROUNDS + 1)):
        temp = list(words[i - 1])
        if i % 4 == 0:
            temp = [sbox[b] for b in temp[1:] + temp[:1]]
            temp[0] ^= rcon
            rcon = _xtime(rcon)
        words.append([a ^ b for a, b in zip(words[i - 4], temp, strict=True)])
    flat = [b for word in words for b in word]
    return [bytes(flat[16 * r : 16 * r + 16]) for r in range(_ROUNDS + 1)]


def _xor(a: bytes | bytearray, b: bytes | bytearray) -> bytearray:
    return bytearray(x ^ y for x, y in zip(a, b, strict=True))


# ShiftRows moves row r left by r columns: the byte at r + 4*c comes from r + 4*((c + r) % 4).
_SHIFT = [(i % 4) + 4 * ((i // 4 + i % 4) % 4) for i in range(16)]
_UNSHIFT = [_SHIFT.index(i) for i in range(16)]


def _encrypt_block(keys: list[bytes], block: bytes | bytearray) -> bytearray:
    sbox, _, (m2, m3, *_) = _tables()
    s = _xor(block, keys[0])
    for rnd in range(1, _ROUNDS + 1):
        s = bytearray(sbox[s[j]] for j in _SHIFT)
        if rnd != _ROUNDS:
            mixed = bytearray(16)
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = s[c : c + 4]
                mixed[c] = m2[a0] ^ m3[a1] ^ a2 ^ a3
                mixed[c + 1] = a0 ^ m2[a1] ^ m3[a2] ^ a3
                mixed[c + 2] = a0 ^ a1 ^ m2[a2] ^ m3[a3]
                mixed[c + 3] = m3[a0] ^ a1 ^ a2 ^ m2[a3]
            s = mixed
        s = _xor(s, keys[rnd])
    return s


def _decrypt_block(keys: list[bytes], block: bytes | bytearray) -> bytearray:
    _, inverse, (_, _, m9, m11, m13, m14) = _tables()
    s = _xor(block, keys[_ROUNDS])
    for rnd in range(_ROUNDS - 1, -1, -1):
        s = bytearray(inverse[s[j]] for j in _UNSHIFT)
        s = _xor(s, keys[rnd])
        if rnd:
            mixed = bytearray(16)
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = s[c : c + 4]
                mixed[c] = m14[a0] ^ m11[a1] ^ m13[a2] ^ m9[a3]
                mixed[c + 1] = m9[a0] ^ m14[a1] ^ m11[a2] ^ m13[a3]
                mixed[c + 2] = m13[a0] ^ m9[a1] ^ m14[a2] ^ m11[a3]
                mixed[c + 3] = m11[a0] ^ m13[a1] ^ m9[a2] ^ m14[a3]
            s = mixed
    return s


def encrypt_block(key: bytes, block: bytes) -> bytes:
    """One 16-byte block under a 16-byte key (FIPS-197's test vectors are per block)."""
    return bytes(_encrypt_block(_round_keys(key), block))


def cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    if len(iv) != BLOCK:
        raise ValueError(f"a CBC IV is 16 bytes, not {len(iv)}")
    keys = _round_keys(key)
    pad = BLOCK - len(plaintext) % BLOCK
    data = plaintext + bytes([pad]) * pad
    out = bytearray()
    previous: bytes | bytearray = iv
    for i in range(0, len(data), BLOCK):
        previous = _encrypt_block(keys, _xor(data[i : i + BLOCK], previous))
        out += previous
    return bytes(out)


def cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    if len(iv) != BLOCK:
        raise ValueError(f"a CBC IV is 16 bytes, not {len(iv)}")
    if not ciphertext or len(ciphertext) % BLOCK:
        raise ValueError(f"CBC ciphertext is whole 16-byte blocks, not {len(ciphertext)} bytes")
    keys = _round_keys(key)
    out = bytearray()
    previous: bytes = iv
    for i in range(0, len(ciphertext), BLOCK):
        block = ciphertext[i : i + BLOCK]
        out += _xor(_decrypt_block(keys, block), previous)
        previous = block
    pad = out[-1]
    if not 1 <= pad <= BLOCK or out[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad PKCS #7 padding: the key or the data is wrong")
    return bytes(out[:-pad])
