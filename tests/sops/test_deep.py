"""Documents as deep as sops takes them: 10,000 levels, YAML and JSON, encrypt
and decrypt, both ways against the real sops, and the same refusal one level
deeper (never a RecursionError, exit 70)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.sops_oracle import AgeKeyPair, requires_sops, run_ours, run_sops

pytestmark = requires_sops


@pytest.fixture(scope="module")
def key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture
def ws(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "home").mkdir()
    return tmp_path, tmp_path / "home"


def nested_maps(depth: int) -> str:
    return "".join("  " * i + "k:\n" for i in range(depth)) + "  " * depth + "v\n"


def nested_lists(levels: int) -> str:
    """A mapping holding ``levels - 1`` nested block sequences (yaml.v3 counts
    the mapping too): ``k:\\n    - - - v``, compact, so the file stays small."""
    return "k:\n    " + "- " * (levels - 1) + "v\n"


def nested_json(levels: int) -> str:
    return '{"k": ' + "[" * (levels - 1) + "1" + "]" * (levels - 1) + "}\n"


def both_ways(ws, key, name: str, text: str, out_type: str | None = None) -> None:
    """sops encrypts → we decrypt to what sops prints; we encrypt → sops
    decrypts to the same."""
    work, home = ws
    (work / name).write_text(text)
    extra = ["--output-type", out_type] if out_type else []
    ext = f".{out_type}" if out_type else Path(name).suffix
    env = {"SOPS_AGE_KEY": key.identity}
    theirs = run_sops(["encrypt", "--age", key.recipient, *extra, name], cwd=work, home=home)
    assert theirs.returncode == 0, theirs.stderr
    (work / f"theirs{ext}").write_bytes(theirs.stdout)
    ours = run_ours(["encrypt", "--age", key.recipient, *extra, name], cwd=work, home=home)
    assert ours.returncode == 0, ours.stderr
    (work / f"ours{ext}").write_bytes(ours.stdout)
    expected = run_sops(["decrypt", f"theirs{ext}"], cwd=work, home=home, env=env)
    assert expected.returncode == 0, expected.stderr
    decrypted = run_ours(["decrypt", f"theirs{ext}"], cwd=work, home=home, env=env)
    assert decrypted.returncode == 0, decrypted.stderr
    assert decrypted.stdout == expected.stdout
    back = run_sops(["decrypt", f"ours{ext}"], cwd=work, home=home, env=env)
    assert back.returncode == 0, back.stderr
    assert back.stdout == expected.stdout


@pytest.mark.slow
def test_yaml_mappings_far_past_python_s_recursion_limit(ws, key) -> None:
    """~490 levels used to end in a RecursionError (exit 70)."""
    both_ways(ws, key, "maps.yaml", nested_maps(2_000))


@pytest.mark.slow
def test_yaml_as_deep_as_sops_goes(ws, key) -> None:
    both_ways(ws, key, "lists.yaml", nested_lists(10_000))


@pytest.mark.slow
def test_json_as_deep_as_sops_goes(ws, key) -> None:
    both_ways(ws, key, "deep.json", nested_json(10_000), out_type="yaml")


@pytest.mark.parametrize(
    ("name", "text", "code", "message"),
    [
        ("lists.yaml", nested_lists(10_001), 2, "exceeded max depth of 10000"),
        ("flow.yaml", "k: " + "[" * 10_001 + "]" * 10_001 + "\n", 2, "exceeded max depth of 10000"),
        ("deep.json", nested_json(10_001), 4, "invalid character '[' exceeded max depth"),
    ],
    ids=["yaml-block", "yaml-flow", "json"],
)
def test_one_level_deeper_fails_like_sops(ws, key, name, text, code, message) -> None:
    work, home = ws
    (work / name).write_text(text)
    args = ["encrypt", "--age", key.recipient, name]
    theirs = run_sops(args, cwd=work, home=home)
    ours = run_ours(args, cwd=work, home=home)
    assert theirs.returncode == ours.returncode == code, (theirs.stderr, ours.stderr)
    assert message in theirs.stderr
    assert message in ours.stderr
