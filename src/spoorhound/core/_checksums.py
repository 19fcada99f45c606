"""Checksum algorithms used to validate cryptocurrency addresses (pure Python, no I/O).

Only the verification side is implemented: Base58Check (Bitcoin legacy addresses),
Bech32/Bech32m (BIP-173/BIP-350 SegWit addresses) and Keccak-256 (EIP-55 mixed-case
Ethereum addresses). ``hashlib.sha3_256`` is *not* Keccak-256 (different padding), and
the project has no dependency providing Keccak, hence the small implementation here.
"""

from __future__ import annotations

import functools
import hashlib

__all__ = ["base58check_payload", "bech32_segwit_ok", "eip55_ok", "keccak256"]

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}


def base58check_payload(address: str) -> bytes | None:
    """Decode a Base58Check string; return version+payload bytes, or None if the checksum fails."""
    num = 0
    for ch in address:
        digit = _B58_INDEX.get(ch)
        if digit is None:
            return None
        num = num * 58 + digit
    # Leading '1's encode leading zero bytes, which the integer conversion loses.
    pad = len(address) - len(address.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    raw = b"\x00" * pad + body
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32_CHARSET)}
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GEN[i]
    return chk


def _convertbits(data: list[int], frombits: int, tobits: int) -> list[int] | None:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    # BIP-173: padding must be fewer than `frombits` zero bits.
    if bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return out


def bech32_segwit_ok(address: str, hrp: str = "bc") -> bool:
    """Validate a lower-case SegWit address: checksum, witness version and program length.

    Version 0 must use Bech32, versions 1-16 must use Bech32m (BIP-350).
    """
    pos = address.rfind("1")
    if pos != len(hrp) or address[:pos] != hrp or len(address) > 90 or len(address) - pos < 7:
        return False
    data: list[int] = []
    for ch in address[pos + 1 :]:
        d = _BECH32_INDEX.get(ch)
        if d is None:
            return False
        data.append(d)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    const = _polymod(expanded + data)
    if const not in (_BECH32_CONST, _BECH32M_CONST):
        return False
    values = data[:-6]
    if not values:
        return False
    version = values[0]
    program = _convertbits(values[1:], 5, 8)
    if version > 16 or program is None or not 2 <= len(program) <= 40:
        return False
    if version == 0 and len(program) not in (20, 32):
        return False
    expected = _BECH32_CONST if version == 0 else _BECH32M_CONST
    return const == expected


# --- Keccak-256 (the pre-standard SHA-3 padding used by Ethereum) -----------------------

_RC = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
_ROT = (
    (0, 36, 3, 41, 18), (1, 44, 10, 45, 2), (62, 6, 43, 15, 61),
    (28, 55, 25, 21, 56), (27, 20, 39, 8, 14),
)  # fmt: skip
_MASK = (1 << 64) - 1


def _keccak_f(state: list[list[int]]) -> None:
    for rc in _RC:
        c = [state[x][0] ^ state[x][1] ^ state[x][2] ^ state[x][3] ^ state[x][4] for x in range(5)]
        d = [
            c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & _MASK)
            for x in range(5)
        ]
        for x in range(5):
            for y in range(5):
                state[x][y] ^= d[x]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                r = _ROT[x][y]
                v = state[x][y]
                b[y][(2 * x + 3 * y) % 5] = ((v << r) | (v >> (64 - r))) & _MASK if r else v
        for x in range(5):
            for y in range(5):
                state[x][y] = b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y])
        state[0][0] ^= rc


def keccak256(data: bytes) -> bytes:
    """Keccak-256 digest (rate 136 bytes, padding 0x01...0x80)."""
    rate = 136
    padded = bytearray(data)
    padded.append(0x01)
    while len(padded) % rate:
        padded.append(0)
    padded[-1] |= 0x80
    state = [[0] * 5 for _ in range(5)]
    for off in range(0, len(padded), rate):
        block = padded[off : off + rate]
        for i in range(rate // 8):
            x, y = i % 5, i // 5
            state[x][y] ^= int.from_bytes(block[i * 8 : i * 8 + 8], "little")
        _keccak_f(state)
    out = b"".join(state[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
    return out


@functools.lru_cache(maxsize=4096)
def eip55_ok(hex40: str) -> bool:
    """True if the 40-char mixed-case hex body of an Ethereum address matches EIP-55."""
    digest = keccak256(hex40.lower().encode("ascii")).hex()
    for ch, h in zip(hex40, digest[:40], strict=True):
        if ch.isalpha() and (ch.isupper() != (int(h, 16) >= 8)):
            return False
    return True
