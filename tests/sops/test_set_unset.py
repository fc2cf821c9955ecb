"""``set`` and ``unset`` with sops 3.11's syntax, both ways against the real
sops: same exit code, same decrypted result, the file untouched where sops
leaves it untouched, and the minimal diff (only the value, ``lastmodified``
and ``mac`` change)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from support.sops_oracle import AgeKeyPair, requires_sops, run_ours, run_sops

pytestmark = requires_sops

PLAIN = b"""a: 1
b:
    c: hello
    # a comment
    d: [x, y]
l:
    - 1
    - 2
t: 2024-01-02T03:04:05Z
"""


@pytest.fixture(scope="module")
def key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture
def ws(tmp_path: Path, key: AgeKeyPair) -> tuple[Path, Path, Path]:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "w"
    work.mkdir()
    (work / "plain.yaml").write_bytes(PLAIN)
    enc = run_sops(["encrypt", "--age", key.recipient, "plain.yaml"], cwd=work, home=home)
    assert enc.returncode == 0, enc.stderr
    (work / "orig.yaml").write_bytes(enc.stdout)
    (work / "value.json").write_text('{"q": [1, {"r": null}], "s": "t"}')
    return work, home, work / "orig.yaml"


CASES = [
    ["set", "@", '["b"]["c"]', '"x"'],
    ["set", "@", '["b"]["new"]["deeper"]', '{"x": [1, {"y": null}], "z": 2.5}'],
    ["set", "@", '["l"][9]', "3"],
    ["set", "@", '["l"][0]["k"]', "true"],
    ["set", "@", '["l"][0]', "false"],
    ["set", "@", '["a"]["z"]', "1.5e3"],
    ["set", "@", '["b"]["d"][1]', '"z"'],
    ["set", "@", "['a']", "null"],
    ["set", "@", '["x"]', "{}"],
    ["set", "@", "[0]", "1"],  # an index on a map: nothing added, yet "changed"
    ["set", "@", "b", "1"],  # 7
    ["set", "@", '["b"', "1"],  # 7
    ["set", "@", '["b"]', "notjson"],  # 7
    ["set", "@", '["b"]', "[1, 2]"],  # 7: sops refuses a list
    ["set", "@", '["b"]', "1e400"],  # 7
    ["set", "@", '["b"]', '"x" 1'],  # 7
    ["set", "@", '["l"]["x"]', "1"],  # 2: sops panics
    ["set", "@", '["l"][-1]', "1"],  # 2: sops panics
    ["set", "@", "", "1"],  # 2: sops panics
    ["set", "--idempotent", "@", '["b"]["c"]', '"hello"'],  # untouched
    ["set", "--idempotent", "@", '["a"]', "1"],  # float 1 is not int 1: written
    ["set", "--idempotent", "@", '["b"]', '{"c": "hello"}'],  # not equal: comment, d
    ["set", "@"],  # 100
    ["set", "missing.yaml", '["a"]', "1"],  # 2
    ["set", "--value-file", "@", '["a"]', "value.json"],
    ["set", "--value-file", "@", '["a"]', "missing.json"],  # 1
    ["set", "--value-file", "--value-stdin", "@", '["a"]', "value.json"],  # 1
    ["unset", "@", '["b"]["c"]'],
    ["unset", "@", '["b"]'],
    ["unset", "@", '["l"][1]'],
    ["unset", "@", '["b"]["d"][0]'],
    ["unset", "@", '["nope"]'],  # 1
    ["unset", "--idempotent", "@", '["nope"]'],  # 0, untouched
    ["unset", "@", '["l"][7]'],  # 1
    ["unset", "--idempotent", "@", '["l"][7]'],  # 0, untouched
    ["unset", "@", '["a"]["x"]'],  # 1 (not forgiven by --idempotent)
    ["unset", "--idempotent", "@", '["a"]["x"]'],  # 1
    ["unset", "@", "x"],  # 7
    ["unset", "@"],  # 100
    ["unset", "missing.yaml", '["a"]'],  # 2
]


@pytest.mark.parametrize("args", CASES, ids=" ".join)
def test_set_and_unset_do_what_sops_does(ws, key, args: list[str]) -> None:
    work, home, orig = ws
    results = []
    for name, tool in (("theirs.yaml", run_sops), ("ours.yaml", run_ours)):
        shutil.copyfile(orig, work / name)
        argv = [name if a == "@" else a for a in args]
        out = tool(argv, cwd=work, home=home, env={"SOPS_AGE_KEY": key.identity})
        untouched = (work / name).read_bytes() == orig.read_bytes()
        shown = run_sops(["decrypt", name], cwd=work, home=home, env={"SOPS_AGE_KEY": key.identity})
        results.append((out.returncode, untouched, shown.returncode, shown.stdout))
        if name == "ours.yaml":
            assert "Traceback" not in out.stderr
            assert "internal error" not in out.stderr
    assert results[1] == results[0]


def test_value_from_standard_input(ws, key) -> None:
    work, home, orig = ws
    for name, tool in (("theirs.yaml", run_sops), ("ours.yaml", run_ours)):
        shutil.copyfile(orig, work / name)
        out = tool(
            ["set", "--value-stdin", name, '["b"]["c"]'],
            cwd=work,
            home=home,
            env={"SOPS_AGE_KEY": key.identity},
            stdin=b'{"from": "stdin"}\n',
        )
        assert out.returncode == 0, out.stderr
    env = {"SOPS_AGE_KEY": key.identity}
    theirs = run_sops(["decrypt", "theirs.yaml"], cwd=work, home=home, env=env).stdout
    assert run_sops(["decrypt", "ours.yaml"], cwd=work, home=home, env=env).stdout == theirs


def test_set_changes_only_that_value_lastmodified_and_mac(ws, key) -> None:
    work, home, orig = ws
    shutil.copyfile(orig, work / "f.yaml")
    time.sleep(1.05)  # a new lastmodified (seconds) for sure
    out = run_ours(
        ["set", "f.yaml", '["b"]["c"]', '"changed"'],
        cwd=work,
        home=home,
        env={"SOPS_AGE_KEY": key.identity},
    )
    assert out.returncode == 0, out.stderr
    before = orig.read_text().splitlines()
    after = (work / "f.yaml").read_text().splitlines()
    assert len(before) == len(after)
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert [b.split(":", 1)[0].strip() for b, _ in changed] == ["c", "lastmodified", "mac"]
