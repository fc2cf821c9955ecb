"""``exec-env`` and ``exec-file`` against the real sops: the command sees the
same environment and the same file content as under sops, exits alike, and
no plaintext is left behind whatever the command does."""

from __future__ import annotations

import os
import pwd
import stat
import time
from pathlib import Path

import pytest

from support.sops_oracle import (
    AgeKeyPair,
    requires_sops,
    run_ours,
    run_ours_subprocess,
    run_sops,
)

pytestmark = requires_sops

PLAIN = """# a comment
text: hello world
multi: "line1\\nline2"
unicode: héllo ☃
int: 42
negative: -7
float: 1.5
whole: 2.0
big: 1.0e+21
small: 0.00001
yes: true
no_value: null
when: 2024-01-02T03:04:05.123Z
empty: ""
"""


@pytest.fixture(scope="module")
def key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture
def ws(tmp_path: Path, key: AgeKeyPair) -> tuple[Path, Path]:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "w"
    work.mkdir()
    for name, text in (
        ("vars.yaml", PLAIN),
        ("nested.yaml", "a: 1\nb:\n  c: 2\n"),
        ("eq.yaml", "'a=b': 1\n"),
        ("app.env", "A=1\nB=two words\n"),
        ("data.json", '{"k": "v", "n": 3}'),
    ):
        (work / name).write_text(text)
        enc = run_sops(["encrypt", "--age", key.recipient, name], cwd=work, home=home)
        assert enc.returncode == 0, enc.stderr
        (work / f"enc-{name}").write_bytes(enc.stdout)
    return work, home


def both(ws, key, args: list[str]):
    """sops and us (in a process of our own: the command writes to our fd 1)."""
    work, home = ws
    env = {"SOPS_AGE_KEY": key.identity, "EXTRA_FROM_CALLER": "kept"}
    theirs = run_sops(args, cwd=work, home=home, env=env)
    ours = run_ours_subprocess(args, cwd=work, home=home, env=env)
    return theirs, ours


def _env_lines(out: bytes) -> list[bytes]:
    # `_` is the path of whoever ran the shell; the rest must be equal
    return sorted(e for e in out.split(b"\0") if e and not e.startswith(b"_="))


@pytest.mark.parametrize("flags", [[], ["--pristine"]], ids=["inherit", "pristine"])
@pytest.mark.parametrize("name", ["enc-vars.yaml", "enc-app.env", "enc-data.json"])
def test_the_command_sees_the_environment_it_sees_under_sops(ws, key, flags, name) -> None:
    theirs, ours = both(ws, key, ["exec-env", *flags, name, "env -0"])
    assert theirs.returncode == ours.returncode == 0, (theirs.stderr, ours.stderr)
    assert _env_lines(ours.stdout) == _env_lines(theirs.stdout)
    assert b"kept" in ours.stdout or flags


def test_same_process_replaces_us_with_the_shell(ws, key) -> None:
    theirs, ours = both(ws, key, ["exec-env", "--same-process", "enc-vars.yaml", "env -0"])
    assert theirs.returncode == ours.returncode == 0, (theirs.stderr, ours.stderr)
    assert _env_lines(ours.stdout) == _env_lines(theirs.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ["exec-env", "enc-vars.yaml", "exit 3"],
        ["exec-env", "enc-vars.yaml", "kill -9 $$"],
        ["exec-env", "enc-vars.yaml"],
        ["exec-env", "enc-vars.yaml", "true", "extra"],
        ["exec-env", "enc-nested.yaml", "true"],
        ["exec-env", "enc-eq.yaml", "true"],
        ["exec-env", "missing.yaml", "true"],
        ["exec-env", "--background", "--same-process", "enc-vars.yaml", "true"],
        ["exec-file", "enc-vars.yaml", "exit 4"],
        ["exec-file", "enc-vars.yaml"],
        ["exec-file", "missing.yaml", "true"],
        ["exec-file", "--no-fifo", "enc-vars.yaml", "kill -9 $$"],
    ],
    ids=" ".join,
)
def test_exit_codes_are_sops(ws, key, args) -> None:
    theirs, ours = both(ws, key, args)
    assert ours.returncode == theirs.returncode, (theirs.stderr, ours.stderr)


_FILE_FLAGS = [
    [],
    ["--no-fifo"],
    ["--filename", "secrets.txt"],
    ["--no-fifo", "--filename", "secrets.txt", "--output-type", "json"],
]


@pytest.mark.parametrize(
    ("flags", "name"),
    [
        *((f, n) for f in _FILE_FLAGS for n in ("enc-vars.yaml", "enc-data.json", "enc-app.env")),
        (["--output-type", "dotenv", "--input-type", "json"], "enc-data.json"),
    ],
    ids=str,
)
def test_the_command_reads_the_file_it_reads_under_sops(ws, key, flags, name) -> None:
    command = 'cat {}; echo "$(basename {})"'
    theirs, ours = both(ws, key, ["exec-file", *flags, name, command])
    assert theirs.returncode == ours.returncode, (theirs.stderr, ours.stderr)
    theirs_lines = theirs.stdout.rsplit(b"\n", 2)
    ours_lines = ours.stdout.rsplit(b"\n", 2)
    assert ours_lines[0] == theirs_lines[0]  # the content
    if "--filename" in flags or "--no-fifo" not in flags:
        assert ours_lines[1] == theirs_lines[1]  # the name (a random suffix otherwise)


def test_the_file_is_private_and_gone_afterwards(ws, key) -> None:
    work, home = ws
    for flags in ([], ["--no-fifo"]):
        out = run_ours_subprocess(
            ["exec-file", *flags, "enc-vars.yaml", "stat -c '%a %F' {} $(dirname {}); echo {}"],
            cwd=work,
            home=home,
            env={"SOPS_AGE_KEY": key.identity},
        )
        assert out.returncode == 0, out.stderr
        file_line, dir_line, path = out.stdout.decode().strip().splitlines()
        assert file_line.startswith("600 ")
        assert ("fifo" in file_line) == (not flags)
        assert dir_line.startswith("700 ")
        assert not os.path.lexists(path)
        assert not os.path.exists(os.path.dirname(path))


def test_a_command_that_never_opens_the_fifo_does_not_hang_us(ws, key) -> None:
    work, home = ws
    start = time.monotonic()
    out = run_ours_subprocess(
        ["exec-file", "enc-vars.yaml", "echo {}"],
        cwd=work,
        home=home,
        env={"SOPS_AGE_KEY": key.identity},
    )
    assert out.returncode == 0, out.stderr
    assert time.monotonic() - start < 10
    assert not os.path.lexists(out.stdout.decode().strip())


def test_the_file_is_removed_when_the_command_fails(ws, key) -> None:
    work, home = ws
    out = run_ours_subprocess(
        ["exec-file", "--no-fifo", "enc-vars.yaml", "echo {}; exit 9"],
        cwd=work,
        home=home,
        env={"SOPS_AGE_KEY": key.identity},
    )
    assert out.returncode == 9
    assert not os.path.lexists(out.stdout.decode().strip())


def test_background_starts_the_command_and_returns(ws, key) -> None:
    work, home = ws
    out = run_ours(
        ["exec-env", "--background", "enc-vars.yaml", 'sleep 0.2; echo "$text" > done.txt'],
        cwd=work,
        home=home,
        env={"SOPS_AGE_KEY": key.identity},
    )
    assert out.returncode == 0, out.stderr
    for _ in range(200):
        if (work / "done.txt").exists() and (work / "done.txt").read_text():
            break
        time.sleep(0.05)
    assert (work / "done.txt").read_text() == "hello world\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="--user needs root")
def test_user_runs_the_command_as_that_user(ws, key, tmp_path) -> None:
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' here")
    # the encrypted file is read before the switch; nobody needs only /tmp
    os.chmod(tmp_path, os.stat(tmp_path).st_mode | stat.S_IXOTH)
    for args in (
        ["exec-env", "--user", "nobody", "enc-vars.yaml", "id -u; echo $text"],
        ["exec-file", "--no-fifo", "--user", "nobody", "enc-vars.yaml", "id -u; head -2 {}"],
    ):
        theirs, ours = both(ws, key, args)
        assert ours.returncode == theirs.returncode == 0, (theirs.stderr, ours.stderr)
        assert ours.stdout == theirs.stdout
        assert ours.stdout.startswith(f"{nobody.pw_uid}\n".encode())
