"""In-place and --output writes behave like sops: through symbolic links, and
never replacing a file this process may not write (exit 3).  Plaintext
written in place is tightened to 0600 (sops keeps the old mode; README)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from support.sops_oracle import SOPS, AgeKeyPair, isolated_env, requires_sops, run_ours, run_sops

pytestmark = requires_sops

PLAIN = b"db:\n    password: pw-Secret-1\n    port: 5432\n"

#: Run a command as a process that may not write read-only files: for root,
#: without CAP_DAC_OVERRIDE (root may write anything otherwise, sops too).
if os.geteuid() == 0:
    _SETPRIV = shutil.which("setpriv")
    UNPRIVILEGED: list[str] | None = (
        [_SETPRIV, "--bounding-set=-dac_override,-dac_read_search", "--"] if _SETPRIV else None
    )
else:
    UNPRIVILEGED = []


@pytest.fixture(scope="module")
def key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture
def ws(tmp_path: Path, key: AgeKeyPair) -> tuple[Path, Path]:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "repo"
    work.mkdir()
    (work / "p.yaml").write_bytes(PLAIN)
    enc = run_sops(["encrypt", "--age", key.recipient, "p.yaml"], cwd=work, home=home)
    assert enc.returncode == 0, enc.stderr
    (work / "e.yaml").write_bytes(enc.stdout)
    return work, home


def _both(work: Path, name: str) -> tuple[Path, Path]:
    """Two copies of ``name`` (one for sops, one for us), each behind a link."""
    links = []
    for who in ("sops", "ours"):
        real = work / f"{who}-target.yaml"
        shutil.copyfile(work / name, real)
        link = work / f"{who}-link.yaml"
        link.symlink_to(real.name)
        links.append(link)
    return links[0], links[1]


def test_decrypt_in_place_writes_through_a_symlink_like_sops(
    ws: tuple[Path, Path], key: AgeKeyPair
) -> None:
    work, home = ws
    theirs, ours = _both(work, "e.yaml")
    env = {"SOPS_AGE_KEY": key.identity}
    assert run_sops(["decrypt", "-i", theirs.name], cwd=work, home=home, env=env).returncode == 0
    assert run_ours(["decrypt", "-i", ours.name], cwd=work, home=home, env=env).returncode == 0
    for link in (theirs, ours):
        assert link.is_symlink()
        assert link.resolve().read_bytes() == PLAIN


def test_encrypt_in_place_writes_through_a_symlink_like_sops(
    ws: tuple[Path, Path], key: AgeKeyPair
) -> None:
    work, home = ws
    theirs, ours = _both(work, "p.yaml")
    args = ["encrypt", "-i", "--age", key.recipient]
    assert run_sops([*args, theirs.name], cwd=work, home=home).returncode == 0
    assert run_ours([*args, ours.name], cwd=work, home=home).returncode == 0
    env = {"SOPS_AGE_KEY": key.identity}
    for link in (theirs, ours):
        assert link.is_symlink()
        assert b"ENC[AES256_GCM" in link.resolve().read_bytes()
        out = run_sops(["decrypt", link.resolve().name], cwd=work, home=home, env=env)
        assert out.stdout == PLAIN


def _unprivileged(argv: Sequence[str], work: Path, home: Path, env: dict[str, str]) -> int:
    assert UNPRIVILEGED is not None
    proc = subprocess.run(
        [*UNPRIVILEGED, *argv],
        cwd=work,
        env=isolated_env(home, env),
        capture_output=True,
        timeout=60,
        check=False,
    )
    return proc.returncode


@pytest.mark.skipif(UNPRIVILEGED is None, reason="root without setpriv cannot drop DAC override")
@pytest.mark.parametrize(
    "args",
    [
        ["decrypt", "-i", "{f}"],
        ["decrypt", "--output", "{f}", "e.yaml"],
        ["encrypt", "-i", "--age", "{r}", "{f}"],
    ],
)
def test_a_read_only_file_is_refused_with_exit_3_like_sops(
    ws: tuple[Path, Path], key: AgeKeyPair, args: list[str]
) -> None:
    work, home = ws
    source = "p.yaml" if args[0] == "encrypt" else "e.yaml"
    env = {"SOPS_AGE_KEY": key.identity}
    for who, cmd in (("sops", [SOPS]), ("ours", [sys.executable, "-m", "homelab_secrets"])):
        target = work / f"{who}-ro.yaml"
        shutil.copyfile(work / source, target)
        os.chmod(target, 0o444)
        before = target.read_bytes()
        argv = [a.format(f=target.name, r=key.recipient) for a in args]
        assert _unprivileged([*cmd, *argv], work, home, env) == 3, who
        assert target.read_bytes() == before, who
        assert stat.S_IMODE(target.stat().st_mode) == 0o444, who
        assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == [], who


def test_decrypted_in_place_plaintext_is_0600_where_sops_keeps_the_mode(
    ws: tuple[Path, Path], key: AgeKeyPair
) -> None:
    work, home = ws
    env = {"SOPS_AGE_KEY": key.identity}
    for who, run in (("sops", run_sops), ("ours", run_ours)):
        target = work / f"{who}.yaml"
        shutil.copyfile(work / "e.yaml", target)
        os.chmod(target, 0o644)
        assert run(["decrypt", "-i", target.name], cwd=work, home=home, env=env).returncode == 0
    assert stat.S_IMODE((work / "sops.yaml").stat().st_mode) == 0o644
    assert stat.S_IMODE((work / "ours.yaml").stat().st_mode) == 0o600
    os.chmod(work / "ours.yaml", 0o640)
    args = ["encrypt", "-i", "--age", key.recipient, "ours.yaml"]
    assert run_ours(args, cwd=work, home=home).returncode == 0
    assert stat.S_IMODE((work / "ours.yaml").stat().st_mode) == 0o640  # encrypted: kept
