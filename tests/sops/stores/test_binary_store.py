"""The binary store keeps a file's bytes exactly, in sops' JSON envelope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch
from homelab_secrets.sops.stores import MetadataNotFound, StoreError, get_store
from homelab_secrets.sops.stores.binary_store import BinaryStore
from homelab_secrets.sops.stores.dotenv_store import DotenvStore
from homelab_secrets.sops.stores.json_store import JsonStore

STORE = BinaryStore()
RAW = b"hello\x00\xff\nworld<&>\xe2\x82\n\xed\xa0\x80"


def test_a_plain_file_is_one_data_leaf_holding_its_raw_bytes() -> None:
    assert STORE.load_plain(RAW) == [[("data", RAW)]]
    assert STORE.load_plain(b"") == [[("data", b"")]]


def test_decrypted_output_is_the_data_bytes_exactly() -> None:
    assert STORE.emit_plain(STORE.load_plain(RAW)) == RAW
    assert STORE.emit_plain([Branch([("other", "x"), ("data", "text\n")])]) == b"text\n"
    # a str holding raw bytes (surrogateescape) gives those bytes back
    text = RAW.decode("utf-8", "surrogateescape")
    assert STORE.emit_plain([Branch([("data", text)])]) == RAW


@pytest.mark.parametrize(
    ("branches", "message"),
    [
        ([Branch([("data", 5.0)])], "'data' key in tree does not have a string value"),
        ([Branch([("other", "x")])], "no binary data found in tree"),
        ([Branch(), Branch()], "there must be exactly one tree branch"),
    ],
)
def test_a_tree_without_string_data_cannot_be_written_exit_4(
    branches: list[Branch], message: str
) -> None:
    with pytest.raises(StoreError) as info:
        STORE.emit_plain(branches)
    assert info.value.message == f"error emitting binary store: {message}"
    assert info.value.exit_code == ExitCode.ERROR_DUMPING_TREE


def test_encrypted_files_use_the_tab_indented_json_envelope() -> None:
    metadata = Branch([("lastmodified", "2026-11-29T14:38:08Z"), ("version", "3.11.0")])
    out = STORE.emit_encrypted([Branch([("data", "ENC[x]")])], metadata)
    assert out == (
        b'{\n\t"data": "ENC[x]",\n\t"sops": {\n\t\t"lastmodified": "2026-11-29T14:38:08Z",\n'
        b'\t\t"version": "3.11.0"\n\t}\n}\n'
    )
    (branch,), raw = STORE.load_encrypted(out)
    assert branch == [("data", "ENC[x]")]
    assert raw == {"lastmodified": "2026-11-29T14:38:08Z", "version": "3.11.0"}
    spaced = get_store("binary", indent=2).emit_encrypted([Branch([("data", "")])], metadata)
    assert spaced.startswith(b'{\n  "data": "",\n  "sops": {\n    "lastmodified"')


def test_a_file_that_is_not_an_envelope_is_not_encrypted() -> None:
    with pytest.raises(StoreError, match="Error unmarshalling input json") as info:
        STORE.load_encrypted(b"just text")
    assert info.value.exit_code == ExitCode.ERROR_GENERIC
    with pytest.raises(MetadataNotFound):
        STORE.load_encrypted(b'{"a": "b"}')


def test_extracting_a_value_is_impossible() -> None:
    with pytest.raises(StoreError) as info:
        STORE.emit_value([1])
    assert info.value.message == (
        "Binary files are not structured and extracting a single value is not possible"
    )
    assert info.value.exit_code == ExitCode.ERROR_DUMPING_TREE


def test_raw_data_converts_to_other_formats_as_sops_does() -> None:
    # `sops decrypt --output-type json|dotenv` of an encrypted binary file
    tree = STORE.load_plain(RAW)
    assert JsonStore().emit_plain(tree) == (
        b'{\n\t"data": "hello\\u0000\\ufffd\\nworld\\u003c\\u0026\\u003e\\ufffd\\ufffd\\n'
        b'\\ufffd\\ufffd\\ufffd"\n}\n'
    )
    assert DotenvStore().emit_plain(tree) == (
        b"data=hello\x00\xff\\nworld<&>\xe2\x82\\n\xed\xa0\x80\n"
    )


def test_the_data_leaf_never_looks_already_encrypted() -> None:
    assert not STORE.has_sops_top_level_key(STORE.load_plain(b'{"sops": {}}')[0])


@pytest.mark.e2e
def test_matches_the_sops_binary(tmp_path: Path) -> None:
    from support.sops_oracle import AgeKeyPair, run_sops, skip_without_sops

    skip_without_sops()
    key = AgeKeyPair.generate()
    home = tmp_path / "home"
    home.mkdir()
    source = tmp_path / "blob.bin"
    source.write_bytes(RAW)
    env = {"SOPS_AGE_KEY": key.identity}
    encrypted = run_sops(
        ["encrypt", "--age", key.recipient, str(source)], cwd=tmp_path, home=home, env=env
    )
    assert encrypted.returncode == 0, encrypted.stderr
    (branch,), raw = STORE.load_encrypted(encrypted.stdout)
    assert branch.keys_() == ["data"]
    assert raw["age"][0]["recipient"] == key.recipient
    # the sops block exactly as sops wrote it (no rule: the binary store clears them)
    metadata = dict(json.loads(encrypted.stdout, object_pairs_hook=Branch))["sops"]
    assert STORE.emit_encrypted([branch], metadata) == encrypted.stdout
    source.write_bytes(encrypted.stdout)
    decrypted = run_sops(["decrypt", str(source)], cwd=tmp_path, home=home, env=env)
    assert decrypted.stdout == STORE.emit_plain(STORE.load_plain(RAW))
