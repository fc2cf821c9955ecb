"""The person's own copy of the age key, kept out of the repository.

* ``keychain``: the OS keychain, the way the roadmap keeps AI agents' keys:
  macOS ``security`` (login keychain, service ``homelab-secrets``) or, on
  Linux, the Secret Service (GNOME Keyring, KeePassXC...) through
  ``secret-tool``.  The value goes to the tool on its **standard input**,
  never on its command line (``security -i`` reads its command from stdin;
  ``secret-tool store`` reads the secret from stdin), so no process listing
  shows it.  :func:`key_cmd` is the ``SOPS_AGE_KEY_CMD`` that reads it back,
  which sops and our engine both run (split like a shell would, no shell).
* ``file``: sops' default keys file (``$XDG_CONFIG_HOME/sops/age/keys.txt``),
  mode 0600 in a 0700 folder, the identity appended with an
  ``age-keygen``-style comment; other identities in it are kept.

Every store is read back and compared (in memory) before it counts as done.
Messages name the tool, the item and the exit status, never the value or the
tool's output.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from homelab_secrets.errors import ExitCode, UserError

SERVICE = "homelab-secrets"
KEYCHAINS = {"macos": "macOS keychain", "secret-service": "Secret Service keyring"}
_ITEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/@:+-]{0,199}\Z")
_BARE = re.compile(r"[A-Za-z0-9._/@:+-]+\Z")


def backend(platform: str | None = None) -> str:
    """``macos`` (``security``) or ``secret-service`` (``secret-tool``)."""
    return "macos" if (platform or sys.platform) == "darwin" else "secret-service"


def check_item(item: str) -> str:
    if not _ITEM.match(item):
        raise UserError(
            f"{item!r} cannot name a keychain item: letters, digits and ._/@:+- only",
            ExitCode.USAGE,
        )
    return item


def key_cmd(kind: str, item: str) -> str:
    """The ``SOPS_AGE_KEY_CMD`` value that prints the stored key."""
    if kind == "macos":
        argv = ["security", "find-generic-password", "-s", SERVICE, "-a", item, "-w"]
    else:
        argv = ["secret-tool", "lookup", "service", SERVICE, "account", item]
    return shlex.join(argv)


def _run(argv: list[str], environ: Mapping[str, str], stdin: str | None = None) -> tuple[int, str]:
    try:
        proc = subprocess.run(
            argv,
            input=(stdin or "").encode(),
            capture_output=True,
            env=dict(environ),
            check=False,
            timeout=60,
        )
    except FileNotFoundError:
        hint = (
            "macOS ships it"
            if argv[0] == "security"
            else "install libsecret-tools (Debian/Ubuntu) or libsecret (Fedora, Arch)"
        )
        raise UserError(f"{argv[0]} is not installed ({hint})", ExitCode.ERROR) from None
    except subprocess.TimeoutExpired:
        raise UserError(
            f"{argv[0]} did not answer within 60 s (is the keychain waiting to be unlocked?)",
            ExitCode.ERROR,
        ) from None
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def keychain_read(kind: str, item: str, environ: Mapping[str, str]) -> str | None:
    """The stored value (trailing newline removed), or None when there is none."""
    code, out = _run(shlex.split(key_cmd(kind, check_item(item))), environ)
    if code != 0:
        return None
    return out[:-1] if out.endswith("\n") else out


def keychain_store(kind: str, item: str, value: str, environ: Mapping[str, str]) -> None:
    """Store ``value`` (one line) under ``item``, replacing what was there,
    then read it back."""
    from homelab_secrets.onboard.agekey import same

    check_item(item)
    if "\n" in value or "\r" in value:
        raise UserError("a keychain item holds one key (one line)", ExitCode.USAGE)
    label = f"homelab-secrets:{item}"  # no spaces: `security -i` needs no quoting then
    if kind == "macos":
        # `security -i` reads commands from stdin: the value never reaches argv
        words = ["add-generic-password", "-U", "-s", SERVICE, "-a", item, "-l", label, "-w", value]
        if not all(_BARE.match(word) for word in words):
            raise UserError("the key or the item name has characters security -i cannot take")
        code, _ = _run(["security", "-i"], environ, stdin=" ".join(words) + "\n")
        tool = "security add-generic-password"
    else:
        argv = ["secret-tool", "store", f"--label={label}", "service", SERVICE, "account", item]
        code, _ = _run(argv, environ, stdin=value)
        tool = "secret-tool store"
    back = keychain_read(kind, item, environ) if code == 0 else None
    if back is None or not same(back, value):
        raise UserError(
            f"{tool} could not store the key as {SERVICE}/{item}"
            + (f" (exit status {code})" if code else " (reading it back failed)")
            + "; is the keychain unlocked"
            + (
                "?"
                if kind == "macos"
                else " and a Secret Service (gnome-keyring, KeePassXC) running?"
            ),
            ExitCode.ERROR,
        )


def keys_file_has(path: Path, identity: str) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}", ExitCode.ERROR) from None
    return identity in (line.rstrip("\r") for line in text.split("\n"))


def keys_file_add(path: Path, identity: str, recipient: str, note: str) -> bool:
    """Append the identity to sops' keys file (0600); False when it is there."""
    from homelab_secrets.fsutil import PRIVATE_DIR, PRIVATE_FILE, write_atomic

    if keys_file_has(path, identity):
        return False
    try:
        old = path.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        old = ""
    if old and not old.endswith("\n"):
        old += "\n"
    stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    entry = f"# created: {stamp} ({note})\n# public key: {recipient}\n{identity}\n"
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    write_atomic(str(path), (old + entry).encode("utf-8", "surrogateescape"), mode=PRIVATE_FILE)
    if not keys_file_has(path, identity):
        raise UserError(f"could not add the key to {path}", ExitCode.COULD_NOT_WRITE_OUTPUT_FILE)
    return True


def keys_file_path(environ: Mapping[str, str]) -> Path:
    from homelab_secrets.sops.keys.age import user_config_keys_path

    return Path(user_config_keys_path(environ))


def default_item(root: Path, key_name: str) -> str:
    """``<repository folder>/<secret name>``, e.g. ``terraform-proxmox/SOPS_AGE_KEY``."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", os.path.basename(os.path.abspath(root))) or "repo"
    return f"{name}/{key_name}"
