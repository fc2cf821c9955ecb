"""`init --local-key keychain|file`: the person's copy of the key.

The keychain tools are stand-ins on PATH (a `secret-tool` and a `security`
that keep items in a JSON file and log every call): the key must reach them
on standard input only, never in argv; the `SOPS_AGE_KEY_CMD` init prints
must make both our engine and the real sops decrypt.
"""

from __future__ import annotations

import json
import shlex
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest
from onboard_world import ENCRYPTED, PLAIN, World, same_content, world

from homelab_secrets.onboard import localkey
from support.sops_oracle import requires_sops, run_sops

pytestmark = requires_sops

STANDIN = r'''#!{python}
"""A stand-in for {tool}: items in $STANDIN_DIR/items.json, every call in calls.jsonl."""
import json, os, shlex, sys
folder = os.environ["STANDIN_DIR"]
items_path = os.path.join(folder, "items.json")
items = json.load(open(items_path)) if os.path.exists(items_path) else {{}}
stdin = sys.stdin.read() if not sys.stdin.isatty() else ""
with open(os.path.join(folder, "calls.jsonl"), "a") as log:
    log.write(json.dumps({{"argv": sys.argv, "stdin": stdin}}) + "\n")

def save():
    json.dump(items, open(items_path, "w"))

def option(args, flag):
    return args[args.index(flag) + 1] if flag in args else None

if "{tool}" == "secret-tool":
    command, rest = sys.argv[1], [a for a in sys.argv[2:] if not a.startswith("--")]
    key = " ".join(rest)
    if command == "store":
        items[key] = stdin
        save()
    elif command == "lookup":
        if key not in items:
            sys.exit(1)
        sys.stdout.write(items[key])
else:
    lines = stdin.splitlines() if sys.argv[1:] == ["-i"] else [shlex.join(sys.argv[1:])]
    for line in lines:
        args = shlex.split(line)
        key = option(args, "-s") + "/" + option(args, "-a")
        if args[0] == "add-generic-password":
            if key in items and "-U" not in args:
                sys.exit(45)
            items[key] = option(args, "-w")
            save()
        elif args[0] == "find-generic-password":
            if key not in items:
                sys.exit(44)
            sys.stdout.write(items[key] + "\n")
'''


@pytest.fixture
def standins(tmp_path: Path) -> Path:
    folder = tmp_path / "standins"
    folder.mkdir()
    for tool in ("secret-tool", "security"):
        path = folder / tool
        path.write_text(STANDIN.format(python=sys.executable, tool=tool))
        path.chmod(0o755)
    return folder


@pytest.fixture
def w(tmp_path: Path, standins: Path) -> Iterator[World]:
    with world(tmp_path) as it:
        it.env["PATH"] = f"{standins}:{it.env['PATH']}"
        it.env["STANDIN_DIR"] = str(standins)
        yield it


def calls(standins: Path) -> list[dict[str, object]]:
    log = standins / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _key_cmd(out: str) -> str:
    line = next(x for x in out.splitlines() if "export SOPS_AGE_KEY_CMD=" in x)
    return shlex.split(line.split("export SOPS_AGE_KEY_CMD=", 1)[1].rstrip("`"))[0]


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_keychain_gets_the_key_on_stdin_and_the_printed_command_reads_it_back(
    w: World, standins: Path, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    out = w.init("--local-key", "keychain")
    assert out.returncode == 0, out.stderr
    key = w.key()
    text = out.stdout.decode()
    assert key not in text
    tool = "security" if platform == "darwin" else "secret-tool"
    seen = calls(standins)
    stores = [c for c in seen if c["argv"][1] in ("store", "-i")]  # type: ignore[index]
    assert len(stores) == 1
    assert Path(stores[0]["argv"][0]).name == tool
    assert key in stores[0]["stdin"]  # type: ignore[operator]
    assert all(key not in " ".join(c["argv"]) for c in seen)  # type: ignore[arg-type]
    cmd = _key_cmd(text)
    assert cmd.startswith(tool)
    assert "infra/SOPS_AGE_KEY" in cmd

    env = {"SOPS_AGE_KEY_CMD": cmd}
    ours = w.run("decrypt", "host_vars/web1.yml", env=env)
    assert ours.returncode == 0, ours.stderr
    assert same_content("host_vars/web1.yml", PLAIN["host_vars/web1.yml"], ours.stdout)
    theirs = run_sops(
        ["decrypt", ENCRYPTED[".env/terraform.tfvars"]],
        cwd=w.repo,
        home=w.home,
        env={**w.env, **env},
    )
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stdout == PLAIN[".env/terraform.tfvars"]

    again = w.init("--local-key", "keychain")
    assert again.returncode == 0
    assert "Nothing to change" in again.stdout.decode()
    assert len([c for c in calls(standins) if c["argv"][1] in ("store", "-i")]) == 1  # type: ignore[index]


def test_a_keychain_item_with_another_value_is_not_overwritten(w: World, standins: Path) -> None:
    environ = {"PATH": w.env["PATH"], "STANDIN_DIR": str(standins)}
    other = str(pyrage.x25519.Identity.generate())
    localkey.keychain_store("secret-service", "infra/SOPS_AGE_KEY", other, environ)
    out = w.init("--local-key", "keychain")
    assert out.returncode == 2
    assert "holds another value" in out.stderr
    assert "--local-key-name" in out.stderr
    assert w.doppler_writes() == 0


def test_keychain_failure_names_the_tool_never_the_value(tmp_path: Path) -> None:
    environ = {"PATH": str(tmp_path)}  # no secret-tool there
    secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
    with pytest.raises(Exception, match="secret-tool is not installed") as info:
        localkey.keychain_store("secret-service", "x/y", secret, environ)
    assert secret not in str(info.value)


def test_file_keeps_sops_default_keys_file_0600_and_real_sops_uses_it(w: World) -> None:
    keys = w.home / ".config" / "sops" / "age" / "keys.txt"
    keys.parent.mkdir(parents=True)
    older = pyrage.x25519.Identity.generate()
    keys.write_text(f"# an older key\n{older}\n")
    out = w.init("--local-key", "file")
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    text = keys.read_text()
    assert text.startswith("# an older key\n")
    assert w.key() in text.splitlines()
    theirs = run_sops(["decrypt", "host_vars/web1.yml"], cwd=w.repo, home=w.home)
    assert theirs.returncode == 0, theirs.stderr
    ours = w.run("decrypt", "group_vars/all/vault.yml")
    assert ours.returncode == 0, ours.stderr
    again = w.init("--local-key", "file")
    assert "Nothing to change" in again.stdout.decode()
    assert keys.read_text() == text
