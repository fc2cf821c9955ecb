"""actions/sync-secrets under act (host mode, offline), against the fake
Doppler and the fake GitHub served on 127.0.0.1: a dry run writes nothing, the
sync writes every value (each sealed box opened and compared), a second sync
writes nothing, and no value reaches the log, though act knows none of them
(they come from Doppler: only our ::add-mask:: hides them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from act_harness import CHECKOUT, assert_never_in_log, make_repo, requires_act, run_act
from fakes import serve
from fakes.doppler import FakeDoppler
from fakes.github import FakeGitHub

pytestmark = [
    pytest.mark.e2e,
    requires_act,
]

DOPPLER_TOKEN = "dp.st.prd.RTJlU3luY1NlcnZpY2VUb2tlbkZvclRlc3Rz"
GITHUB_TOKEN = "github_pat_11E2ESYNCTESTONLY_0123456789abcdefghijklmnop"
SYNC_KEY = "e2e-sync-key-0123456789-abcdefghijklmnop"
VALUES = {
    "PROXMOX_VE_PASSWORD": "e2e-Pass 'quoted' 100%",
    "SPLUNK_HEC_TOKEN": "e2e-hec-Secret-31337",
    "TLS_KEY": (
        "-----BEGIN PRIVATE KEY-----\nMIIEvE2eSyncSecretLine\nZq9\n-----END PRIVATE KEY-----\n"
    ),
    "JSON_BLOB": '{"user": "svc", "key": "e2e-k3y-in-json"}',
}

SYNC_YAML = """\
source: {{ provider: doppler, api-host: "{doppler}" }}
targets:
  - repository: owner/terraform-proxmox
    rename: {{ SPLUNK_HEC_TOKEN: HEC_TOKEN }}
  - repository: owner/ansible-splunk
    environment: production
"""

STEP = """
      - id: {id}
        uses: ./actions/sync-secrets
        with:
          dry-run: {dry_run}
          github-token: ${{{{ secrets.SYNC_GITHUB_TOKEN }}}}
          sync-key: ${{{{ secrets.HOMELAB_SECRETS_SYNC_KEY }}}}
          doppler-token: ${{{{ secrets.DOPPLER_TOKEN }}}}
          github-api-url: {github}
"""

WORKFLOW = """
name: sync-e2e
on: push
permissions: {{}}
jobs:
  sync:
    runs-on: ubuntu-latest
    steps:
      - uses: {checkout}
        with:
          persist-credentials: false
{steps}
      - name: report
        env:
          TARGETS: ${{{{ steps.plan.outputs.targets }}}}
          PLAN: ${{{{ steps.plan.outputs.plan }}}}
          FIRST: ${{{{ steps.first.outputs.plan }}}}
          AGAIN: ${{{{ steps.again.outputs.plan }}}}
          FAILED: ${{{{ steps.first.outputs.failed }}}}
        shell: python
        run: |
          import json, os
          for key in ("TARGETS", "PLAN", "FIRST", "AGAIN", "FAILED"):
              print(f"RESULT {{key.lower()}}=" + json.dumps(json.loads(os.environ[key])))
"""


@pytest.fixture
def services() -> Iterator[tuple[FakeGitHub, str, str]]:
    github = FakeGitHub()
    for repo in ("owner/terraform-proxmox", "owner/ansible-splunk"):
        github.add_repo(repo)
    github.add_environment("owner/ansible-splunk", "production")
    github.add_token(GITHUB_TOKEN)
    doppler = FakeDoppler()
    doppler.add_config("iac-conf-mgmt", "prd", VALUES)
    doppler.add_service_token(DOPPLER_TOKEN, "iac-conf-mgmt", "prd")
    with serve(github) as github_url, serve(doppler) as doppler_url:
        yield github, github_url, doppler_url


def test_sync_action_plans_writes_then_finds_nothing_to_do(
    tmp_path: Path, action_cache: Path, services: tuple[FakeGitHub, str, str]
) -> None:
    github, github_url, doppler_url = services
    steps = "".join(
        STEP.format(id=step, dry_run=dry, github=github_url)
        for step, dry in (("plan", "true"), ("first", "false"), ("again", "false"))
    )
    workflow = WORKFLOW.format(checkout=CHECKOUT, steps=steps)
    repo = make_repo(tmp_path, workflow, {"sync.yaml": SYNC_YAML.format(doppler=doppler_url)})
    run = run_act(
        repo,
        "push",
        cache=action_cache,
        secrets={
            "SYNC_GITHUB_TOKEN": GITHUB_TOKEN,
            "HOMELAB_SECRETS_SYNC_KEY": SYNC_KEY,
            "DOPPLER_TOKEN": DOPPLER_TOKEN,
        },
    )
    assert run.returncode == 0, run.log
    results = {k: json.loads(v) for k, v in run.results()["sync"].items()}
    assert results["targets"] == [
        "repo:owner/terraform-proxmox",
        "env:owner/ansible-splunk/production",
    ]
    planned = results["plan"]["repo:owner/terraform-proxmox"]
    assert planned["add"] == ["HEC_TOKEN", "JSON_BLOB", "PROXMOX_VE_PASSWORD", "TLS_KEY"]
    assert results["first"]["env:owner/ansible-splunk/production"]["add"] == sorted(VALUES)
    assert results["failed"] == []
    for target in results["again"].values():
        assert target["add"] == target["update"] == []
        assert len(target["unchanged"]) == 4

    renamed = {("HEC_TOKEN" if k == "SPLUNK_HEC_TOKEN" else k): v for k, v in VALUES.items()}
    assert github.scope(repository="owner/terraform-proxmox").values() == renamed
    env = github.scope(repository="owner/ansible-splunk", environment="production")
    assert env.values() == VALUES
    secret_puts = [r for r in github.requests if r.method == "PUT"]
    assert len(secret_puts) == 8  # the dry run and the second sync wrote none

    assert_never_in_log(run, [*VALUES.values(), GITHUB_TOKEN, SYNC_KEY, DOPPLER_TOKEN])
    assert "### homelab-secrets sync: dry run (nothing written)" in run.log
    assert "add    HEC_TOKEN            new [done]" in run.log  # the table, names only
    assert "4 unchanged: HEC_TOKEN, JSON_BLOB, PROXMOX_VE_PASSWORD, TLS_KEY" in run.log
