"""Shamir secret sharing over GF(2^8), as sops does it (``shamir/shamir.go``).

HashiCorp Vault's scheme with one difference: x-coordinates are fixed and
sequential (share ``i`` has x = i + 1), stored as the **last** byte of each
33-byte share.  Field: AES/Rijndael, reduction polynomial 0x11B.
"""

from __future__ import annotations

import os


class ShamirError(Exception):
    """Bad parameters or shares (the message names no secret material)."""


def _gmul(a: int, b: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return result


def _build_tables() -> tuple[list[int], list[int]]:
    exp = [0] * 512
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x = _gmul(x, 3)  # 3 generates the multiplicative group of this field
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


_EXP, _LOG = _build_tables()


def mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(2^8)")
    if a == 0:
        return 0
    return _EXP[(_LOG[a] - _LOG[b]) % 255]


def _evaluate(coefficients: bytes, x: int) -> int:
    """Horner's rule; ``coefficients[0]`` is the constant term."""
    y = 0
    for c in reversed(coefficients):
        y = mul(y, x) ^ c
    return y


def split(secret: bytes, parts: int, threshold: int) -> list[bytes]:
    """Split ``secret`` into ``parts`` shares, any ``threshold`` of which recover it."""
    if parts < threshold:
        raise ShamirError("parts cannot be less than threshold")
    if parts > 255:
        raise ShamirError("parts cannot exceed 255")
    if threshold < 2:
        raise ShamirError("threshold must be at least 2")
    if threshold > 255:
        raise ShamirError("threshold cannot exceed 255")
    if not secret:
        raise ShamirError("cannot split an empty secret")
    polys = [bytes([b]) + os.urandom(threshold - 1) for b in secret]
    return [bytes(_evaluate(p, x) for p in polys) + bytes([x]) for x in range(1, parts + 1)]


def combine(shares: list[bytes]) -> bytes:
    """Recover the secret from two or more shares (uses all of them)."""
    if len(shares) < 2:
        raise ShamirError("less than two parts cannot be used to reconstruct the secret")
    length = len(shares[0])
    if length < 2:
        raise ShamirError("parts must be at least two bytes")
    if any(len(s) != length for s in shares):
        raise ShamirError("all parts must be the same length")
    xs = [s[-1] for s in shares]
    if len(set(xs)) != len(xs):
        raise ShamirError("duplicate part detected")
    # Lagrange basis at 0: l_j = prod_{m != j} x_m / (x_j ^ x_m)
    basis = []
    for j, xj in enumerate(xs):
        num, den = 1, 1
        for m, xm in enumerate(xs):
            if m != j:
                num = mul(num, xm)
                den = mul(den, xj ^ xm)
        basis.append(div(num, den))
    out = bytearray(length - 1)
    for j, share in enumerate(shares):
        lj = basis[j]
        for i in range(length - 1):
            out[i] ^= mul(share[i], lj)
    return bytes(out)
