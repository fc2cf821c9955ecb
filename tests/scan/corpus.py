"""The labelled corpus (``tests/scan/corpus/``): materialised into a folder
with its generated tokens, and its labels read back.

A corpus line holding ``@@GEN:<kind>:<n>@@`` gets a token of that format,
derived from ``(kind, n)`` alone (so every run, every machine, the
benchmarks included, sees the same corpus), with a valid checksum where the
format has one (GitHub CRC32, age bech32).  Nothing that looks like a live
token is committed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import shutil
import string
import uuid
from dataclasses import dataclass
from pathlib import Path

from homelab_secrets.scan.detectors.github import checksum

CORPUS = Path(__file__).resolve().parent / "corpus"
LABELS = CORPUS / "labels.tsv"
_GEN = re.compile(r"@@GEN:([a-z0-9-]+):(\d+)@@")
_ALNUM = string.ascii_letters + string.digits
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


@dataclass(frozen=True, order=True)
class Label:
    file: str
    line: int
    kind: str


def labels() -> set[Label]:
    out = set()
    for raw in LABELS.read_text().splitlines():
        if raw and not raw.startswith("#"):
            file, line, kind = raw.split("\t")
            out.add(Label(file, int(line), kind))
    return out


def _bech32_checksum(hrp: str, data: list[int]) -> list[int]:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data
    chk = 1
    for v in [*values, 0, 0, 0, 0, 0, 0]:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate(gen):
            chk ^= g if (top >> i) & 1 else 0
    chk ^= 1
    return [(chk >> 5 * (5 - i)) & 31 for i in range(6)]


def age_key(raw: bytes) -> str:
    """An age identity string for 32 key bytes (bech32, upper case)."""
    acc = bits = 0
    data = []
    for byte in raw:
        acc = acc << 8 | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append(acc >> bits & 31)
    if bits:
        data.append(acc << (5 - bits) & 31)
    hrp = "age-secret-key-"
    word = hrp + "1" + "".join(_BECH32[d] for d in data + _bech32_checksum(hrp, data))
    return word.upper()


def _b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def token(kind: str, n: int) -> str:
    """The generated token for ``@@GEN:kind:n@@``."""
    rng = random.Random(hashlib.sha256(f"{kind}:{n}".encode()).digest())

    def alnum(size: int) -> str:
        return "".join(rng.choice(_ALNUM) for _ in range(size))

    if kind == "github":
        body = alnum(30)
        return f"ghp_{body}{checksum(body)}"
    if kind == "github-fine":
        return f"github_pat_{alnum(22)}_{alnum(59)}"
    if kind == "age":
        return age_key(rng.randbytes(32))
    if kind.startswith("doppler-"):
        prefix = {"doppler-st": "dp.st.", "doppler-st-config": "dp.st.prd.",
                  "doppler-pt": "dp.pt.", "doppler-sa": "dp.sa."}[kind]  # fmt: skip
        return prefix + alnum(43)
    if kind == "tailscale":
        return f"tskey-auth-{alnum(11)}CNTRL-{alnum(33)}"
    if kind == "vault":
        return "hvs." + "".join(rng.choice(_ALNUM + "_-") for _ in range(91))
    if kind == "tfc":
        return f"{alnum(14)}.atlasv1.{alnum(67)}"
    if kind == "aws-id":
        return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
    if kind == "aws-secret":
        return "".join(rng.choice(_ALNUM + "/+") for _ in range(40))
    if kind == "jwt":
        head = _b64url({"alg": "HS256", "typ": "JWT"})
        claims = _b64url({"sub": f"svc-{n}", "iat": 1714000000 + n, "iss": "homelab"})
        sig = base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=").decode()
        return f"{head}.{claims}.{sig}"
    if kind == "uuid":
        return str(uuid.UUID(bytes=rng.randbytes(16), version=4))
    if kind == "wg":
        return base64.b64encode(rng.randbytes(32)).decode()
    raise ValueError(f"unknown generated token kind {kind!r}")


def materialise(dest: Path) -> Path:
    """Copy the corpus into ``dest`` with its tokens generated; returns ``dest``."""
    shutil.copytree(CORPUS, dest, dirs_exist_ok=True)
    (dest / "labels.tsv").unlink()
    (dest / "README.md").unlink()
    for path in dest.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            if b"@@GEN:" in text:
                new = _GEN.sub(lambda m: token(m[1], int(m[2])), text.decode())
                path.write_text(new)
    return dest
