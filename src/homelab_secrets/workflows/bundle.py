"""A saved plan and its metadata, sealed to a public key.

Saved plans hold every variable and a state snapshot in clear, and workflow
artifacts can be downloaded by anyone with read access to the repository, so
the plan job encrypts the plan *to a public key* before uploading it; only a
job given the private key (the apply job, e.g. through a protected
environment's secret) can open it.  Two schemes, chosen by the key's form:

* **age** (``age1...`` recipients, one or more; ``AGE-SECRET-KEY-1...``
  identities), through pyrage;
* a **libsodium sealed box** (a base64 X25519 public key, 32 bytes; the
  private key likewise), through PyNaCl, the box GitHub uses for secrets.

Sealed file::

    homelab-secrets sealed plan\\n
    <scheme>\\n                       age | sealedbox
    <ciphertext of the bundle>

Bundle (the plaintext)::

    HSPLAN\\x00\\x01  <4-byte big-endian header length>  <header JSON>  <files...>

The header holds the :class:`PlanMetadata` and, for each file (``plan``, and
``lock`` for the dependency lock file), its size and SHA-256; the files
follow in that order.  Both schemes authenticate the ciphertext, so a
damaged or altered file does not open; sizes and hashes are checked again
after opening.  Errors never quote a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from homelab_secrets.errors import ExitCode, UserError

SEALED_MAGIC = b"homelab-secrets sealed plan\n"
BUNDLE_MAGIC = b"HSPLAN\x00\x01"
SCHEMES = ("age", "sealedbox")
FILE_NAMES = ("plan", "lock")
MAX_HEADER = 1 << 20
FORMAT = 1


@dataclass(frozen=True)
class PlanMetadata:
    """Where and how a plan was made; checked before it is applied."""

    tool: str
    working_directory: str
    commit: str
    config_hash: str
    environment: str = ""
    repository: str = ""
    ref: str = ""
    tool_version: str = ""
    created_at: str = ""
    run_id: str = ""
    #: ``{"add": n, "change": n, "destroy": n}`` at plan time
    changes: Mapping[str, int] = field(default_factory=dict)
    format: int = FORMAT

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["changes"] = dict(self.changes)
        return data

    @classmethod
    def from_json(cls, data: Any) -> PlanMetadata:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise _malformed("unknown metadata format")
        known = set(cls.__dataclass_fields__)
        try:
            values = {k: v for k, v in data.items() if k in known}
            meta = cls(**values)
        except TypeError:
            raise _malformed("incomplete metadata") from None
        text_fields = (meta.tool, meta.working_directory, meta.commit, meta.config_hash)
        if not all(isinstance(v, str) for v in text_fields):
            raise _malformed("metadata of the wrong type")
        return meta


@dataclass(frozen=True, repr=False)
class Bundle:
    metadata: PlanMetadata
    files: Mapping[str, bytes]  #: ``plan`` (always) and ``lock`` (when there was one)

    def __repr__(self) -> str:
        sizes = {name: len(data) for name, data in self.files.items()}
        return f"Bundle({self.metadata.working_directory!r}, files={sizes})"


def _malformed(why: str) -> UserError:
    return UserError(
        f"the sealed plan opened but its content is malformed ({why}); it was not made by "
        "homelab-secrets plan-seal, or by an incompatible version",
        ExitCode.ERROR_DECRYPTING_TREE,
    )


# --------------------------------------------------------------------------- bundle bytes


def pack(bundle: Bundle) -> bytes:
    """The plaintext bundle (see the module docstring)."""
    if "plan" not in bundle.files:
        raise UserError("a plan bundle needs the plan file", ExitCode.USAGE)
    names = [n for n in FILE_NAMES if n in bundle.files]
    header = {
        "metadata": bundle.metadata.to_json(),
        "files": [
            {
                "name": n,
                "size": len(bundle.files[n]),
                "sha256": hashlib.sha256(bundle.files[n]).hexdigest(),
            }
            for n in names
        ],
    }
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    body = b"".join(bundle.files[n] for n in names)
    return BUNDLE_MAGIC + struct.pack(">I", len(head)) + head + body


def unpack(data: bytes) -> Bundle:
    """A bundle from its plaintext; sizes and hashes checked."""
    start = len(BUNDLE_MAGIC) + 4
    if not data.startswith(BUNDLE_MAGIC) or len(data) < start:
        raise _malformed("no bundle header")
    (length,) = struct.unpack(">I", data[len(BUNDLE_MAGIC) : start])
    if length > MAX_HEADER or start + length > len(data):
        raise _malformed("header size")
    try:
        header = json.loads(data[start : start + length])
    except ValueError:
        raise _malformed("header is not JSON") from None
    if not isinstance(header, dict) or not isinstance(header.get("files"), list):
        raise _malformed("no file list")
    metadata = PlanMetadata.from_json(header.get("metadata"))
    files: dict[str, bytes] = {}
    offset = start + length
    for entry in header["files"]:
        if not isinstance(entry, dict):
            raise _malformed("file entry")
        name, size, digest = entry.get("name"), entry.get("size"), entry.get("sha256")
        if name not in FILE_NAMES or name in files or not isinstance(size, int) or size < 0:
            raise _malformed("file entry")
        content = data[offset : offset + size]
        if len(content) != size or hashlib.sha256(content).hexdigest() != digest:
            raise _malformed(f"{name} does not match its recorded size and hash")
        files[name] = content
        offset += size
    if offset != len(data) or "plan" not in files:
        raise _malformed("trailing or missing data")
    return Bundle(metadata, files)


# --------------------------------------------------------------------------- keys


def _split_keys(text: str) -> list[str]:
    keys = []
    for raw in text.replace(",", "\n").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keys.append(line)
    return keys


def _nacl_key(text: str, *, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise UserError(
            f"{what} must be age keys or a base64 X25519 key (32 bytes); this is neither",
            ExitCode.USAGE,
        )
    return raw


def scheme_of_public_key(text: str) -> str:
    """``age`` or ``sealedbox`` for a plan-public-key value (checked)."""
    keys = _split_keys(text)
    if not keys:
        raise UserError("plan-public-key is empty: give an age recipient (age1...)", ExitCode.USAGE)
    if all(k.startswith("age1") for k in keys):
        return "age"
    if len(keys) == 1:
        _nacl_key(keys[0], what="plan-public-key")
        return "sealedbox"
    raise UserError(
        "plan-public-key: several keys must all be age recipients (age1...)", ExitCode.USAGE
    )


def seal(plaintext: bytes, public_key: str) -> bytes:
    """Encrypt ``plaintext`` to ``public_key`` (see the module docstring)."""
    scheme = scheme_of_public_key(public_key)
    keys = _split_keys(public_key)
    if scheme == "age":
        import pyrage

        try:
            recipients = [pyrage.x25519.Recipient.from_str(k) for k in keys]
        except pyrage.RecipientError:
            raise UserError(
                "plan-public-key: not a valid age recipient (age1...)", ExitCode.USAGE
            ) from None
        ciphertext: bytes = pyrage.encrypt(plaintext, recipients)
    else:
        from nacl.public import PublicKey, SealedBox

        ciphertext = SealedBox(PublicKey(_nacl_key(keys[0], what="plan-public-key"))).encrypt(
            plaintext
        )
    return SEALED_MAGIC + scheme.encode("ascii") + b"\n" + ciphertext


def scheme_of_sealed(data: bytes) -> str:
    if not data.startswith(SEALED_MAGIC):
        raise UserError(
            "not a sealed plan (made by homelab-secrets plan-seal)", ExitCode.ERROR_DECRYPTING_TREE
        )
    rest = data[len(SEALED_MAGIC) :]
    scheme = rest.split(b"\n", 1)[0].decode("ascii", "replace")
    if scheme not in SCHEMES:
        raise UserError(
            "not a sealed plan (unknown scheme in its header)", ExitCode.ERROR_DECRYPTING_TREE
        )
    return scheme


def _identities(private_key: str, scheme: str) -> Sequence[Any]:
    keys = _split_keys(private_key)
    if not keys:
        raise UserError(
            "PLAN_PRIVATE_KEY is empty: the apply job needs the private key of "
            "plan-public-key (a secret, e.g. of the protected environment)",
            ExitCode.NO_ENCRYPTION_KEY_FOUND,
        )
    is_age = all(k.startswith("AGE-SECRET-KEY-1") for k in keys)
    if scheme == "age":
        if not is_age:
            raise UserError(
                "the plan was sealed to an age recipient, but PLAN_PRIVATE_KEY holds no age "
                "identity (AGE-SECRET-KEY-1...)",
                ExitCode.NO_ENCRYPTION_KEY_FOUND,
            )
        import pyrage

        try:
            return [pyrage.x25519.Identity.from_str(k) for k in keys]
        except pyrage.IdentityError:
            raise UserError(
                "PLAN_PRIVATE_KEY is not a valid age identity", ExitCode.COULD_NOT_RETRIEVE_KEY
            ) from None
    if is_age or len(keys) != 1:
        raise UserError(
            "the plan was sealed to a libsodium (sealed box) key, but PLAN_PRIVATE_KEY is not "
            "one base64 X25519 private key",
            ExitCode.NO_ENCRYPTION_KEY_FOUND,
        )
    from nacl.public import PrivateKey

    return [PrivateKey(_nacl_key(keys[0], what="PLAN_PRIVATE_KEY"))]


def open_sealed(data: bytes, private_key: str) -> bytes:
    """The plaintext of a sealed file; a wrong key and a damaged or altered
    file are one error (the schemes cannot tell them apart)."""
    scheme = scheme_of_sealed(data)
    ciphertext = data[len(SEALED_MAGIC) + len(scheme) + 1 :]
    identities = _identities(private_key, scheme)
    wrong = UserError(
        "PLAN_PRIVATE_KEY cannot open this sealed plan: it was sealed to another key "
        "(plan-public-key and PLAN_PRIVATE_KEY must be a pair), or the file was damaged or "
        "altered after sealing",
        ExitCode.COULD_NOT_RETRIEVE_KEY,
    )
    if scheme == "age":
        import pyrage

        try:
            plaintext: bytes = pyrage.decrypt(ciphertext, list(identities))
        except pyrage.DecryptError:
            raise wrong from None
        return plaintext
    from nacl.exceptions import CryptoError
    from nacl.public import SealedBox

    try:
        return bytes(SealedBox(identities[0]).decrypt(ciphertext))
    except CryptoError:
        raise wrong from None


# --------------------------------------------------------------------------- keys for users


def generate_keypair(scheme: str = "age") -> tuple[str, str]:
    """A new ``(public, private)`` pair as text, for ``plan-keygen``."""
    if scheme == "age":
        import pyrage

        identity = pyrage.x25519.Identity.generate()
        return str(identity.to_public()), str(identity)
    from nacl.public import PrivateKey

    key = PrivateKey.generate()
    return (
        base64.b64encode(bytes(key.public_key)).decode("ascii"),
        base64.b64encode(bytes(key)).decode("ascii"),
    )
