"""The reusable check .github/workflows/scan-secrets.yml (and through it
actions/scan-secrets) under act, on pull-request events: a PR that adds a
secret fails, with the annotation on the right line and the value nowhere in
the log; a PR that adds a SOPS file passes.

act cannot run ``uses: $/...`` (the self-repository syntax the workflow
uses to reach its sibling action at its own commit), so the test's copy
maps it to ``./actions/scan-secrets``, which is the same files here: the
caller's repository is this one.  The SARIF upload step is switched off
(``upload-sarif: false``) and stubbed, as act cannot reach GitHub.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from act_harness import assert_never_in_log, make_repo, requires_act, run_act

pytestmark = [
    pytest.mark.e2e,
    requires_act,
]

CALLER = """
name: guard
on: pull_request
permissions: {}
jobs:
  scan:
    uses: ./.github/workflows/scan-secrets.yml
    permissions:
      contents: read
      security-events: write
    with:
      upload-sarif: false
"""
SECRET = "Gh0st-Writer-Pw!47"
UPLOAD = "github/codeql-action/upload-sarif@8aad20d150bbac5944a9f9d289da16a4b0d87c1e"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
SOPS_FILE = (Path(__file__).parent / "scan" / "corpus" / "secrets" / "prod.enc.yaml").read_text()


def _pull_request(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """A repo whose last commit is the pull request's head, and its event."""
    repo = make_repo(tmp_path, CALLER, files={"app/settings.env": "APP_ENV=production\n"})
    reusable = repo / ".github/workflows/scan-secrets.yml"
    reusable.write_text(reusable.read_text().replace("uses: $/actions/", "uses: ./actions/"))
    stub = tmp_path / "upload-sarif-stub" / "upload-sarif"
    stub.mkdir(parents=True)
    (stub / "action.yml").write_text(
        "name: stub\ndescription: stub\nruns:\n  using: composite\n  steps: []\n"
    )
    for args in (["commit", "-qam", "base: act runs ./actions"],):
        subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True)
    base = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for args in (["add", "-A"], ["commit", "-qm", "the pull request"]):
        subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"sha": base, "ref": "main", "repo": {"full_name": "example/homelab-secrets"}},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": "someone/fork"}},
        },
        "repository": {"full_name": "example/homelab-secrets"},
    }))  # fmt: skip
    return repo, event


def _run(repo: Path, event: Path, cache: Path, tmp_path: Path) -> object:
    stub = tmp_path / "upload-sarif-stub"
    return run_act(
        repo,
        "pull_request",
        "-e",
        str(event),
        cache=cache,
        local_repositories={UPLOAD.replace("/upload-sarif", ""): stub},
    )


def test_a_pull_request_adding_a_secret_fails_with_an_annotation(
    tmp_path: Path, action_cache: Path
) -> None:
    added = f"APP_ENV=production\nDB_USER=app\nDB_PASSWORD={SECRET}\n"
    repo, event = _pull_request(tmp_path, {"app/settings.env": added, "README.md": "# hi\n"})
    run = _run(repo, event, action_cache, tmp_path)
    assert run.returncode == 1, run.log
    assert (
        "::error title=homelab-secrets%3A generic-password,file=app/settings.env,line=3," in run.log
    )
    assert "1 finding in 1 of 2 files scanned" in run.log  # the PR's two files, nothing else
    assert "app/settings.env:3:13: generic-password" in run.log
    assert "| app/settings.env | 3 | generic-password | DB\\_PASSWORD |" in run.log  # summary
    assert_never_in_log(run, [SECRET, SECRET[4:]])


def test_a_pull_request_adding_a_sops_file_passes(tmp_path: Path, action_cache: Path) -> None:
    repo, event = _pull_request(tmp_path, {"secrets/prod.enc.yaml": SOPS_FILE})
    run = _run(repo, event, action_cache, tmp_path)
    assert run.returncode == 0, run.log
    assert "no findings in 1 files scanned" in run.log
