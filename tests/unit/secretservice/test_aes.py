"""AES-128-CBC against the published vectors and against cryptography's OpenSSL."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from vms_tray.secretservice import aes

sixteen = st.binary(min_size=16, max_size=16)


def test_fips_197_appendix_c1_vector() -> None:
    key = bytes(range(16))
    block = bytes.fromhex("00112233445566778899aabbccddeeff")
    assert aes.encrypt_block(key, block).hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_fips_197_appendix_b_vector() -> None:
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    block = bytes.fromhex("3243f6a8885a308d313198a2e0370734")
    assert aes.encrypt_block(key, block).hex() == "3925841d02dc09fbdc118597196a0b32"


def test_sp_800_38a_f21_cbc_vector_then_a_block_of_padding() -> None:
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    iv = bytes(range(16))
    plaintext = bytes.fromhex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
    )
    expected = (
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
        "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"
    )
    ciphertext = aes.cbc_encrypt(key, iv, plaintext)
    assert ciphertext[:64].hex() == expected
    assert len(ciphertext) == 80  # whole blocks still get a block of padding (PKCS #7)
    assert aes.cbc_decrypt(key, iv, ciphertext) == plaintext


@given(key=sixteen, iv=sixteen, message=st.binary(max_size=100))
def test_the_same_as_openssl_both_ways(key: bytes, iv: bytes, message: bytes) -> None:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(message) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    theirs = encryptor.update(padded) + encryptor.finalize()
    assert aes.cbc_encrypt(key, iv, message) == theirs
    assert aes.cbc_decrypt(key, iv, theirs) == message


def test_a_wrong_key_is_an_error_not_garbage() -> None:
    iv = bytes(16)
    ciphertext = aes.cbc_encrypt(b"k" * 16, iv, b"password")
    # A wrong key gives valid padding by chance about once in 256: these two do not.
    for wrong in (b"K" * 16, b"x" * 16):
        with pytest.raises(ValueError, match="padding"):
            aes.cbc_decrypt(wrong, iv, ciphertext)


@pytest.mark.parametrize(
    ("key", "iv", "data", "says"),
    [
        (b"short", bytes(16), bytes(16), "key is 16 bytes, not 5"),
        (bytes(16), b"iv", bytes(16), "IV is 16 bytes, not 2"),
        (bytes(16), bytes(16), bytes(15), "whole 16-byte blocks, not 15"),
        (bytes(16), bytes(16), b"", "whole 16-byte blocks, not 0"),
    ],
)
def test_bad_lengths_are_refused(key: bytes, iv: bytes, data: bytes, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        aes.cbc_decrypt(key, iv, data)
