"""age master keys (sops' ``age/keysource.go``), on top of ``pyrage``.

* The data key (or a Shamir share) is wrapped once per recipient as an armored
  age file whose payload is the raw bytes.
* Identities are found where sops finds them, and *all* sources found are
  loaded: ``SOPS_AGE_SSH_PRIVATE_KEY_FILE``, ``~/.ssh/id_ed25519``,
  ``~/.ssh/id_rsa``, ``SOPS_AGE_KEY`` (one identity per line),
  ``SOPS_AGE_KEY_FILE``, ``SOPS_AGE_KEY_CMD`` (split like a shell would, run
  without a shell), then ``$XDG_CONFIG_HOME`` (or ``~/.config``)``/sops/age/keys.txt``.
* Identity text is parsed like sops: one per line, ``#`` lines and empty lines
  skipped, lines **not** trimmed (CRLF line ends are accepted).

Nothing here ever includes key material in a message or repr.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

KEY_TYPE = "age"
SOPS_AGE_KEY = "SOPS_AGE_KEY"
SOPS_AGE_KEY_FILE = "SOPS_AGE_KEY_FILE"
SOPS_AGE_KEY_CMD = "SOPS_AGE_KEY_CMD"
SOPS_AGE_SSH_PRIVATE_KEY_FILE = "SOPS_AGE_SSH_PRIVATE_KEY_FILE"
USER_CONFIG_PATH = ("sops", "age", "keys.txt")


class AgeError(Exception):
    """A recipient or identity problem. Messages name locations, never keys."""


class IdentitySource:
    """Where an age identity may come from (for ``doctor``: names, never values)."""

    __slots__ = ("available", "location", "name")

    def __init__(self, name: str, location: str, available: bool) -> None:
        self.name = name
        self.location = location
        self.available = available

    def __repr__(self) -> str:
        return f"IdentitySource({self.name!r}, available={self.available})"


def _home(environ: Mapping[str, str]) -> str:
    return environ.get("HOME") or os.path.expanduser("~")


def user_config_keys_path(environ: Mapping[str, str], platform: str | None = None) -> str:
    """sops' ``getUserConfigDir()/sops/age/keys.txt``: ``$XDG_CONFIG_HOME``
    when set, else Go's ``os.UserConfigDir()``: ``~/Library/Application
    Support`` on macOS, ``~/.config`` elsewhere."""
    import sys

    base = environ.get("XDG_CONFIG_HOME")
    if not base:
        darwin = (platform or sys.platform) == "darwin"
        sub = ("Library", "Application Support") if darwin else (".config",)
        base = os.path.join(_home(environ), *sub)
    return os.path.join(base, *USER_CONFIG_PATH)


def identity_sources(environ: Mapping[str, str] | None = None) -> list[IdentitySource]:
    """Every place sops looks for age identities, in sops' order, and whether
    something is there.  Reads no key material and runs no command."""
    env = os.environ if environ is None else environ
    home = _home(env)
    ssh_file = env.get(SOPS_AGE_SSH_PRIVATE_KEY_FILE)
    key_file = env.get(SOPS_AGE_KEY_FILE)
    user_keys = user_config_keys_path(env)
    ed25519 = os.path.join(home, ".ssh", "id_ed25519")
    rsa = os.path.join(home, ".ssh", "id_rsa")
    return [
        IdentitySource(SOPS_AGE_KEY, f"environment variable {SOPS_AGE_KEY}", SOPS_AGE_KEY in env),
        IdentitySource(
            SOPS_AGE_KEY_FILE,
            key_file if key_file is not None else f"environment variable {SOPS_AGE_KEY_FILE}",
            key_file is not None and os.path.isfile(key_file),
        ),
        IdentitySource(
            SOPS_AGE_KEY_CMD, f"environment variable {SOPS_AGE_KEY_CMD}", SOPS_AGE_KEY_CMD in env
        ),
        IdentitySource("keys.txt", user_keys, os.path.isfile(user_keys)),
        IdentitySource(
            SOPS_AGE_SSH_PRIVATE_KEY_FILE,
            ssh_file
            if ssh_file is not None
            else f"environment variable {SOPS_AGE_SSH_PRIVATE_KEY_FILE}",
            ssh_file is not None and os.path.isfile(ssh_file),
        ),
        IdentitySource("id_ed25519", ed25519, os.path.isfile(ed25519)),
        IdentitySource("id_rsa", rsa, os.path.isfile(rsa)),
    ]


class Identities:
    """Loaded identities plus what sops reports when none of them fits."""

    __slots__ = ("errors", "identities", "unused_locations")

    def __init__(self) -> None:
        self.identities: list[Any] = []
        self.unused_locations: list[str] = []
        self.errors: list[str] = []

    def __repr__(self) -> str:
        return f"Identities(<{len(self.identities)} identities>)"

    def describe_failure(self) -> str:
        """sops' suffix: load errors and the locations where no key was found."""
        text = ""
        if self.errors:
            text += ". Errors while loading age identities: " + "; ".join(self.errors)
        unused = self.unused_locations
        if unused:
            if len(unused) == 1:
                where = f" '{unused[0]}'"
            elif len(unused) == 2:
                where = f"s '{unused[0]}' and '{unused[1]}'"
            else:
                where = "s '" + "', '".join(unused[:-1]) + f"', and '{unused[-1]}'"
            text += f". Did not find keys in location{where}."
        return text


def parse_identities(text: str, location: str) -> list[Any]:
    """Parse identity lines (sops' ``parseIdentities``).  Errors name the
    location and line number only."""
    import pyrage

    if text.startswith(("age-encryption.org/", "-----BEGIN AGE ENCRYPTED FILE-----")):
        raise AgeError(
            f"failed to parse '{location}' age identities: passphrase-protected identity "
            "files are not supported; decrypt it first (age -d) and pass the identities"
        )
    found: list[Any] = []
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line[:-1] if raw_line.endswith("\r") else raw_line
        if line == "" or line.startswith("#"):
            continue
        if line.startswith("AGE-SECRET-KEY-1"):
            try:
                found.append(pyrage.x25519.Identity.from_str(line))
            except Exception:
                raise AgeError(
                    f"failed to parse '{location}' age identities: line {number}: "
                    "malformed secret key"
                ) from None
        elif line.startswith("AGE-SECRET-KEY-PQ-1"):
            raise AgeError(
                f"failed to parse '{location}' age identities: line {number}: "
                "post-quantum (AGE-SECRET-KEY-PQ-1) identities are not supported yet"
            )
        elif line.startswith("AGE-PLUGIN-"):
            raise AgeError(
                f"failed to parse '{location}' age identities: line {number}: "
                "age plugin identities are not supported"
            )
        else:
            raise AgeError(
                f"failed to parse '{location}' age identities: line {number}: unknown identity type"
            )
    return found


def _parse_ssh_identity(path: str) -> list[Any]:
    import pyrage

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise AgeError(f"failed to open SSH key file '{path}': {exc.strerror}") from None
    try:
        return [pyrage.ssh.Identity.from_buffer(data)]
    except Exception:
        raise AgeError(
            f"failed to parse SSH identity from '{path}' (encrypted SSH keys are not supported)"
        ) from None


def load_identities(environ: Mapping[str, str] | None = None) -> Identities:
    """Load every identity sops would load, collecting (secret-free) errors."""
    env = os.environ if environ is None else environ
    out = Identities()
    home = _home(env)

    def add(loader: Any, *args: Any) -> None:
        try:
            out.identities.extend(loader(*args))
        except AgeError as exc:
            out.errors.append(str(exc))

    ssh_file = env.get(SOPS_AGE_SSH_PRIVATE_KEY_FILE)
    if ssh_file is not None:
        add(_parse_ssh_identity, ssh_file)
    else:
        out.unused_locations.append(SOPS_AGE_SSH_PRIVATE_KEY_FILE)
    for name in ("id_ed25519", "id_rsa"):
        path = os.path.join(home, ".ssh", name)
        if os.path.exists(path):
            add(_parse_ssh_identity, path)
        else:
            out.unused_locations.append(path)

    readers: list[tuple[str, str]] = []
    if SOPS_AGE_KEY in env:
        readers.append((SOPS_AGE_KEY, env[SOPS_AGE_KEY]))
    else:
        out.unused_locations.append(SOPS_AGE_KEY)
    if SOPS_AGE_KEY_FILE in env:
        try:
            with open(env[SOPS_AGE_KEY_FILE], encoding="utf-8", errors="surrogateescape") as fh:
                readers.append((SOPS_AGE_KEY_FILE, fh.read()))
        except OSError as exc:
            out.errors.append(f"failed to open {SOPS_AGE_KEY_FILE} file: {exc.strerror}")
    else:
        out.unused_locations.append(SOPS_AGE_KEY_FILE)
    if SOPS_AGE_KEY_CMD in env:
        text = _run_key_cmd(env[SOPS_AGE_KEY_CMD], env, out)
        if text is not None:
            readers.append((SOPS_AGE_KEY_CMD, text))
    else:
        out.unused_locations.append(SOPS_AGE_KEY_CMD)
    user_keys = user_config_keys_path(env)
    try:
        with open(user_keys, encoding="utf-8", errors="surrogateescape") as fh:
            readers.append((user_keys, fh.read()))
    except FileNotFoundError:
        if not readers and not out.identities:
            out.unused_locations.append(user_keys)
    except OSError as exc:
        out.errors.append(f"failed to open file: {exc.strerror}")

    for location, text in readers:
        before = len(out.identities)
        add(parse_identities, text, location)
        if len(out.identities) == before and not any(location in e for e in out.errors):
            out.unused_locations.append(location)
    return out


def _run_key_cmd(command: str, env: Mapping[str, str], out: Identities) -> str | None:
    import shlex
    import subprocess

    try:
        argv = shlex.split(command)
    except ValueError:
        out.errors.append(f"failed to parse the command in {SOPS_AGE_KEY_CMD}")
        return None
    if not argv:
        out.errors.append(f"{SOPS_AGE_KEY_CMD} is empty")
        return None
    try:
        proc = subprocess.run(
            argv, env=dict(env), stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
    except OSError as exc:
        out.errors.append(
            f"failed to execute the command from {SOPS_AGE_KEY_CMD} ({argv[0]}): {exc.strerror}"
        )
        return None
    if proc.returncode != 0:
        out.errors.append(
            f"failed to execute the command from {SOPS_AGE_KEY_CMD} ({argv[0]}): "
            f"exit status {proc.returncode}"
        )
        return None
    return proc.stdout.decode("utf-8", "surrogateescape")


def parse_recipient(recipient: str) -> Any:
    """A pyrage recipient for an ``age1…`` or ``ssh-…`` public key."""
    import pyrage

    recipient = recipient.strip()
    if recipient.startswith("age1pq1"):
        raise AgeError(f"post-quantum age recipients are not supported yet: {recipient}")
    if recipient.startswith("age1") and recipient.count("1") > 1:
        raise AgeError(f"age plugin recipients are not supported: {recipient}")
    try:
        if recipient.startswith("age1"):
            return pyrage.x25519.Recipient.from_str(recipient)
        if recipient.startswith("ssh-"):
            return pyrage.ssh.Recipient.from_str(recipient)
    except Exception:
        raise AgeError(
            f"failed to parse input as Bech32-encoded age public key: {recipient!r}"
        ) from None
    raise AgeError(f"failed to parse input, unknown recipient type: {recipient!r}")


def encrypt_data_key(data_key: bytes, recipient: str) -> str:
    """Wrap ``data_key`` for one recipient: an armored age file (with trailing newline)."""
    import pyrage

    parsed = parse_recipient(recipient)
    armored: bytes = pyrage.encrypt(data_key, [parsed], armored=True)
    text = armored.decode("ascii")
    return text if text.endswith("\n") else text + "\n"


def decrypt_data_key(enc: str, identities: Sequence[Any]) -> bytes:
    """Unwrap an armored age file with any of ``identities``."""
    import pyrage

    if not identities:
        raise AgeError("no age identities available")
    try:
        data: bytes = pyrage.decrypt(enc.encode("utf-8"), list(identities))
    except pyrage.DecryptError:
        raise AgeError(
            "identity did not match any of the recipients: incorrect identity for recipient block"
        ) from None
    except Exception:
        raise AgeError("malformed age ciphertext in the file's 'enc' block") from None
    return data
