"""``homelab-secrets sync`` as a user runs it: values from the fake Doppler,
written to the fake GitHub, both on 127.0.0.1; exit codes, what is printed,
and in ``--gha`` mode the masks, outputs, summary and annotations.  No value
ever appears in anything printed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sync_world import ISSUE_CONFIG, KEY, TOKEN, VALUES, estate

from conftest import RunnerFiles
from fakes import serve
from fakes.doppler import FakeDoppler
from fakes.github import FakeGitHub
from homelab_secrets.cli import main

DOPPLER_TOKEN = "dp.sa.U3luY1Rlc3RTZXJ2aWNlQWNjb3VudA"


@dataclass
class Env:
    github: FakeGitHub
    doppler: FakeDoppler
    config: Path
    tmp: Path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    github = estate(FakeGitHub())
    doppler = FakeDoppler()
    doppler.add_config("iac-conf-mgmt", "prd", VALUES)
    doppler.add_account_token(DOPPLER_TOKEN, {"iac-conf-mgmt": "read"})
    config = tmp_path / "sync.yaml"
    config.write_text(ISSUE_CONFIG)
    monkeypatch.chdir(tmp_path)
    with serve(github) as github_url, serve(doppler) as doppler_url:
        monkeypatch.setenv("DOPPLER_TOKEN", DOPPLER_TOKEN)
        monkeypatch.setenv("DOPPLER_API_HOST", doppler_url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", github_url)
        monkeypatch.setenv("HOMELAB_SECRETS_SYNC_KEY", KEY.decode())
        yield Env(github, doppler, config, tmp_path)


def _secret_forms() -> list[str]:
    forms = []
    for value in VALUES.values():
        forms.append(value)
        forms += [line.strip() for line in value.splitlines() if line.strip()]
        forms.append(json.dumps(value)[1:-1])
    return forms


def _assert_no_value(*texts: str) -> None:
    for text in texts:
        for number, form in enumerate(_secret_forms()):
            assert form not in text, f"value form #{number} leaked"


def test_cli_syncs_then_finds_nothing_to_do(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--config", "sync.yaml"]) == 0
    out, err = capsys.readouterr()
    assert "doppler iac-conf-mgmt/prd -> 4 target(s) (sync)" in out
    assert re.search(r"^repo:owner/terraform-proxmox\s+4\s+0\s+0\s+0\s+0\s+0$", out, re.M)
    assert "HEC_TOKEN" in out
    _assert_no_value(out, err)
    assert env.github.scope(organization="owner").values() == VALUES

    writes = len(env.github.writes())
    assert main(["sync"]) == 0  # --config defaults to sync.yaml
    out, err = capsys.readouterr()
    assert len(env.github.writes()) == writes
    assert "4 unchanged: HEC_TOKEN" in out
    _assert_no_value(out, err)


def test_dry_run_prints_the_plan_and_writes_nothing(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--config", "sync.yaml", "--dry-run"]) == 0
    out, _ = capsys.readouterr()
    assert "(dry run: nothing written)" in out
    assert "add    HEC_TOKEN            new" in out
    assert env.github.writes() == []


def test_json_report_and_one_target(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sync", "--target", "repo:owner/terraform-proxmox", "--json", "--dry-run"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report) == ["repo:owner/terraform-proxmox"]
    assert report["repo:owner/terraform-proxmox"]["add"] == [
        "HEC_TOKEN",
        "PROXMOX_VE_ENDPOINT",
        "PROXMOX_VE_PASSWORD",
        "SPLUNK_PASSWORD",
    ]


def test_an_unknown_target_is_a_usage_error_before_any_request(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--target", "repo:owner/nope"]) == 2
    err = capsys.readouterr().err
    assert "--target repo:owner/nope: not in sync.yaml" in err
    assert "repo:owner/terraform-proxmox" in err
    assert env.github.requests == []
    assert env.doppler.requests == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HOMELAB_SECRETS_SYNC_KEY", None, "HOMELAB_SECRETS_SYNC_KEY is not set"),
        ("HOMELAB_SECRETS_SYNC_KEY", "short", "is 5 characters: use at least 32"),
        ("GITHUB_TOKEN", None, "workflow's own GITHUB_TOKEN cannot write secrets"),
        ("GITHUB_API_URL", "http://github.example", "plain http is allowed only on a loopback"),
    ],
)
def test_missing_or_bad_settings_are_usage_errors(
    env: Env,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str | None,
    message: str,
) -> None:
    if value is None:
        monkeypatch.delenv(variable)
    else:
        monkeypatch.setenv(variable, value)
    assert main(["sync"]) == 2
    assert message in capsys.readouterr().err
    assert env.github.writes() == []


def test_a_bad_config_names_the_line(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.config.write_text(ISSUE_CONFIG.replace("visibility: selected", "visibility: public"))
    assert main(["sync"]) == 2
    assert "sync.yaml:13: targets[3].visibility: must be one of" in capsys.readouterr().err


def test_problems_exit_1_each_reported_and_nothing_written(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.doppler.put_secret("iac-conf-mgmt", "prd", "GITHUB_PAT", "ghp-Secret-in-doppler")
    assert main(["sync"]) == 1
    err = capsys.readouterr().err
    assert "env:owner/ansible-splunk/production: GITHUB_PAT: must not start with GITHUB_" in err
    assert "nothing was written to any target" in err
    assert "ghp-Secret-in-doppler" not in err
    assert env.github.writes() == []


def test_gha_mode_masks_first_then_publishes_outputs_and_summary(
    env: Env,
    runner_files: RunnerFiles,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GITHUB_TOKEN", "HOMELAB_SECRETS_SYNC_KEY", "DOPPLER_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("INPUT_CONFIG", str(env.config))
    monkeypatch.setenv("INPUT_GITHUB-TOKEN", TOKEN)
    monkeypatch.setenv("INPUT_SYNC-KEY", KEY.decode())
    monkeypatch.setenv("INPUT_DOPPLER-TOKEN", DOPPLER_TOKEN)
    monkeypatch.setenv("INPUT_TARGETS", "repo:owner/terraform-proxmox\norg:owner")
    assert main(["sync", "--gha"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    first_other = next(i for i, ln in enumerate(lines) if not ln.startswith("::add-mask::"))
    masks = {ln.removeprefix("::add-mask::") for ln in lines[:first_other]}
    for value in VALUES.values():
        for line in value.splitlines():
            assert line.strip().replace("%", "%25") in masks
    assert TOKEN in masks
    assert DOPPLER_TOKEN in masks
    assert KEY.decode() in masks

    outputs = runner_files.outputs()
    assert json.loads(outputs["targets"]) == ["repo:owner/terraform-proxmox", "org:owner"]
    plan = json.loads(outputs["plan"])
    assert sorted(plan["org:owner"]["add"]) == sorted(VALUES)
    assert json.loads(outputs["failed"]) == []
    summary = runner_files.summary_text()
    assert "### homelab-secrets sync: sync" in summary
    assert "<summary>org:owner</summary>" in summary
    assert "HEC\\_TOKEN" in summary
    rest = "\n".join(lines[first_other:])
    _assert_no_value(rest, err, summary, outputs["plan"])


def test_gha_mode_annotates_each_failure(
    env: Env,
    runner_files: RunnerFiles,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INPUT_CONFIG", str(env.config))
    monkeypatch.setenv("INPUT_GITHUB-TOKEN", "github_pat_ReadOnly")
    monkeypatch.setenv("INPUT_SYNC-KEY", KEY.decode())
    monkeypatch.setenv("INPUT_TARGETS", "repo:owner/terraform-proxmox")
    env.github.add_token(
        "github_pat_ReadOnly", permissions={"secrets": "read", "variables": "write"}
    )
    assert main(["sync", "--gha"]) == 1
    out = capsys.readouterr().out
    errors = [ln for ln in out.splitlines() if ln.startswith("::error")]
    assert len(errors) == 4  # one per name
    assert all("secrets=write" in e or "not written" in e for e in errors)
    failed = json.loads(runner_files.outputs()["failed"])
    assert len(failed) == 4
    assert all(f.startswith("repo:owner/terraform-proxmox: ") for f in failed)


def test_gha_mode_dry_run_summary_says_nothing_was_written(
    env: Env,
    runner_files: RunnerFiles,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INPUT_CONFIG", str(env.config))
    monkeypatch.setenv("INPUT_GITHUB-TOKEN", TOKEN)
    monkeypatch.setenv("INPUT_SYNC-KEY", KEY.decode())
    monkeypatch.setenv("INPUT_DRY-RUN", "true")
    assert main(["sync", "--gha"]) == 0
    capsys.readouterr()
    assert "dry run (nothing written)" in runner_files.summary_text()
    assert env.github.writes() == []


def test_an_infisical_source_works_the_same(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakes.infisical import FakeInfisical

    infisical = FakeInfisical()
    infisical.add_project("5f0c7e1a-homelab", "homelab", environments=("prod",))
    for name, value in VALUES.items():
        infisical.set_secret("5f0c7e1a-homelab", "prod", "/", name, value)
    infisical.universal_identity("cid-1", "csecret-Never-Shown")
    monkeypatch.setenv("INFISICAL_CLIENT_ID", "cid-1")
    monkeypatch.setenv("INFISICAL_CLIENT_SECRET", "csecret-Never-Shown")
    with serve(infisical) as url:
        env.config.write_text(
            f"source: {{provider: infisical, api-url: '{url}', project-id: 5f0c7e1a-homelab, "
            "environment: prod}\n"
            "targets:\n  - repository: owner/terraform-proxmox\n"
        )
        assert main(["sync"]) == 0
    out, err = capsys.readouterr()
    _assert_no_value(out, err)
    assert "csecret-Never-Shown" not in out + err
    assert env.github.scope(repository="owner/terraform-proxmox").values() == VALUES
