"""The ENC[...] value codec against sops' own test vector and Go's formatting rules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homelab_secrets.sops.cipher import (
    Cipher,
    CipherError,
    go_format_float,
    go_parse_time,
    to_bytes,
)
from homelab_secrets.sops.model import Comment, GoTime, Uint64

# sops' aes/cipher_test.go TestDecrypt: key = 32 × "f", AAD "bar:" → "foo"
SOPS_VECTOR = (
    "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,"
    "tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]"
)


def test_decrypts_sops_published_vector():
    assert Cipher(b"f" * 32).decrypt(SOPS_VECTOR, "bar:") == "foo"


def test_vector_fails_with_another_aad():
    with pytest.raises(CipherError, match="message authentication failed"):
        Cipher(b"f" * 32).decrypt(SOPS_VECTOR, "")


def test_empty_values_are_never_encrypted():
    c = Cipher(b"k" * 32)
    assert c.encrypt("", "a:") == ""
    assert c.encrypt(Comment(""), "a:") == ""
    assert c.decrypt("", "a:") == ""


@pytest.mark.parametrize(
    ("value", "tag", "plaintext"),
    [
        ("hello", "str", b"hello"),
        (42, "int", b"42"),
        (-7, "int", b"-7"),
        (True, "bool", b"True"),
        (False, "bool", b"False"),
        (3.14, "float", b"3.14"),
        (1.0, "float", b"1"),
        (1e21, "float", b"1000000000000000000000"),
        (1e-7, "float", b"0.0000001"),
        (-0.0, "float", b"-0"),
        (float("inf"), "float", b"+Inf"),
        (GoTime("2001-12-14T00:00:00Z"), "time", b"2001-12-14T00:00:00Z"),
        (Comment(" a comment"), "comment", b" a comment"),
    ],
)
def test_round_trip_keeps_go_type_and_plaintext(value, tag, plaintext):
    c = Cipher(b"k" * 32)
    enc = c.encrypt(value, "path:")
    assert enc.startswith("ENC[AES256_GCM,data:")
    assert enc.endswith(f",type:{tag}]")
    assert to_bytes(value) == plaintext
    back = c.decrypt(enc, "path:")
    assert type(back) is type(value)
    assert back == value or (isinstance(value, float) and math.isnan(value))


def test_ciphertext_length_equals_plaintext_and_iv_is_32_bytes():
    import base64
    import re

    enc = Cipher(b"k" * 32).encrypt("twelve chars", "a:")
    m = re.match(r"ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:str\]", enc)
    assert m is not None
    assert len(base64.b64decode(m[1])) == 12
    assert len(base64.b64decode(m[2])) == 32
    assert len(base64.b64decode(m[3])) == 16


def test_reencrypting_a_decrypted_value_reuses_its_iv():
    c = Cipher(b"k" * 32)
    enc = c.encrypt("same", "x:")
    fresh = Cipher(b"k" * 32)
    assert fresh.decrypt(enc, "x:") == "same"
    assert fresh.encrypt("same", "x:") == enc
    assert fresh.encrypt("other", "x:") != enc


@pytest.mark.parametrize(
    "bad",
    ["notenc", "ENC[AES256_GCM,data:@@,iv:AA==,tag:AA==,type:str]", "ENC[AES256_GCM,data:x]"],
)
def test_malformed_values_fail_without_echoing_them(bad):
    with pytest.raises(CipherError) as info:
        Cipher(b"k" * 32).decrypt(bad, "a:")
    assert bad not in str(info.value)


def test_unknown_datatype_is_refused():
    c = Cipher(b"k" * 32)
    enc = c.encrypt("x", "a:").replace("type:str", "type:weird")
    with pytest.raises(CipherError, match="Unknown datatype"):
        c.decrypt(enc, "a:")


def test_uint64_cannot_be_encrypted():
    with pytest.raises(CipherError, match="uint64"):
        Cipher(b"k" * 32).encrypt(Uint64(2**63), "a:")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.14, "3.14"),
        (1.0, "1"),
        (1e21, "1000000000000000000000"),
        (0.000001, "0.000001"),
        (1e-7, "0.0000001"),
        (1.2345678901234567e19, "12345678901234567000"),
        (-0.0, "-0"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_floats_use_go_fixed_notation(value, text):
    assert go_format_float(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_go_fixed_notation_round_trips(x):
    assert float(go_format_float(x)) == x


@pytest.mark.parametrize(
    ("text", "marshal"),
    [
        ("2026-11-29T14:36:23Z", "2026-11-29T14:36:23Z"),
        ("2026-11-29T14:36:23.500000000Z", "2026-11-29T14:36:23.5Z"),
        ("2026-11-29T14:36:23+00:00", "2026-11-29T14:36:23Z"),
        ("2026-11-29T14:36:23.123456789+02:00", "2026-11-29T14:36:23.123456789+02:00"),
    ],
)
def test_times_are_normalised_like_go_marshal_text(text, marshal):
    assert go_parse_time(text).text == marshal
