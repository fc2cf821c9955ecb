"""actions/doctor under act: outputs, and masking of a multi-line secret with a
3-character line (which act itself cannot mask: only our per-line masks do)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from act_harness import CHECKOUT, assert_never_in_log, make_repo, requires_act, run_act
from homelab_secrets import __version__

pytestmark = [
    pytest.mark.e2e,
    requires_act,
]

# A multi-line age key file, as a repository secret would hold it. act masks a
# --secret-file value by replacing it whole in each (single-line) log message,
# so a multi-line value is never masked by act: what hides it is our
# ::add-mask:: per line. "Zq9" is the short secret (< 4 characters).
AGE_KEY = (
    "# created: 2026-01-01T00:00:00Z\n"
    "# public key: age1l7ml0k8pvd93cv75dd3u2nct9hqaul2vqskwuns3pgha7wuvrdeqycvxe0\n"
    "AGE-SECRET-KEY-1E2ETESTONLYQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n"
    "Zq9\n"
)

WORKFLOW = f"""
name: doctor-e2e
on: push
permissions: {{}}
jobs:
  doctor:
    runs-on: ubuntu-latest
    env:
      SOPS_AGE_KEY_CMD: touch key-cmd-ran  # relative to the workspace
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - id: d
        uses: ./actions/doctor
        with:
          age-key: ${{{{ secrets.TEST_AGE_KEY }}}}
      - name: report outputs
        env:
          VERSION: ${{{{ steps.d.outputs.version }}}}
          PYV: ${{{{ steps.d.outputs.python-version }}}}
          SOURCES: ${{{{ steps.d.outputs.age-key-sources }}}}
          PROVIDED: ${{{{ steps.d.outputs.age-key-provided }}}}
          HEALTHY: ${{{{ steps.d.outputs.healthy }}}}
        run: |
          echo "RESULT version=$VERSION"
          echo "RESULT python-version=$PYV"
          echo "RESULT sources=$SOURCES"
          echo "RESULT provided=$PROVIDED"
          echo "RESULT healthy=$HEALTHY"
          ran=no; if [ -e key-cmd-ran ]; then ran=yes; fi
          echo "RESULT cmd-ran=$ran"
      - name: a later step prints the secret in every form
        env:
          KEY: ${{{{ secrets.TEST_AGE_KEY }}}}
        run: |
          echo "whole: $KEY"
          while IFS= read -r line; do echo "line: $line"; done <<<"$KEY"
          python3 -c 'import json, os; print("json:", json.dumps(os.environ["KEY"]))'
          printf 'stderr: %s\\n' "$KEY" >&2
"""


def test_doctor_action_outputs_and_masking(tmp_path: Path, action_cache: Path) -> None:
    repo = make_repo(tmp_path, WORKFLOW)
    run = run_act(repo, "push", cache=action_cache, secrets={"TEST_AGE_KEY": AGE_KEY})
    assert run.returncode == 0, run.log
    results = run.results()["doctor"]
    assert results["version"] == __version__
    assert results["python-version"] == ".".join(map(str, sys.version_info[:3]))
    assert json.loads(results["sources"]) == ["SOPS_AGE_KEY_CMD"]
    assert results["provided"] == "true"
    assert results["healthy"] == "true"
    assert results["cmd-ran"] == "no"  # doctor names SOPS_AGE_KEY_CMD, never runs it

    assert_never_in_log(run, [AGE_KEY])
    lines = run.lines("doctor")
    assert lines.count("line: ***") == 4  # each line of the key, the 3-char one too
    assert "age-key input: provided" in run.log
    assert "'age-key'" in run.log  # the short-secret warning names it, not its value
    assert "### homelab-secrets doctor" in run.log  # act 0.2.89 echoes the step summary


def test_doctor_action_without_the_secret(tmp_path: Path, action_cache: Path) -> None:
    workflow = WORKFLOW.replace("age-key: ${{ secrets.TEST_AGE_KEY }}", "age-key: ''")
    repo = make_repo(tmp_path, workflow)
    run = run_act(repo, "push", cache=action_cache, secrets={"TEST_AGE_KEY": "unused-here"})
    assert run.returncode == 0, run.log
    assert run.results()["doctor"]["provided"] == "false"
    assert "age-key input: not provided" in run.log


def test_bootstrap_failure_fails_the_step_with_one_annotation(
    tmp_path: Path, action_cache: Path
) -> None:
    repo = make_repo(tmp_path, WORKFLOW)
    run = run_act(
        repo,
        "push",
        cache=action_cache,
        secrets={"TEST_AGE_KEY": AGE_KEY},
        env={"HOMELAB_SECRETS_BOOTSTRAP_PYTHON": "no-such-python"},
    )
    assert run.returncode == 1
    errors = [ln for ln in run.log.splitlines() if "::error" in ln]
    assert len(errors) == 1, errors
    assert "no Python >= 3.10 found" in errors[0]
    assert "RESULT" not in run.log  # the job stopped at the failed step
    assert_never_in_log(run, [AGE_KEY])


@pytest.mark.slow
def test_doctor_action_builds_its_venv_in_the_runner_tool_cache(tmp_path: Path) -> None:
    """No HOMELAB_SECRETS_CACHE: the bootstrap uses act's RUNNER_TOOL_CACHE
    (cold: a fresh venv from the lock, uv's package cache warm)."""
    workflow = WORKFLOW.replace("age-key: ${{ secrets.TEST_AGE_KEY }}", "age-key: ''")
    repo = make_repo(tmp_path, workflow)
    run = run_act(repo, "push", cache=None, secrets={"TEST_AGE_KEY": "unused-here"})
    assert run.returncode == 0, run.log
    assert "::group::homelab-secrets: setting up Python environment" in run.log
    assert "/act-cache/tool_cache/homelab-secrets/v2-" in run.log, run.log
    assert run.results()["doctor"]["healthy"] == "true"
