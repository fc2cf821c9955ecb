"""A token that cannot write secrets is found and explained: which kind of
token it is, what it lacks, what to use instead; before anything is written
whenever GitHub lets us know that early."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sync_world import VALUES, World, world

from fakes.github import ACTIONS_TOKEN, ALL_PERMISSIONS
from homelab_secrets.sync.access import explain, missing_scopes, token_kind
from homelab_secrets.sync.config import parse_config
from homelab_secrets.sync.runner import SyncReport

REPO_ONLY = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
ORG_ONLY = "source: {provider: doppler}\ntargets:\n  - organization: owner\n"


@pytest.fixture
def w() -> Iterator[World]:
    with world() as it:
        yield it


def _problems(report: SyncReport) -> str:
    return "\n".join(str(p) for p in report.problems)


def test_the_workflows_own_github_token_is_explained_and_nothing_is_written(w: World) -> None:
    w.github.add_token(ACTIONS_TOKEN, "installation", permissions={"metadata": "read"})
    report = w.run(REPO_ONLY, token=ACTIONS_TOKEN)
    text = _problems(report)
    assert report.exit_code == 1
    assert "GitHub App installation token" in text
    assert "workflow's own GITHUB_TOKEN" in text
    assert "can never write secrets" in text
    assert "GitHub asks for: secrets=read" in text
    assert w.github.writes() == []


def test_a_classic_token_without_repo_scope_is_refused_before_any_write(w: World) -> None:
    token = w.github.add_token("ghp_ClassicNoRepoScope0123456789", "classic", scopes=("read:org",))
    report = w.run(REPO_ONLY, token=token)
    text = _problems(report)
    assert "classic token with scopes [read:org]" in text
    assert "needs repo" in text
    assert w.github.writes() == []


def test_a_classic_token_for_an_org_target_needs_admin_org(w: World) -> None:
    token = w.github.add_token("ghp_ClassicRepoOnly0123456789", "classic", scopes=("repo",))
    report = w.run(ORG_ONLY, token=token)
    assert "needs admin:org" in _problems(report)
    assert w.github.writes() == []
    assert w.run(REPO_ONLY, token=token).ok  # repo is enough for a repository


def test_a_fine_grained_token_that_may_only_read_secrets_fails_every_name_explained(
    w: World,
) -> None:
    token = w.github.add_token(
        "github_pat_ReadOnlySecrets",
        permissions={**ALL_PERMISSIONS, "secrets": "read"},
    )
    report = w.run(REPO_ONLY, token=token)
    run = report.runs[0]
    assert report.exit_code == 1
    assert sorted(run.failed) == sorted(VALUES)
    first = run.failed[sorted(run.failed)[0]]
    assert "HTTP 403" in first
    assert "GitHub asks for: secrets=write" in first
    assert "'Secrets: Read and write'" in first
    # one refusal stops the target: the other names are not tried
    assert len([r for r in w.github.requests if r.method == "PUT"]) == 1
    assert all(why.startswith("not written: ") for name, why in run.failed.items() if why != first)
    assert w.github.scope(repository="owner/terraform-proxmox").names() == []


def test_a_token_without_variables_permission_cannot_read_the_state(w: World) -> None:
    without = {k: v for k, v in ALL_PERMISSIONS.items() if k != "variables"}
    token = w.github.add_token("github_pat_NoVariables", permissions=without)
    report = w.run(REPO_ONLY, token=token)
    text = _problems(report)
    assert "read the state" in text
    assert "'Variables: Read and write'" in text
    assert w.github.writes() == []


def test_a_revoked_token_is_named_as_such(w: World) -> None:
    report = w.run(REPO_ONLY, token="github_pat_NeverIssued")
    assert "HTTP 401" in _problems(report)
    assert "invalid, expired or revoked" in _problems(report)


def test_environment_targets_need_the_environment_to_exist(w: World) -> None:
    config = (
        "source: {provider: doppler}\ntargets:\n"
        "  - repository: owner/ansible-splunk\n    environment: staging\n"
    )
    text = _problems(w.run(config))
    assert "HTTP 404" in text
    assert "environment staging of owner/ansible-splunk" in text
    assert "does not create environments" in text


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("github_pat_11ABC", "fine-grained"),
        ("ghp_abc", "classic"),
        ("ghs_abc", "installation"),
        ("ghu_abc", "app-user"),
        ("gho_abc", "oauth"),
        ("test-token", "unknown"),
    ],
)
def test_token_kinds_by_prefix(token: str, kind: str) -> None:
    assert token_kind(token) == kind


def test_explanations_never_quote_the_token() -> None:
    config = parse_config(REPO_ONLY)
    target = config.targets[0]
    token = "ghs_SuperSecretInstallationToken42"
    for status in (401, 403, 404):
        text = explain(status, {}, token, target, "write A")
        assert token not in text
        assert "Secret" not in text.replace("Secrets", "")
    assert missing_scopes(None, target) is None  # not a classic token: nothing known
    assert missing_scopes(["repo", "workflow"], target) is None
