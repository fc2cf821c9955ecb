"""The SOPS pipelines: decrypt, encrypt, re-key, rotate (sops' ``decrypt/decrypt.go``
and ``cmd/sops``), on bytes and keys.  No files, no terminal: the CLI does that.
"""

from __future__ import annotations

import os

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sops.cipher import Cipher, CipherError
from homelab_secrets.sops.keys import age as age_keys
from homelab_secrets.sops.keys import shamir
from homelab_secrets.sops.metadata import (
    SOPS_VERSION,
    AgeKey,
    MasterKey,
    Metadata,
    key_type,
    now_rfc3339,
)
from homelab_secrets.sops.model import Branch
from homelab_secrets.sops.stores import get_store
from homelab_secrets.sops.tree import Rules, decrypt_tree, encrypt_tree

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

DATA_KEY_SIZE = 32

if TYPE_CHECKING:
    #: Lazily loads age identities (so that files we cannot open fail before we
    #: run SOPS_AGE_KEY_CMD, and so that tests can inject identities).
    IdentityLoader = Callable[[], age_keys.Identities]


def environment_identities(environ: Mapping[str, str] | None = None) -> IdentityLoader:
    cache: list[age_keys.Identities] = []

    def load() -> age_keys.Identities:
        if not cache:
            cache.append(age_keys.load_identities(environ))
        return cache[0]

    return load


class DataKeyError(UserError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.COULD_NOT_RETRIEVE_KEY)


class Decrypted:
    """A decrypted file: its tree, metadata, data key and what was encrypted."""

    __slots__ = ("branches", "cipher", "data_key", "metadata", "plain_comments", "secrets")

    def __init__(
        self,
        branches: list[Branch],
        metadata: Metadata,
        data_key: bytes,
        cipher: Cipher,
        plain_comments: list[tuple[str, ...]] | None = None,
        secrets: list[tuple[tuple[str, ...], Any]] | None = None,
    ) -> None:
        self.branches = branches
        self.metadata = metadata
        self.data_key = data_key
        self.cipher = cipher
        #: key paths of comments that looked encrypted but did not decrypt
        self.plain_comments = plain_comments or []
        #: (key path, plaintext) of every value that was encrypted, when asked for
        self.secrets = secrets or []

    def __repr__(self) -> str:
        return f"Decrypted({self.metadata!r})"


# ---------------------------------------------------------------- data key
def recover_data_key(metadata: Metadata, identities: IdentityLoader) -> bytes:
    """Recover the data key from the key groups (age keys only), with Shamir
    when there are several groups.  Fails like sops (exit 128) with one line
    per group and key folded into the message."""
    groups = metadata.key_groups
    parts: list[bytes] = []
    reports: list[str] = []
    for index, group in enumerate(groups):
        part, errors = _decrypt_group(group, identities)
        if part is not None:
            parts.append(part)
            reports.append(f"group {index}: SUCCESS")
        else:
            reports.append(f"group {index}: FAILED ({'; '.join(errors)})")
    if len(groups) > 1:
        threshold = metadata.shamir_threshold or len(groups)
        if len(parts) < threshold:
            raise DataKeyError(
                "Failed to get the data key required to decrypt the SOPS file: "
                + ", ".join(reports)
                + f". Recovery failed because the file was encrypted with a Shamir threshold "
                f"of {threshold}, but only {len(parts)} part(s) were successfully recovered"
            )
        try:
            key = shamir.combine(parts)
        except shamir.ShamirError as exc:
            raise DataKeyError(f"could not get data key from shamir parts: {exc}") from None
    else:
        if len(parts) != 1:
            raise DataKeyError(
                "Failed to get the data key required to decrypt the SOPS file: "
                + ", ".join(reports)
                + ". Recovery failed because no master key was able to decrypt the file"
            )
        key = parts[0]
    if len(key) != DATA_KEY_SIZE:
        raise DataKeyError("the recovered data key has the wrong size (corrupt key group?)")
    return key


def _decrypt_group(
    group: list[MasterKey], identities: IdentityLoader
) -> tuple[bytes | None, list[str]]:
    errors: list[str] = []
    # sops' default decryption order: age, then pgp, then the rest in file order
    ordered = sorted(group, key=lambda k: {"age": 0, "pgp": 1}.get(key_type(k), 2))
    for key in ordered:
        if isinstance(key, AgeKey):
            loaded = identities()
            if not loaded.identities:
                errors.append(
                    f"{key.recipient}: failed to load age identities" + loaded.describe_failure()
                )
                continue
            try:
                return age_keys.decrypt_data_key(key.enc, loaded.identities), errors
            except age_keys.AgeError as exc:
                errors.append(f"{key.recipient}: {exc}{loaded.describe_failure()}")
        else:
            errors.append(
                f"{key.type} key {key.name}: {key.type} keys are not supported by "
                "homelab-secrets (only age)"
            )
    return None, errors


# ---------------------------------------------------------------- decrypt
def load_encrypted(data: bytes, fmt: str, **store_options: Any) -> tuple[list[Branch], Metadata]:
    branches, raw = get_store(fmt, **store_options).load_encrypted(data)
    return branches, Metadata.from_raw(raw)


def decrypt(
    data: bytes,
    fmt: str,
    identities: IdentityLoader,
    *,
    ignore_mac: bool = False,
    collect_secrets: bool = False,
    data_key: bytes | None = None,
) -> Decrypted:
    """Decrypt a whole file, verifying the MAC unless ``ignore_mac``.

    With ``collect_secrets`` the result lists every decrypted value (to mask).
    ``data_key``: the file's data key when it is already known (it is then not
    recovered from the key groups; a wrong one fails like a tampered file).
    The result's cipher remembers the IV of every value (sops' stash)."""
    branches, metadata = load_encrypted(data, fmt)
    if data_key is None:
        data_key = recover_data_key(metadata, identities)
    try:
        cipher = Cipher(data_key)
    except CipherError:
        raise DataKeyError("the data key has the wrong size") from None
    plain_comments: list[tuple[str, ...]] = []
    secrets: list[tuple[tuple[str, ...], Any]] = []
    computed = decrypt_tree(
        branches,
        cipher,
        metadata.rules,
        plain_comments.append,
        (lambda path, value: secrets.append((path, value))) if collect_secrets else None,
    )
    if not ignore_mac:
        verify_mac(metadata, cipher, computed)
    return Decrypted(branches, metadata, data_key, cipher, plain_comments, secrets)


def verify_mac(metadata: Metadata, cipher: Cipher, computed: str) -> None:
    try:
        stored = cipher.decrypt(metadata.mac, metadata.lastmodified)
    except CipherError:
        raise UserError(
            "Cannot decrypt MAC: the MAC or 'lastmodified' was changed, or the file was "
            "tampered with (use --ignore-mac to read it anyway)",
            ExitCode.MAC_MISMATCH,
        ) from None
    if stored == "":
        raise UserError(
            "MAC mismatch: the file has no MAC (use --ignore-mac to read it anyway)",
            ExitCode.MAC_MISMATCH,
        )
    if stored != computed:
        raise UserError(
            "MAC mismatch: the file's values were changed outside sops, reordered or "
            "tampered with (use --ignore-mac to read it anyway)",
            ExitCode.MAC_MISMATCH,
        )


# ---------------------------------------------------------------- encrypt
def check_threshold(groups: list[list[MasterKey]], threshold: int) -> int:
    if len(groups) <= 1:
        return 0
    threshold = threshold or len(groups)
    if threshold < 2 or threshold > len(groups):
        raise UserError(
            "Could not generate data key: could not split data key into parts for Shamir: "
            + (
                "threshold must be at least 2"
                if threshold < 2
                else "parts cannot be less than threshold"
            ),
            ExitCode.ERROR_GENERIC,
        )
    return threshold


def wrap_data_key(data_key: bytes, metadata: Metadata) -> None:
    """Wrap the data key (or Shamir parts) for every key; age keys only."""
    groups = metadata.key_groups
    if not groups or not any(groups):
        raise UserError(
            "no keys to encrypt with: give --age or a .sops.yaml creation rule with keys",
            ExitCode.NO_ENCRYPTION_KEY_FOUND,
        )
    if len(groups) == 1:
        parts = [data_key]
    else:
        metadata.shamir_threshold = check_threshold(groups, metadata.shamir_threshold)
        parts = shamir.split(data_key, len(groups), metadata.shamir_threshold)
    for group, part in zip(groups, parts, strict=True):
        for key in group:
            if not isinstance(key, AgeKey):
                raise UserError(
                    f"cannot encrypt for {key.type} key {key.name}: homelab-secrets supports "
                    "only age keys (keep using sops for files that need them)",
                    ExitCode.ERROR_GENERIC,
                )
            try:
                key.enc = age_keys.encrypt_data_key(part, key.recipient)
            except age_keys.AgeError as exc:
                raise UserError(str(exc), ExitCode.ERROR_GENERIC) from None


def seal(branches: list[Branch], metadata: Metadata, cipher: Cipher) -> None:
    """Encrypt ``branches`` in place and set ``lastmodified`` and ``mac``
    (sops' ``common.EncryptTree``: the ``version`` is the caller's business).
    Values the cipher decrypted before (its stash) keep their ciphertext."""
    mac = encrypt_tree(branches, cipher, metadata.rules)
    metadata.lastmodified = now_rfc3339()
    metadata.mac = cipher.encrypt(mac, metadata.lastmodified)


def encrypt(
    branches: list[Branch],
    key_groups: list[list[MasterKey]],
    *,
    rules: Rules,
    shamir_threshold: int = 0,
    binary: bool = False,
) -> Metadata:
    """Encrypt plain ``branches`` in place with a new data key; return the metadata."""
    # Encryption rules do not apply to the binary store, and sops writes none
    # there (not even the default suffix, which readers then assume).
    metadata = Metadata(
        key_groups=[[_fresh(k) for k in g] for g in key_groups],
        shamir_threshold=shamir_threshold if len(key_groups) > 1 else 0,
        rules=Rules() if binary else rules.effective(),
    )
    data_key = new_data_key()
    wrap_data_key(data_key, metadata)
    seal(branches, metadata, Cipher(data_key))
    metadata.version = SOPS_VERSION
    return metadata


def new_data_key() -> bytes:
    return os.urandom(DATA_KEY_SIZE)


def _fresh(key: MasterKey) -> MasterKey:
    return AgeKey(key.recipient) if isinstance(key, AgeKey) else key
