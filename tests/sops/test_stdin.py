"""Standard input for ``decrypt`` and ``encrypt``, and the type flags, as sops
3.11 takes them: the same exit codes, the same bytes, both ways."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.sops_oracle import (
    SOPS,
    AgeKeyPair,
    isolated_env,
    requires_sops,
    run_ours,
    run_sops,
)

pytestmark = requires_sops

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture
def ws(tmp_path: Path, key: AgeKeyPair) -> tuple[Path, Path]:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "repo"
    work.mkdir()
    for name in ("nested.yaml", "data.json", "app.env", "settings.ini", "blob.bin"):
        shutil.copyfile(CORPUS / name, work / name)
        enc = run_sops(["encrypt", "--age", key.recipient, name], cwd=work, home=home)
        assert enc.returncode == 0, enc.stderr
        (work / f"enc-{name}").write_bytes(enc.stdout)
    return work, home


def both(
    args: list[str], ws: tuple[Path, Path], key: AgeKeyPair, stdin: bytes | None = None
) -> tuple[int, bytes, bytes]:
    """Run sops and us alike; the exit codes must match; return (code, theirs, ours)."""
    work, home = ws
    env = {"SOPS_AGE_KEY": key.identity}
    theirs = run_sops(args, cwd=work, home=home, env=env, stdin=stdin)
    ours = run_ours(args, cwd=work, home=home, env=env, stdin=stdin)
    assert ours.returncode == theirs.returncode, (args, theirs.stderr, ours.stderr)
    return theirs.returncode, theirs.stdout, ours.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["decrypt", "--filename-override", "x.yaml"],
        ["decrypt", "--input-type", "yaml", "--output-type", "yaml"],
        ["decrypt", "--input-type", "yaml", "--output-type", "json"],
        ["decrypt", "--filename-override", "x.yaml", "--output-type", "json"],
        ["decrypt", "--filename-override", "x.yaml", "--extract", '["db"]["password"]'],
    ],
)
def test_decrypt_reads_standard_input_like_sops(ws, key, args) -> None:
    data = (ws[0] / "enc-nested.yaml").read_bytes()
    code, theirs, ours = both(args, ws, key, stdin=data)
    assert code == 0
    assert ours == theirs


@pytest.mark.parametrize(
    ("name", "override"),
    [
        ("enc-data.json", "x.json"),
        ("enc-app.env", "x.env"),
        ("enc-settings.ini", "x.ini"),
        ("enc-blob.bin", "x.bin"),
    ],
)
def test_every_store_decrypts_from_standard_input(ws, key, name, override) -> None:
    data = (ws[0] / name).read_bytes()
    code, theirs, ours = both(["decrypt", "--filename-override", override], ws, key, data)
    assert code == 0
    assert ours == theirs


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["decrypt"], 1),  # no name: the binary store, which wants JSON
        (["decrypt", "--input-type", "yaml"], 4),  # output defaults to binary, as in sops
        (["decrypt", "--in-place", "--filename-override", "x.yaml"], 8),
        (["decrypt", "-"], 100),  # "-" is a file name to sops
        (["decrypt", "--filename-override", "x.json"], 1),
        (["encrypt", "--age", "AGE"], 8),  # encrypt needs --filename-override
        (["encrypt", "--age", "AGE", "--input-type", "yaml"], 8),
        (["encrypt", "--age", "AGE", "--in-place", "--filename-override", "x.yaml"], 8),
        (["decrypt", "--in-place", "--output", "out.yaml", "enc-nested.yaml"], 8),
        (["decrypt", "--filename-override", "x.yaml", "--output-type", "dotenv"], 4),
        (["decrypt", "--input-type", "yaml", "enc-nested.yaml", "--output-type", "ini"], 4),
    ],
)
def test_wrong_uses_exit_like_sops(ws, key, args, code) -> None:
    args = [key.recipient if a == "AGE" else a for a in args]
    data = (ws[0] / "enc-nested.yaml").read_bytes()
    got, theirs, ours = both(args, ws, key, stdin=data)
    assert got == code
    assert ours == theirs == b""


def test_an_empty_standard_input_is_an_empty_file(ws, key) -> None:
    args = ["encrypt", "--age", key.recipient, "--filename-override", "x.yaml"]
    code, _, _ = both(args, ws, key, stdin=b"")
    assert code == 92


@pytest.mark.parametrize(
    ("name", "override"),
    [("nested.yaml", "x.yaml"), ("data.json", "x.json"), ("app.env", "x.env")],
)
def test_encrypt_from_standard_input_opens_in_sops(ws, key, name, override) -> None:
    work, home = ws
    args = ["encrypt", "--age", key.recipient, "--filename-override", override]
    ours = run_ours(args, cwd=work, home=home, stdin=(work / name).read_bytes())
    assert ours.returncode == 0, ours.stderr
    (work / f"ours{Path(override).suffix}").write_bytes(ours.stdout)
    env = {"SOPS_AGE_KEY": key.identity}
    theirs = run_sops(["decrypt", f"ours{Path(override).suffix}"], cwd=work, home=home, env=env)
    expected = run_sops(["decrypt", f"enc-{name}"], cwd=work, home=home, env=env)
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stdout == expected.stdout


def test_the_override_name_chooses_the_creation_rule(ws, key) -> None:
    work, home = ws
    other = AgeKeyPair.generate()
    (work / ".sops.yaml").write_text(
        "creation_rules:\n"
        f"  - path_regex: prod/.*\\.yaml$\n    age: {other.recipient}\n"
        f"  - path_regex: .*\n    age: {key.recipient}\n"
    )
    data = (work / "nested.yaml").read_bytes()
    for tool in (run_sops, run_ours):
        out = tool(
            ["encrypt", "--filename-override", "prod/db.yaml"], cwd=work, home=home, stdin=data
        )
        assert out.returncode == 0, out.stderr
        assert other.recipient.encode() in out.stdout
        assert key.recipient.encode() not in out.stdout


def test_a_closed_pipe_ends_decrypt_like_sops(ws, key) -> None:
    """``decrypt big.yaml | head -1``: killed by SIGPIPE (141 in a shell), never 0."""
    work, home = ws
    (work / "big.yaml").write_text("".join(f"k{i}: {'v' * 60}\n" for i in range(20_000)))
    enc = run_sops(["encrypt", "--age", key.recipient, "big.yaml"], cwd=work, home=home)
    (work / "enc-big.yaml").write_bytes(enc.stdout)
    env = isolated_env(home, {"SOPS_AGE_KEY": key.identity})
    ours_cmd = f"{sys.executable} -m homelab_secrets decrypt enc-big.yaml | head -1 >/dev/null"
    codes = []
    for cmd in (f"{SOPS} decrypt enc-big.yaml | head -1 >/dev/null", ours_cmd):
        proc = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {cmd}; echo $?"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        codes.append(proc.stdout.strip().splitlines()[-1])
        assert "Traceback" not in proc.stderr
        assert "BrokenPipe" not in proc.stderr
    assert codes == ["141", "141"]
