"""The job layer on SOPS files (sops-decrypt / sops-encrypt / cleanup), without
GitHub Actions: decrypted copies, env names, tool-shaped files, all-or-nothing
writes, the manifest and cleanup."""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import pyrage
import pytest

from homelab_secrets.commands import sops_decrypt
from homelab_secrets.errors import UserError
from homelab_secrets.secrets import manifest, sopsfiles
from homelab_secrets.secrets.job import Job, JobOptions, run_job
from homelab_secrets.sops import engine
from homelab_secrets.sops.metadata import AgeKey
from homelab_secrets.sops.stores import get_store
from homelab_secrets.sops.tree import Rules

IDENTITY = pyrage.x25519.Identity.generate()
RECIPIENT = str(IDENTITY.to_public())


def encrypt_to(path: Path, fmt: str, plain: bytes, rules: Rules | None = None) -> None:
    store = get_store(fmt)
    branches = store.load_plain(plain)
    metadata = engine.encrypt(branches, [[AgeKey(RECIPIENT)]], rules=rules or Rules())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(store.emit_encrypted(branches, metadata.to_branch()))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    encrypt_to(
        root / "env" / "prd.enc.yaml",
        "yaml",
        b"db:\n    password: pw-Secret-1\n    port: 5432\nlist:\n    - a-Secret-2\n"
        b"region_unencrypted: homelab\n",
    )
    encrypt_to(root / "env" / "app.enc.env", "dotenv", b"API_KEY=key-Secret-3\n")
    return root


@dataclass(frozen=True)
class Opts:
    files: tuple[str, ...]
    job: JobOptions


def options(tmp_path: Path, *, files: tuple[str, ...] = ("env/*",), **over: object) -> Opts:
    base: dict[str, object] = {
        "output_dir": tmp_path / "out",
        "manifest_dir": tmp_path / "state",
        "terraform_dir": tmp_path / "tf",
    }
    base.update(over)
    return Opts(files, JobOptions(**base))  # type: ignore[arg-type]


@dataclass(repr=False)
class Result:
    written: list[str]
    pairs: list[tuple[str, str]]
    job: Job


def decrypt_job(opts: Opts, environ: dict[str, str], root: Path) -> Result:
    """sops-decrypt's job: decrypt and plan, then write (all or nothing)."""
    _sources, job = sops_decrypt.decrypt_job(opts.files, opts.job, environ, root)
    run_job(job, opts.job.manifest_dir)
    return Result(job.written, job.env, job)


ENV = {"SOPS_AGE_KEY": str(IDENTITY), "HOME": "/nonexistent"}


@pytest.mark.parametrize(
    ("rel", "name"),
    [
        ("secrets/prd.enc.yaml", "prd"),
        ("terraform.tfvars.enc.json", "terraform"),
        ("id_rsa.enc", "id_rsa"),
        ("blob.enc.bin", "blob"),
        ("app.yaml", "app"),
        ("x.auto.tfvars.json", "x"),
        ("a.sops.env", "a"),
    ],
)
def test_tool_files_are_named_after_the_secret_file(rel: str, name: str) -> None:
    assert sopsfiles.stem(rel) == name


def test_globs_resolve_in_order_without_duplicates(workspace: Path) -> None:
    found = sopsfiles.resolve_files(["env/*.yaml", "env/*"], workspace)
    assert [t.rel for t in found] == ["env/prd.enc.yaml", "env/app.enc.env"]


@pytest.mark.parametrize(
    "pattern", ["env/*.json", "env/missing.yaml", "../outside/*", "/etc/hostname"]
)
def test_a_pattern_matching_nothing_inside_the_workspace_is_an_error(
    workspace: Path, pattern: str
) -> None:
    with pytest.raises(UserError) as info:
        sopsfiles.resolve_files([pattern], workspace)
    assert info.value.exit_code == 100
    assert info.value.path == pattern


def test_decrypt_writes_private_copies_and_records_them(workspace: Path, tmp_path: Path) -> None:
    result = decrypt_job(options(tmp_path), ENV, workspace)
    out = tmp_path / "out" / "env" / "prd.enc.yaml"
    assert out.read_bytes() == (
        b"db:\n    password: pw-Secret-1\n    port: 5432\nlist:\n    - a-Secret-2\n"
        b"region_unencrypted: homelab\n"
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
    assert result.written == [str(tmp_path / "out" / "env" / "app.enc.env"), str(out)]  # glob order
    record = manifest.Manifest(tmp_path / "state")
    entries = record.entries()
    assert [e["path"] for e in entries if e["kind"] == "plaintext"] == result.written
    assert [e["path"] for e in entries if e["kind"] == "dir"] == [
        str(tmp_path / "out"),
        str(tmp_path / "out" / "env"),
    ]
    report = manifest.cleanup(record)
    assert sorted(report.removed) == sorted(result.written)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "state").exists()
    assert manifest.cleanup(record).removed == []  # twice is harmless


def test_only_values_that_were_encrypted_are_reported_for_masking(workspace: Path) -> None:
    sources = sopsfiles.decrypt_sources(sopsfiles.resolve_files(["env/*"], workspace), ENV, None)
    secrets = {m.name: m.value for source in sources for m in source.masks}
    assert secrets == {
        "env/prd.enc.yaml:db.password": "pw-Secret-1",
        "env/prd.enc.yaml:db.port": "5432",
        "env/prd.enc.yaml:list": "a-Secret-2",
        "env/app.enc.env:API_KEY": "key-Secret-3",
    }


def test_env_names_follow_the_documented_rules(workspace: Path, tmp_path: Path) -> None:
    result = decrypt_job(options(tmp_path, export_env=True, name_prefix="APP_"), ENV, workspace)
    assert dict(result.pairs) == {
        "APP_DB_PASSWORD": "pw-Secret-1",
        "APP_DB_PORT": "5432",
        "APP_LIST_0": "a-Secret-2",
        "APP_REGION_UNENCRYPTED": "homelab",
        "APP_API_KEY": "key-Secret-3",
    }
    assert "pw-Secret-1" not in repr(result.job)
    assert "pw-Secret-1" not in repr(result.job.writes)


def test_a_name_collision_fails_listing_both_places_and_writes_nothing(
    workspace: Path, tmp_path: Path
) -> None:
    encrypt_to(workspace / "env" / "clash.enc.json", "json", b'{"db": {"password": "x"}}')
    with pytest.raises(
        UserError,
        match=r"DB_PASSWORD \(env/clash.enc.json:db.password, env/prd.enc.yaml:db.password\)",
    ):
        decrypt_job(options(tmp_path, export_env=True), ENV, workspace)
    assert not (tmp_path / "out").exists()


def test_reserved_env_names_are_refused_before_anything_is_written(
    workspace: Path, tmp_path: Path
) -> None:
    encrypt_to(workspace / "env" / "bad.enc.env", "dotenv", b"LD_PRELOAD=/tmp/evil.so\n")
    with pytest.raises(UserError, match="LD_PRELOAD"):
        decrypt_job(options(tmp_path, export_env=True), ENV, workspace)
    assert not (tmp_path / "out").exists()


def test_one_bad_file_means_nothing_is_written(workspace: Path, tmp_path: Path) -> None:
    (workspace / "env" / "zz.enc.yaml").write_text("a: 1\n")  # not encrypted
    with pytest.raises(UserError) as info:
        decrypt_job(options(tmp_path), ENV, workspace)
    assert info.value.path == "env/zz.enc.yaml"
    assert "sops metadata not found" in info.value.message
    assert not (tmp_path / "out").exists()


def test_a_failed_write_rolls_back_what_this_run_wrote(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = manifest.write_atomic
    calls = []

    def flaky(path: str, data: bytes, **kw: object) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise UserError(f"could not write {path}: disk full", 3)
        real(path, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(manifest, "write_atomic", flaky)
    with pytest.raises(UserError, match="disk full"):
        decrypt_job(options(tmp_path), ENV, workspace)
    left = (
        [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
        if (tmp_path / "out").exists()
        else []
    )
    assert left == []


def test_in_place_then_cleanup_restores_the_encrypted_file(workspace: Path, tmp_path: Path) -> None:
    target = workspace / "env" / "prd.enc.yaml"
    encrypted = target.read_bytes()
    decrypt_job(options(tmp_path, files=("env/prd.enc.yaml",), in_place=True), ENV, workspace)
    assert b"pw-Secret-1" in target.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    report = manifest.cleanup(manifest.Manifest(tmp_path / "state"))
    assert report.restored == [str(target)]
    assert target.read_bytes() == encrypted


def test_tool_shaped_files(workspace: Path, tmp_path: Path) -> None:
    decrypt_job(
        options(tmp_path, files=("env/prd.enc.yaml",), format="tfvars-json"), ENV, workspace
    )
    tfvars = json.loads((tmp_path / "tf" / "prd.auto.tfvars.json").read_text())
    assert tfvars == {
        "db": {"password": "pw-Secret-1", "port": 5432},
        "list": ["a-Secret-2"],
        "region_unencrypted": "homelab",
    }
    decrypt_job(
        options(
            tmp_path, files=("env/prd.enc.yaml",), format="ansible-vars", output_dir=tmp_path / "o2"
        ),
        ENV,
        workspace,
    )
    assert (
        (tmp_path / "o2-formats" / "env" / "prd.vars.yml")
        .read_text()
        .startswith("db:\n  password: pw-Secret-1\n  port: 5432\n")
    )


def test_encrypt_files_follows_sops_yaml_and_writes_nothing_on_failure(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "gen").mkdir(parents=True)
    (root / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: ^gen/\n    age: {RECIPIENT}\n"
    )
    (root / "gen" / "a.yaml").write_text("token: t-Secret-9\n")
    (root / "gen" / "b.yaml").write_text("- not a map\n")
    targets = sopsfiles.resolve_files(["gen/*.yaml"], root)
    with pytest.raises(UserError) as info:
        sopsfiles.encrypt_files(targets, [], sopsfiles.find_workspace_config(root))
    assert info.value.path == "gen/b.yaml"
    assert (root / "gen" / "a.yaml").read_text() == "token: t-Secret-9\n"
    sealed = sopsfiles.encrypt_files(targets[:1], [], sopsfiles.find_workspace_config(root))
    assert b"t-Secret-9" not in sealed[0].data
    result = engine.decrypt(sealed[0].data, "yaml", _ids)
    assert get_store("yaml").emit_plain(result.branches) == b"token: t-Secret-9\n"


def _ids():  # type: ignore[no-untyped-def]
    from homelab_secrets.sops.keys.age import Identities

    ids = Identities()
    ids.identities.append(IDENTITY)
    return ids


def test_default_manifest_dir_is_under_runner_temp() -> None:
    assert manifest.default_manifest_dir({"RUNNER_TEMP": "/rt"}) == Path(
        "/rt/homelab-secrets-state"
    )
    assert str(os.getuid()) in str(manifest.default_manifest_dir({}))


def test_an_encrypted_dotenv_file_with_format_dotenv_gets_its_copy_and_its_tool_file(
    workspace: Path, tmp_path: Path
) -> None:
    encrypt_to(workspace / "conf" / "X.env", "dotenv", b"TOKEN=tok-Secret-5\n")
    result = decrypt_job(options(tmp_path, files=("conf/X.env",), format="dotenv"), ENV, workspace)
    copy, tool = tmp_path / "out" / "conf" / "X.env", tmp_path / "out-formats" / "conf" / "X.env"
    assert result.written == [str(copy), str(tool)]
    assert copy.read_bytes() == b"TOKEN=tok-Secret-5\n"  # what sops decrypt prints
    assert tool.read_bytes() == b"TOKEN=tok-Secret-5\n"
    assert stat.S_IMODE((tmp_path / "out-formats").stat().st_mode) == 0o700


def test_format_dir_is_where_tool_files_go_when_given(workspace: Path, tmp_path: Path) -> None:
    decrypt_job(
        options(
            tmp_path,
            files=("env/prd.enc.yaml",),
            format="ansible-vars",
            format_dir_given=tmp_path / "vars",
        ),
        ENV,
        workspace,
    )
    assert (tmp_path / "vars" / "env" / "prd.vars.yml").read_text().startswith("db:\n")


def test_a_value_the_env_file_cannot_carry_fails_naming_the_key_and_writes_nothing(
    workspace: Path, tmp_path: Path
) -> None:
    encrypt_to(workspace / "x" / "bad.enc.yaml", "yaml", b'evil: "it\'s `touch pwned`"\n')
    opts = options(
        tmp_path,
        files=("env/prd.enc.yaml", "x/bad.enc.yaml"),
        export_env=True,
        env_file=tmp_path / "job.env",
    )
    with pytest.raises(UserError) as caught:
        decrypt_job(opts, ENV, workspace)
    assert "cannot write EVIL to a dotenv file" in caught.value.message
    assert "touch" not in caught.value.message
    assert not (tmp_path / "job.env").exists()
    assert not (tmp_path / "out").exists()


def test_the_env_file_is_safe_to_source(workspace: Path, tmp_path: Path) -> None:
    value = "multi\nline $(touch pwned) `touch pwned2` $HOME ! # end "
    encrypt_to(workspace / "x" / "ok.enc.yaml", "yaml", json.dumps({"v": value}).encode())
    opts = options(tmp_path, files=("x/ok.enc.yaml",), export_env=True, env_file=tmp_path / "e")
    decrypt_job(opts, ENV, workspace)
    import subprocess

    for shell in ("bash", "sh"):
        out = subprocess.run(
            [shell, "-c", 'set -a; . "$1"; printf %s "$V"', shell, str(tmp_path / "e")],
            capture_output=True,
            cwd=tmp_path,
            check=True,
        )
        assert out.stdout.decode() == value
    assert not list(tmp_path.glob("pwned*"))


def test_in_place_cleanup_restores_mode_and_owner(workspace: Path, tmp_path: Path) -> None:
    target = workspace / "env" / "prd.enc.yaml"
    encrypted = target.read_bytes()
    os.chmod(target, 0o644)
    if os.geteuid() == 0:
        os.chown(target, 4321, 4322)
    decrypt_job(options(tmp_path, files=("env/prd.enc.yaml",), in_place=True), ENV, workspace)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # plaintext: tightened (README)
    manifest.cleanup(manifest.Manifest(tmp_path / "state"))
    assert target.read_bytes() == encrypted
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    if os.geteuid() == 0:
        assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4322)


def test_in_place_through_a_symlink_writes_and_restores_the_target(
    workspace: Path, tmp_path: Path
) -> None:
    target = workspace / "env" / "prd.enc.yaml"
    encrypted = target.read_bytes()
    link = workspace / "current.enc.yaml"
    link.symlink_to("env/prd.enc.yaml")
    decrypt_job(options(tmp_path, files=("current.enc.yaml",), in_place=True), ENV, workspace)
    assert link.is_symlink()
    assert b"pw-Secret-1" in target.read_bytes()
    manifest.cleanup(manifest.Manifest(tmp_path / "state"))
    assert link.is_symlink()
    assert target.read_bytes() == encrypted


def test_copies_follow_the_sops_yaml_store_options_like_decrypt_and_sops(
    workspace: Path, tmp_path: Path
) -> None:
    """One decrypt path: with `stores: {yaml: {indent: 2}}` the job's copies are
    what `homelab-secrets decrypt` (and sops) print, not 4-space YAML."""
    from support.sops_oracle import SOPS, run_ours, run_sops

    (workspace / ".sops.yaml").write_text("stores:\n  yaml:\n    indent: 2\n")
    decrypt_job(options(tmp_path, files=("env/prd.enc.yaml",)), ENV, workspace)
    copy = (tmp_path / "out" / "env" / "prd.enc.yaml").read_bytes()
    assert copy.startswith(b"db:\n  password: pw-Secret-1\n  port: 5432\nlist:\n  - a-Secret-2\n")
    home = tmp_path / "home"
    home.mkdir()
    args = ["decrypt", "env/prd.enc.yaml"]
    env = {"SOPS_AGE_KEY": str(IDENTITY)}
    assert run_ours(args, cwd=workspace, home=home, env=env).stdout == copy
    if SOPS is not None:
        assert run_sops(args, cwd=workspace, home=home, env=env).stdout == copy


# ---------------------------------------------------------------- minimal diffs
def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _reencrypt(tmp_path: Path, root: Path, recipients: list[str], environ: dict[str, str]) -> None:
    from homelab_secrets.commands import sops_encrypt

    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        sops_encrypt.encrypt_job(
            ("env/prd.enc.yaml",),
            recipients,
            in_place=True,
            output_dir=tmp_path / "unused",
            manifest_dir=tmp_path / "state",
            root=root,
        )
    finally:
        os.environ.clear()
        os.environ.update(old)


def test_a_file_decrypted_in_place_is_encrypted_again_with_its_data_key(
    workspace: Path, tmp_path: Path
) -> None:
    """sops-decrypt in place, change one value, sops-encrypt in place in a step
    without any age key: only that value, lastmodified and mac change."""
    target = workspace / "env" / "prd.enc.yaml"
    before = _lines(target)
    decrypt_job(options(tmp_path, files=("env/prd.enc.yaml",), in_place=True), ENV, workspace)
    state = tmp_path / "state"
    kept = [p.name for p in state.iterdir()]
    assert any(n.startswith("datakey-") for n in kept)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in state.iterdir())
    target.write_text(target.read_text().replace("pw-Secret-1", "pw-Secret-changed"))
    time.sleep(1.05)  # a new lastmodified (seconds)
    _reencrypt(tmp_path, workspace, [RECIPIENT], {"HOME": "/nonexistent"})  # no age key here
    after = _lines(target)
    assert len(after) == len(before)
    changed = [b.split(":", 1)[0].strip() for b, a in zip(before, after, strict=True) if a != b]
    assert changed == ["password", "lastmodified", "mac"]
    result = engine.decrypt(target.read_bytes(), "yaml", _ids)
    assert b"pw-Secret-changed" in get_store("yaml").emit_plain(result.branches)
    assert not any(p.name.startswith(("datakey-", "original-")) for p in state.iterdir())


def test_new_recipients_get_a_new_data_key(workspace: Path, tmp_path: Path) -> None:
    """A recipient removed (or added) must not keep the old data key."""
    target = workspace / "env" / "prd.enc.yaml"
    before = _lines(target)
    decrypt_job(options(tmp_path, files=("env/prd.enc.yaml",), in_place=True), ENV, workspace)
    other = str(pyrage.x25519.Identity.generate().to_public())
    _reencrypt(tmp_path, workspace, [RECIPIENT, other], {"HOME": "/nonexistent"})
    after = _lines(target)
    unchanged = [a for a, b in zip(after, before, strict=False) if a == b and "ENC[" in a]
    assert unchanged == []


def test_without_a_kept_key_the_environment_s_age_key_opens_the_original(
    workspace: Path, tmp_path: Path
) -> None:
    target = workspace / "env" / "prd.enc.yaml"
    before = _lines(target)
    decrypt_job(options(tmp_path, files=("env/prd.enc.yaml",), in_place=True), ENV, workspace)
    for sidecar in (tmp_path / "state").glob("datakey-*"):
        sidecar.unlink()  # e.g. a manifest written before keys were kept
    _reencrypt(tmp_path, workspace, [RECIPIENT], ENV)
    after = _lines(target)
    assert after[:6] == before[:6]  # every value's ciphertext: unchanged


def test_cleanup_restores_the_original_bytes_and_forgets_the_key(
    workspace: Path, tmp_path: Path
) -> None:
    target = workspace / "env" / "prd.enc.yaml"
    original = target.read_bytes()
    decrypt_job(options(tmp_path, files=("env/prd.enc.yaml",), in_place=True), ENV, workspace)
    assert target.read_bytes() != original
    report = manifest.cleanup(manifest.Manifest(tmp_path / "state"))
    assert report.restored == [str(target)]
    assert target.read_bytes() == original  # same data key, same ciphertexts
    assert not (tmp_path / "state").exists()
