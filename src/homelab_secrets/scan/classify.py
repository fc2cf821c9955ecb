"""Structure first: what a file is, and its ciphertext removed.

:func:`classify` looks at a file's bytes (its name only chooses the SOPS
store to try first) and returns a :class:`Structure`:

* ``binary``: a NUL byte in the first 8 KiB; not pattern-scanned;
* ``ansible-vault`` / ``age`` / ``pgp``: the whole file is ciphertext
  (``$ANSIBLE_VAULT;1.x;AES256`` header, ``age-encryption.org/v1`` header or
  armor, ``-----BEGIN PGP MESSAGE-----``);
* ``sops``: SOPS metadata found by :mod:`.sopsfile` (any store);
* ``plain`` otherwise.

In every class, ciphertext *inside* the text is blanked (replaced by spaces,
newlines kept, so offsets and line numbers hold) before any pattern rule
sees it: well-formed ``ENC[AES256_GCM,...]`` envelopes (:mod:`.envelope`),
the ``sops`` metadata section, Ansible ``!vault`` blocks and inline vault
payloads, age and PGP armor, and a SealedSecret's ``encryptedData``.
Nothing is skipped by path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from homelab_secrets.scan import envelope, sopsfile
from homelab_secrets.scan.words import word_set

Kind = Literal["plain", "binary", "sops", "ansible-vault", "age", "pgp"]

_VAULT = re.compile(
    rb"\$ANSIBLE_VAULT;\d\.\d;[A-Z0-9]+(?:;[^\s]*)?[ \t]*\r?\n"
    rb"(?:[ \t]*[0-9a-fA-F]+[ \t]*(?:\r?\n|\Z))*"
)
_ARMOR = re.compile(
    rb"-----BEGIN (?P<label>AGE ENCRYPTED FILE|PGP MESSAGE)-----[\s\S]{0,2000000}?"
    rb"-----END (?P=label)-----"
)
_SEALED_YAML = re.compile(rb"^(?P<indent>[ \t]*)encryptedData:[ \t]*\r?\n", re.M)
#: A comment with clear text in it (an encrypted one is blank once its envelope is).
_CLEAR_COMMENT = re.compile(rb"^[ \t]*[#;][ \t]*[^\s]", re.M)
_SEALED_JSON = re.compile(rb'"encryptedData"\s*:\s*\{[^{}]*\}')
_WHOLE_FILE = {
    b"$ANSIBLE_VAULT;": "ansible-vault",
    b"age-encryption.org/v1\n": "age",
    b"-----BEGIN AGE ENCRYPTED FILE-----": "age",
    b"-----BEGIN PGP MESSAGE-----": "pgp",
}
LOCK_FILES = word_set(
    """
    package-lock.json npm-shrinkwrap.json yarn.lock pnpm-lock.yaml poetry.lock pipfile.lock
    uv.lock cargo.lock gemfile.lock composer.lock go.sum .terraform.lock.hcl flake.lock
    mix.lock pubspec.lock packages.lock.json podfile.lock gradle.lockfile bun.lock
    """
)


@dataclass
class Structure:
    kind: Kind
    text: bytes  #: the file with its ciphertext blanked (same length)
    sops: sopsfile.SopsFile | None = None
    lockfile: bool = False

    @property
    def encrypted(self) -> bool:
        """True when the whole file is ciphertext (or SOPS)."""
        return self.kind in ("sops", "ansible-vault", "age", "pgp")


_BLANK = bytes(c if c in (0x0A, 0x0D) else 0x20 for c in range(256))


def _blank(buf: bytearray, start: int, end: int) -> None:
    buf[start:end] = buf[start:end].translate(_BLANK)


def _sealed_yaml_spans(data: bytes) -> list[tuple[int, int]]:
    spans = []
    for m in _SEALED_YAML.finditer(data):
        indent = len(m["indent"])
        pos = end = m.end()
        while pos < len(data):
            nl = data.find(b"\n", pos)
            nl = len(data) if nl == -1 else nl
            line = data[pos:nl]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            end = pos = nl + 1
        spans.append((m.end(), min(end, len(data))))
    return spans


def classify(path: str, data: bytes) -> Structure:
    name = path.rsplit("/", 1)[-1].lower()
    lockfile = name in LOCK_FILES
    if b"\0" in data[:8192]:
        head = data.lstrip()[:40]
        kind: Kind = "age" if head.startswith(b"age-encryption.org/v1") else "binary"
        return Structure(kind, b"", lockfile=lockfile)
    head = data.lstrip()
    for marker, whole in _WHOLE_FILE.items():
        if head.startswith(marker):
            return Structure(whole, b" " * len(data), lockfile=lockfile)  # type: ignore[arg-type]
    blanked = envelope.blank(data)
    buf = bytearray(blanked)
    spans: list[tuple[int, int]] = []
    sops = sopsfile.recognise(path, data) if b"sops" in data else None
    if sops is not None:
        spans += sops.metadata_spans
    if b"$ANSIBLE_VAULT;" in data:
        spans += [m.span() for m in _VAULT.finditer(data)]
    if b"-----BEGIN AGE ENCRYPTED FILE-----" in data or b"-----BEGIN PGP MESSAGE-----" in data:
        spans += [m.span() for m in _ARMOR.finditer(data)]
    if b"encryptedData" in data and b"SealedSecret" in data:
        spans += _sealed_yaml_spans(data)
        spans += [m.span() for m in _SEALED_JSON.finditer(data)]
    for start, end in spans:
        _blank(buf, start, end)
    text = bytes(buf)
    if sops is not None and sops.all_encrypted and not _CLEAR_COMMENT.search(text):
        # every value encrypted, every comment too: what is left are key names
        # (sops never encrypts those), so the pattern rules have nothing to read
        text = b""
    return Structure("sops" if sops else "plain", text, sops, lockfile)
