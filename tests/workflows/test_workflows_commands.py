"""The workflow commands as a step runs them (``--gha``, the runner's files):
plan-keygen, plan-summary, plan-seal, plan-open, pr-comment, ssh-agent-add."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import RunnerFiles
from fakes import serve
from homelab_secrets.cli import main
from homelab_secrets.workflows import bundle
from workflows.fake_pr_comments import FakePullRequestComments

SECRET = "cmd-Secret-Value-77aa"
needs_openssh = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("ssh-agent", "ssh-add", "ssh-keygen")),
    reason="OpenSSH client tools not installed",
)
PLAN_JSON = {
    "format_version": "1.2",
    "terraform_version": "1.15.5",
    "resource_changes": [
        {"address": f'a.vm["{SECRET}"]', "change": {"actions": ["create"]}},
        {"address": "a.old", "change": {"actions": ["delete"]}},
    ],
}


def _masks(out: str) -> set[str]:
    return set(re.findall(r"^::add-mask::(.*)$", out, re.M))


def _git_repo(path: Path) -> str:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_plan_keygen_writes_a_private_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "plan.key"
    assert main(["plan-keygen", "-o", str(key)]) == 0
    public = capsys.readouterr().out.strip()
    assert public.startswith("age1")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "AGE-SECRET-KEY-1" in key.read_text()
    assert main(["plan-keygen", "-o", str(key)]) == 3
    assert "refusing to overwrite" in capsys.readouterr().err
    assert main(["plan-keygen", "--scheme", "sealedbox"]) == 0
    assert "Public key: " in capsys.readouterr().err


def test_plan_summary_in_a_step(
    tmp_path: Path,
    runner_files: RunnerFiles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN_JSON))
    monkeypatch.setenv("DB_SECRET", SECRET)
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    code = main(
        [
            "plan-summary", "--gha", "--plan-json", str(plan), "--tool", "tofu",
            "--working-directory", "envs/prd", "--environment", "prd",
            "--redact-env-json", '["DB_SECRET"]', "--next-step", "Plan only.",
        ]
    )  # fmt: skip
    assert code == 0
    outputs = runner_files.outputs()
    assert outputs["has-changes"] == "true"
    assert (outputs["add"], outputs["change"], outputs["destroy"]) == ("1", "0", "1")
    summary = runner_files.summary_text()
    assert "### OpenTofu plan: `envs/prd` · environment `prd`" in summary
    assert '`a.vm["***"]`' in summary  # a value in an address is redacted
    assert SECRET not in summary
    assert SECRET not in outputs["comment"]
    assert outputs["comment"].startswith("### OpenTofu plan")
    assert "Plan only." in outputs["comment"]
    assert SECRET not in capsys.readouterr().out


def test_plan_summary_locally_prints_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN_JSON))
    comment = tmp_path / "comment.md"
    assert main(["plan-summary", "--plan-json", str(plan), "--comment-file", str(comment)]) == 0
    out = capsys.readouterr()
    assert "**1 to add, 0 to change, 1 to destroy**" in out.out
    assert "terraform plan: 1 to add" in out.err
    assert comment.read_text().startswith("### Terraform plan")


def test_plan_seal_then_open_in_steps(
    tmp_path: Path, runner_files: RunnerFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    wd = tmp_path / "envs" / "prd"
    wd.mkdir(parents=True)
    (wd / "main.tf").write_text("# config\n")
    commit = _git_repo(tmp_path)
    (wd / ".terraform.lock.hcl").write_text("# lock made by init\n")
    plan = tmp_path / "tfplan"
    plan.write_bytes(b"PK plan holding " + SECRET.encode())
    public, private = bundle.generate_keypair("age")
    monkeypatch.setenv("PLAN_PUBLIC_KEY", public)
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/infra")
    sealed = tmp_path / "out" / "tfplan.sealed"
    sealed.parent.mkdir()
    root = [
        "--working-directory",
        "envs/prd",
        "--environment",
        "prd",
        "--var-file",
        "a.tfvars\nb.tfvars",
    ]
    assert main(["plan-seal", "--gha", "--plan", str(plan), "--out", str(sealed), *root]) == 0
    assert runner_files.outputs()["commit"] == commit
    assert SECRET.encode() not in sealed.read_bytes()

    # the apply job: a fresh checkout (no lock file yet), the private key in the environment
    (wd / ".terraform.lock.hcl").unlink()
    monkeypatch.setenv("PLAN_PRIVATE_KEY", private)
    opened = tmp_path / "opened"
    assert main(["plan-open", "--gha", "--sealed", str(sealed), "--out", str(opened), *root]) == 0
    assert opened.read_bytes() == plan.read_bytes()
    assert stat.S_IMODE(opened.stat().st_mode) == 0o600
    assert (wd / ".terraform.lock.hcl").read_text() == "# lock made by init\n"
    assert "Sealed plan opened: `envs/prd`" in runner_files.summary_text()

    # another tool, environment or var-file list: refused, nothing written
    opened.unlink()
    base = [
        "plan-open",
        "--sealed",
        str(sealed),
        "--out",
        str(opened),
        "--working-directory",
        "envs/prd",
    ]
    for other in (
        ["--environment", "prd", "--var-file", "a.tfvars\nb.tfvars", "--tool", "tofu"],
        ["--environment", "dev", "--var-file", "a.tfvars\nb.tfvars"],
        ["--environment", "prd", "--var-file", "c.tfvars"],
    ):
        assert main([*base, *other]) == 1
        assert not opened.exists()


def test_plan_open_masks_the_key_first_and_refuses_a_stale_plan(
    tmp_path: Path,
    runner_files: RunnerFiles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "main.tf").write_text("# config\n")
    _git_repo(tmp_path)
    public, private = bundle.generate_keypair("age")
    monkeypatch.setenv("PLAN_PUBLIC_KEY", public)
    (tmp_path / "tfplan").write_bytes(b"plan")
    sealed = tmp_path / "sealed"
    assert (
        main(
            [
                "plan-seal",
                "--plan",
                str(tmp_path / "tfplan"),
                "--out",
                str(sealed),
                "--commit",
                "a" * 40,
            ]
        )
        == 0
    )
    capsys.readouterr()
    monkeypatch.setenv("PLAN_PRIVATE_KEY", f"# a comment\n{private}\n")
    code = main(["plan-open", "--gha", "--sealed", str(sealed), "--out", str(tmp_path / "o")])
    out = capsys.readouterr()
    assert code == 1
    assert private in _masks(out.out)
    assert out.out.index("::add-mask::") < out.out.index("::error")
    assert "it is stale: it was made at commit aaaaaaaaaaaa" in out.err
    assert private not in out.err


def test_plan_seal_needs_a_public_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tfplan").write_bytes(b"plan")
    code = main(
        [
            "plan-seal",
            "--plan",
            str(tmp_path / "tfplan"),
            "--out",
            str(tmp_path / "s"),
            "--commit",
            "a",
        ]
    )
    assert code == 2
    assert "PLAN_PUBLIC_KEY is empty" in capsys.readouterr().err


def test_pr_comment_creates_then_updates_one_comment(
    tmp_path: Path, runner_files: RunnerFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakePullRequestComments("ghs_token")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 5, "pull_request": {"number": 5}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/infra")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_token")
    with serve(fake) as api:
        monkeypatch.setenv("GITHUB_API_URL", api)
        for body in ("first plan", "second plan"):
            monkeypatch.setenv("BODY", body)
            assert main(["pr-comment", "--gha", "--body-env", "BODY", "--key", "envs/prd|prd"]) == 0
    bodies = fake.bodies("o/infra", 5)
    assert len(bodies) == 1
    assert bodies[0].startswith("<!-- homelab-secrets:terraform-plan:")
    assert bodies[0].endswith("\nsecond plan")
    assert runner_files.outputs()["action"] == "updated"


def test_pr_comment_outside_a_pull_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"ref": "refs/heads/main"}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/infra")
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("BODY", "x")
    assert main(["pr-comment", "--body-env", "BODY"]) == 2
    assert "not a pull request event" in capsys.readouterr().err


@pytest.fixture
def ssh_key(tmp_path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t", "-f", str(tmp_path / "k")],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return (tmp_path / "k").read_text()


@needs_openssh
def test_ssh_agent_add_masks_every_line_then_loads_the_key(
    ssh_key: str,
    runner_files: RunnerFiles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DEPLOY_KEY", ssh_key)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("SSH_AGENT_PID", raising=False)
    code = main(["ssh-agent-add", "--gha", "--start", "--unset", "--from-env", "DEPLOY_KEY"])
    exported = runner_files.exported_env()
    pid = int(exported.get("SSH_AGENT_PID", "0"))
    try:
        assert code == 0
        out = capsys.readouterr().out
        lines = [line.strip() for line in ssh_key.splitlines() if line.strip()]
        assert set(lines) <= _masks(out)
        assert exported["DEPLOY_KEY"] == ""
        listed = subprocess.run(
            ["ssh-add", "-l"],
            env={**os.environ, "SSH_AUTH_SOCK": exported["SSH_AUTH_SOCK"]},
            capture_output=True,
            text=True,
            check=False,
        )
        assert listed.returncode == 0
        assert listed.stdout.count("\n") == 1
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)


@needs_openssh
def test_ssh_agent_add_refuses_what_is_not_a_key(
    runner_files: RunnerFiles, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPLOY_KEY", "not-a-key-Secret-55")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    code = main(["ssh-agent-add", "--gha", "--start", "--from-env", "DEPLOY_KEY"])
    pid = int(runner_files.exported_env().get("SSH_AGENT_PID", "0"))
    if pid:
        os.kill(pid, signal.SIGTERM)
    out = capsys.readouterr()
    assert code == 1
    assert "ssh-add refused the key in $DEPLOY_KEY" in out.err
    assert "not-a-key-Secret-55" not in out.err
    monkeypatch.setenv("EMPTY_KEY", "")
    assert main(["ssh-agent-add", "--from-env", "EMPTY_KEY"]) == 2
