"""AWS credentials: access key ids (``AKIA``/``ASIA``/``ABIA``/``ACCA`` + 16
base32 characters) and 40-character secret access keys under an AWS secret
key name.  AWS documentation examples (``...EXAMPLE``) are not reported."""

from __future__ import annotations

import re
from collections.abc import Iterable

from homelab_secrets.scan import keynames
from homelab_secrets.scan.detectors.assign import assignments
from homelab_secrets.scan.detectors.base import Context, Detector, bounded, entropy, hits_from
from homelab_secrets.scan.model import Hit, Rule
from homelab_secrets.scan.placeholders import is_placeholder

KEY_ID = Rule("aws-access-key-id", "cloud", "AWS access key id")
SECRET = Rule("aws-secret-access-key", "cloud", "AWS secret access key")
_KEY_ID = bounded(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}")
_SECRET40 = re.compile(r"^[A-Za-z0-9/+]{40}$")


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(_KEY_ID, text, KEY_ID, check=lambda m: "EXAMPLE" not in m[0])
    for a in assignments(text, ctx.syntax):
        words = keynames.words(a.key)
        value = a.value.strip()
        if (
            "secret" in words
            and ("aws" in words or "access" in words)
            and _SECRET40.match(value)
            and entropy(value) > 3.5
            and not is_placeholder(value)
            and keynames.classify(a.key) == "secret"
        ):
            yield Hit(a.start, a.end, value, SECRET.id, SECRET.kind, SECRET.title, key=a.key)


DETECTOR = Detector(
    "aws",
    ("akia", "asia", "abia", "acca", "secret_access", "secretaccess", "aws_secret"),
    find,
    (KEY_ID, SECRET),
)
