"""``filestatus`` prints what ``sops filestatus`` prints, with its exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.sops_oracle import AgeKeyPair, requires_sops, run_ours, run_sops

pytestmark = requires_sops

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture
def ws(tmp_path: Path, key: AgeKeyPair) -> tuple[Path, Path]:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "w"
    work.mkdir()
    for name in ("nested.yaml", "data.json", "app.env", "settings.ini", "blob.bin"):
        (work / name).write_bytes((CORPUS / name).read_bytes())
        enc = run_sops(["encrypt", "--age", key.recipient, name], cwd=work, home=home)
        (work / f"enc-{name}").write_bytes(enc.stdout)
    (work / "sops-scalar.yaml").write_text("sops: 1\n")
    (work / "no-keys.yaml").write_text(
        'a: 1\nsops:\n  mac: x\n  lastmodified: "2020-01-01T00:00:00Z"\n  version: 3.11.0\n'
    )
    (work / "no-mac.yaml").write_text(
        "a: 1\nsops:\n  age:\n    - recipient: age1x\n      enc: x\n"
        '  lastmodified: "2020-01-01T00:00:00Z"\n  version: 3.11.0\n'
    )
    (work / "truncated.json").write_text('{"a":')
    return work, home


@pytest.mark.parametrize(
    "args",
    [
        *(["filestatus", f"enc-{n}"] for n in ("nested.yaml", "data.json", "app.env")),
        *(["filestatus", f"enc-{n}"] for n in ("settings.ini", "blob.bin")),
        *(["filestatus", n] for n in ("nested.yaml", "data.json", "app.env", "settings.ini")),
        ["filestatus", "blob.bin"],  # not JSON: the binary store fails (exit 1)
        ["filestatus", "--input-type", "yaml", "enc-nested.yaml"],
        ["filestatus", "--input-type", "json", "enc-nested.yaml"],
        ["filestatus", "missing.yaml"],
        ["filestatus"],
        ["filestatus", "sops-scalar.yaml"],
        ["filestatus", "no-keys.yaml"],
        ["filestatus", "no-mac.yaml"],
        ["filestatus", "truncated.json"],
    ],
    ids=" ".join,
)
def test_filestatus_is_sops(ws, args: list[str]) -> None:
    work, home = ws
    theirs = run_sops(args, cwd=work, home=home)
    ours = run_ours(args, cwd=work, home=home)
    assert ours.returncode == theirs.returncode, (theirs.stderr, ours.stderr)
    assert ours.stdout == theirs.stdout
