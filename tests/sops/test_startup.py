"""Start-up stays fast: decrypt/encrypt race the Go binary (README, issue 14).

* ``--version`` and ``--help`` import no command module's dependencies;
* ``decrypt``/``encrypt`` of an ordinary YAML file import neither argparse
  nor typing nor re nor cryptography's Python layer (their own
  ``parse_fast`` reads the command line; every helper avoids them on the
  common path);
* ``parse_fast`` makes of a command line exactly what argparse makes of it,
  or leaves it to argparse.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

import pyrage
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homelab_secrets import cli
from homelab_secrets.commands import decrypt, encrypt

HEAVY = ("argparse", "typing", "re", "dataclasses", "hashlib", "cryptography.utils", "contextlib")


def imported_after(code: str, cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.splitlines()[-1].split())


def test_version_imports_no_command(tmp_path: Path) -> None:
    mods = imported_after("from homelab_secrets.cli import main\nmain(['--version'])", tmp_path)
    assert not {m for m in mods if m.startswith("homelab_secrets.commands")}
    assert "argparse" not in mods


def test_help_lists_every_command_without_importing_them(tmp_path: Path) -> None:
    code = (
        "from homelab_secrets.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    mods = imported_after(code, tmp_path)
    assert not {m for m in mods if m.startswith("homelab_secrets.commands.")}
    assert not {m for m in mods if m.startswith(("cryptography", "pyrage", "httpx", "github"))}
    assert "homelab_secrets.gha" not in mods


def test_every_help_line_is_read_without_importing_the_module() -> None:
    for module_name in cli.COMMANDS.values():
        assert cli._help_of(module_name) == cli._load(module_name).HELP


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    from homelab_secrets.sops import pipeline

    work = tmp_path_factory.mktemp("startup")
    ident = pyrage.x25519.Identity.generate()
    plain = b"".join(b"key%d: value-%d-abcdefghijkl\n" % (i, i) for i in range(26))
    (work / "plain.yaml").write_bytes(plain)
    plan = pipeline.plan_encryption(None, "plain.yaml", age=[str(ident.to_public())])
    (work / "enc.yaml").write_bytes(
        pipeline.encrypt(plain, in_fmt="yaml", out_fmt="yaml", plan=plan, config=None)
    )
    env = {"SOPS_AGE_KEY": str(ident), "HOME": str(work), "PATH": "/usr/bin:/bin"}
    env["RECIPIENT"] = str(ident.to_public())
    return work, env


@pytest.mark.parametrize(
    "argv",
    [
        "['decrypt', 'enc.yaml']",
        "['encrypt', '--age', os.environ['RECIPIENT'], 'plain.yaml']",
        "['decrypt', '--output-type', 'yaml', '--filename-override', 'x.yaml', 'enc.yaml']",
    ],
)
def test_decrypt_and_encrypt_import_nothing_heavy(files, argv: str) -> None:
    work, env = files
    code = (
        "import os, io\n"
        "sys.stdout = io.TextIOWrapper(io.BytesIO())\n"
        "from homelab_secrets.cli import main\n"
        f"code = main({argv})\n"
        "sys.stdout = sys.__stdout__\n"
        "assert code == 0, code"
    )
    mods = imported_after(code, work, env)
    at_start = imported_after("", work, env)  # (site may import some; not ours to count)
    assert "homelab_secrets.sops.cipher" in mods  # (it did the work)
    assert not [m for m in HEAVY if m in mods and m not in at_start]
    assert "homelab_secrets.sops.stores.yaml.scanner" not in mods  # the fast path sufficed


def test_the_aes_gcm_class_is_cryptography_s_public_one() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from homelab_secrets.sops.cipher import aesgcm_class

    assert aesgcm_class() is AESGCM


def test_the_mac_only_encrypted_prefix_is_sha256_of_sops() -> None:
    from homelab_secrets.sops.tree import MAC_ONLY_ENCRYPTED_INIT

    assert hashlib.sha256(b"sops").digest() == MAC_ONLY_ENCRYPTED_INIT


# ------------------------------------------------------------------ parse_fast
def _argparse(argv: list[str]) -> argparse.Namespace | None:
    parser = cli.build_parser(cli._selected(argv))
    try:
        return parser.parse_args(argv)
    except SystemExit:
        return None


TOKENS = [
    "enc.yaml", "other.json", "-", "--input-type", "yaml", "json", "bogus", "--output-type",
    "--output", "out.txt", "-i", "--in-place", "--ignore-mac", "--extract", '["a"]',
    "--filename-override", "x.env", "--config", "c.yaml", "--out", "--input-type=ini",
    "--output=", "--", "-x", "--help", "--age", "age1x", "--indent", "2", "-1", "--indent=3",
    "--shamir-secret-sharing-threshold", "--mac-only-encrypted", "--encrypted-regex", "^a",
    "--unencrypted-suffix", "_u", "--debug",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["decrypt", "encrypt"]),
    st.booleans(),
    st.lists(st.sampled_from(TOKENS), max_size=6),
)
def test_parse_fast_agrees_with_argparse(command: str, debug: bool, rest: list[str]) -> None:
    argv = (["--debug"] if debug else []) + [command, *rest]
    module = decrypt if command == "decrypt" else encrypt
    fast = module.parse_fast(argv)
    if fast is None:
        return  # argparse decides (and says what is wrong)
    full = _argparse(argv)
    assert full is not None, argv
    expected = {k: v for k, v in vars(full).items() if k != "_run"}
    assert vars(fast) == expected, argv


@pytest.mark.parametrize(
    "argv",
    [
        ["decrypt", "enc.yaml"],
        ["decrypt", "--output-type", "json", "-i", "enc.yaml"],
        ["--debug", "decrypt", "--extract=['a']", "enc.yaml"],
        ["decrypt", "--filename-override", "x.yaml"],
        ["encrypt", "--age", "age1x", "--indent", "2", "plain.yaml"],
        ["encrypt", "--encrypted-regex", "^pass", "--mac-only-encrypted", "plain.yaml"],
    ],
)
def test_the_common_command_lines_skip_argparse(argv: list[str]) -> None:
    module = decrypt if "decrypt" in argv else encrypt
    fast = module.parse_fast(argv)
    assert fast is not None
    assert vars(fast) == {k: v for k, v in vars(_argparse(argv)).items() if k != "_run"}
