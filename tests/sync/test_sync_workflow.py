"""The reusable workflow and its example caller: the caller passes exactly
what the workflow declares (actionlint checks a local reusable workflow's
inputs and secrets), both lint clean, the workflow plans every target before
any job writes, and the sync files shown in the docs are valid."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from homelab_secrets.sync.config import parse_config

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "sync-secrets.yml"
CALLER = ROOT / "examples" / "sync-secrets-caller.yml"
ACTION = ROOT / "actions" / "sync-secrets"
REMOTE = "org/homelab-secrets/.github/workflows/sync-secrets.yml@v1"


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{Path(sys.executable).parent}:/usr/bin:/bin")
    if found is None:
        pytest.fail(f"{name} is not installed: run `make setup`")
    return found


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture
def caller_repo(tmp_path: Path) -> Path:
    """A repo holding the reusable workflow and the caller pointed at it locally."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copy(WORKFLOW, workflows / "sync-secrets.yml")
    text = CALLER.read_text()
    assert f"uses: {REMOTE}" in text
    (workflows / "caller.yml").write_text(
        text.replace(REMOTE, "./.github/workflows/sync-secrets.yml")
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def test_the_example_caller_passes_what_the_workflow_declares(caller_repo: Path) -> None:
    caller = caller_repo / ".github" / "workflows" / "caller.yml"
    proc = subprocess.run(
        [_tool("actionlint"), "-no-color", "-shellcheck", "", "-pyflakes", "", str(caller)],
        capture_output=True,
        text=True,
        cwd=caller_repo,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # and actionlint does compare them: a secret the workflow does not declare is caught
    caller.write_text(caller.read_text().replace("SYNC_GITHUB_TOKEN: $", "SYNC_GH_TOKEN: $"))
    proc = subprocess.run(
        [_tool("actionlint"), "-no-color", "-shellcheck", "", "-pyflakes", "", str(caller)],
        capture_output=True,
        text=True,
        cwd=caller_repo,
        check=False,
    )
    assert "SYNC_GH_TOKEN" in proc.stdout


def test_the_example_caller_is_zizmor_clean_once_pinned(caller_repo: Path) -> None:
    caller = caller_repo / ".github" / "workflows" / "caller.yml"
    pinned = "org/homelab-secrets/.github/workflows/sync-secrets.yml@" + "0" * 40
    caller.write_text(CALLER.read_text().replace(REMOTE, pinned))
    proc = subprocess.run(
        [_tool("zizmor"), "--offline", "--persona", "pedantic", "--no-progress", str(caller)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_caller_runs_on_a_schedule_and_on_demand_with_a_dry_run() -> None:
    caller = _load(CALLER)
    on = caller[True]  # YAML 1.1 reads the key `on` as true
    assert on["schedule"]
    assert on["workflow_dispatch"]["inputs"]["dry-run"]["type"] == "boolean"
    job = caller["jobs"]["sync"]
    assert job["with"]["dry-run"] == "${{ inputs.dry-run == true }}"
    assert set(job["secrets"]) == {"DOPPLER_TOKEN", "SYNC_GITHUB_TOKEN", "HOMELAB_SECRETS_SYNC_KEY"}
    assert caller["permissions"] == {}


def test_the_workflow_plans_everything_before_one_job_per_target_writes() -> None:
    workflow = _load(WORKFLOW)
    call = workflow[True]["workflow_call"]
    assert set(call["secrets"]) == {
        "DOPPLER_TOKEN",
        "SYNC_GITHUB_TOKEN",
        "HOMELAB_SECRETS_SYNC_KEY",
    }
    assert workflow["permissions"] == {}
    plan, sync = workflow["jobs"]["plan"], workflow["jobs"]["sync"]
    plan_step = plan["steps"][-1]
    assert plan_step["uses"] == "$/actions/sync-secrets"  # this repository, same commit
    assert plan_step["with"]["dry-run"] is True
    assert sync["needs"] == ["plan"]
    assert sync["if"] == "${{ !inputs.dry-run }}"
    assert sync["strategy"]["matrix"]["target"] == "${{ fromJSON(needs.plan.outputs.targets) }}"
    assert sync["strategy"]["fail-fast"] is False
    assert sync["steps"][-1]["with"]["targets"] == "${{ matrix.target }}"
    assert "matrix.target" in sync["concurrency"]["group"]
    for job in (plan, sync):
        assert job["permissions"] == {"contents": "read"}
        assert job["steps"][0]["with"]["persist-credentials"] is False


def _yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", markdown, re.S)


def test_the_sync_files_in_the_docs_are_valid() -> None:
    comment = re.search(r"^# and the sync file.*?\n#\n(.*?)^name:", CALLER.read_text(), re.S | re.M)
    assert comment is not None
    example = "\n".join(line.removeprefix("#   ") for line in comment[1].splitlines())
    assert len(parse_config(example).targets) == 4
    readme = (ACTION / "README.md").read_text()
    sync_files = [b for b in _yaml_blocks(readme) if b.startswith(("name:", "source:"))]
    assert sync_files
    for block in sync_files:
        assert parse_config(block).targets
