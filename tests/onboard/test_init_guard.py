"""The pre-commit entry merged into an existing file (nothing else touched,
idempotent), and the caller workflows for each place CI reads the key."""

from __future__ import annotations

import pytest
import yaml

from homelab_secrets.errors import UserError
from homelab_secrets.onboard import guard

ACTION = guard.ActionRef("me/homelab-secrets", "v1.2.0")

EXISTING = """\
# my hooks
repos:
- repo: https://github.com/pre-commit/pre-commit-hooks
  rev: v5.0.0
  hooks:
  - id: trailing-whitespace
# local ones last
- repo: local
  hooks:
  - id: tflint
    name: tflint
    entry: tflint
    language: system
default_stages: [pre-commit]
"""


def test_the_hook_is_appended_and_nothing_else_changes() -> None:
    text = guard.pre_commit(EXISTING, ACTION)
    head, _, tail = EXISTING.partition("default_stages")
    assert text.startswith(head)
    assert text.endswith("default_stages" + tail)
    repos = yaml.safe_load(text)["repos"]
    assert repos[-1] == {
        "repo": "https://github.com/me/homelab-secrets",
        "rev": "v1.2.0",
        "hooks": [{"id": "homelab-secrets-scan"}],
    }
    assert guard.pre_commit(text, ACTION) == text  # already there: unchanged


def test_a_file_without_repos_gets_them_and_a_new_file_is_complete() -> None:
    text = guard.pre_commit("default_stages: [pre-commit]", ACTION)
    assert yaml.safe_load(text)["default_stages"] == ["pre-commit"]
    assert yaml.safe_load(text)["repos"][0]["hooks"] == [{"id": "homelab-secrets-scan"}]
    assert yaml.safe_load(guard.pre_commit(None, ACTION))["repos"][0]["rev"] == "v1.2.0"


def test_a_flow_list_of_repos_is_left_to_the_person() -> None:
    with pytest.raises(UserError, match="add the homelab-secrets-scan hook by hand"):
        guard.pre_commit("repos: []\n", ACTION)


@pytest.mark.parametrize("bad", [("org", "v1"), ("org/x", "v1 && curl"), ("o/x", "")])
def test_action_ref_is_checked(bad: tuple[str, str]) -> None:
    with pytest.raises(UserError):
        guard.ActionRef(*bad)


def test_decrypt_workflows_per_key_place() -> None:
    files = ["a.enc.yaml", "terraform.enc.tfvars"]
    doppler = yaml.safe_load(guard.decrypt_workflow(ACTION, "main", guard.CIKey("doppler"), files))
    step = doppler["jobs"]["decrypt"]["steps"][1]
    assert step["uses"] == "me/homelab-secrets@v1.2.0"
    assert step["with"]["doppler-token"] == "${{ secrets.DOPPLER_TOKEN }}"
    assert step["with"]["sops-files"].split() == files
    assert doppler["permissions"] == {}
    infisical = guard.CIKey(
        "infisical", "AGE", api_url="https://i.lan", project_slug="infra", environment="prod"
    )
    step = yaml.safe_load(guard.decrypt_workflow(ACTION, "main", infisical, files))["jobs"][
        "decrypt"
    ]["steps"][1]
    assert step["with"]["infisical-project-slug"] == "infra"
    assert step["with"]["age-key-secret"] == "AGE"
    github = yaml.safe_load(guard.decrypt_workflow(ACTION, "trunk", guard.CIKey("github"), files))
    step = github["jobs"]["decrypt"]["steps"][1]
    assert step["uses"] == "me/homelab-secrets/actions/sops-decrypt@v1.2.0"
    assert github[True]["push"]["branches"] == ["trunk"]  # YAML 1.1 reads `on` as True
