"""The configuration a plan was made from, as one hash.

The commit pins the repository; this hash pins what else shapes a plan at
that commit, as it is on disk when the plan is made and again before it is
applied:

* every file under the working directory (paths and contents; untracked and
  generated files too), except Terraform's own working data (``.terraform/``,
  local state files) and the dependency lock file, which ``init`` may rewrite
  and which the sealed plan carries itself;
* the tool, the working directory, the environment, and the ``-var-file`` and
  ``-backend-config`` arguments, with the contents of those that are files.

Secret inputs (SOPS tfvars, provider values) are not part of it: a saved plan
already holds its variables, and ``apply PLANFILE`` takes no others.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from homelab_secrets.errors import ExitCode, UserError

#: Directories never hashed (Terraform's data, VCS, our own checkout).
SKIP_DIRS = frozenset({".terraform", ".git", ".homelab-secrets"})
#: Files never hashed.
SKIP_FILES = frozenset(
    {
        ".terraform.lock.hcl",
        "terraform.tfstate",
        "terraform.tfstate.backup",
        ".terraform.tfstate.lock.info",
    }
)


def _files(top: Path) -> Iterator[tuple[str, Path]]:
    for current, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name in SKIP_FILES or name.endswith((".tfstate", ".tfstate.backup")):
                continue
            path = Path(current) / name
            yield path.relative_to(top).as_posix(), path
        for name in dirs:  # symbolic links to directories: hashed as links, not followed
            path = Path(current) / name
            if path.is_symlink():
                yield path.relative_to(top).as_posix(), path


def _digest(path: Path) -> str:
    if path.is_symlink():
        return "link:" + os.readlink(path)
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def config_hash(
    root: Path,
    working_directory: str,
    *,
    tool: str,
    environment: str = "",
    var_files: Sequence[str] = (),
    backend_config: Sequence[str] = (),
) -> str:
    """``sha256:<hex>`` of the configuration (see the module docstring).
    ``root`` is the workspace; paths in ``var_files`` and ``backend_config``
    are relative to the working directory, as Terraform reads them."""
    top = (root / working_directory).resolve()
    if not top.is_dir():
        raise UserError(
            f"working directory {working_directory!r} does not exist in the workspace",
            ExitCode.USAGE,
        )
    h = hashlib.sha256()

    def feed(*parts: str) -> None:
        h.update(json.dumps(parts).encode("utf-8") + b"\n")

    feed("homelab-secrets config hash", "1")
    feed("tool", tool)
    feed("working-directory", Path(working_directory).as_posix().strip("/") or ".")
    feed("environment", environment)
    for kind, items in (("var-file", var_files), ("backend-config", backend_config)):
        for item in items:
            candidate = top / item
            content = _digest(candidate) if candidate.is_file() else "-"
            feed(kind, item, content)
    for rel, path in _files(top):
        feed("file", rel, _digest(path))
    return "sha256:" + h.hexdigest()
