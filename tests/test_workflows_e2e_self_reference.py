"""How a reusable workflow reaches this repository's actions when another
repository calls it, under act with ``--local-repository`` (the reasoning is
in tests/workflows/workflow_world.py and README.md, "Reusable workflows").

A caller (``example/infra``) calls ``example/homelab-secrets/...@v1``, whose
job uses ``actions/doctor`` in three spellings:

* ``./actions/doctor`` is the *caller's* workspace: it fails (this is why a
  reusable workflow must not use ``./`` for its own actions);
* ``$/actions/doctor`` (GitHub's self-repository syntax) is not understood by
  act 0.2.89, which refuses the job;
* ``example/homelab-secrets/actions/doctor@v1``, which is what the runner turns
  ``$/actions/doctor`` into (``<job.workflow_repository>/<path>@<job.workflow_sha>``,
  actions/runner ``ActionManager.ResolveSelfRepositoryReferences``), runs from
  the called repository's snapshot.

terraform.yml and ansible.yml fetch ``job.workflow_repository`` at
``job.workflow_sha`` themselves (they also run this repository's Python
helpers, which no action exposes); their own e2e tests prove that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from act_harness import make_repo, requires_act, run_act
from workflows import workflow_world as world

pytestmark = [
    pytest.mark.e2e,
    requires_act,
]

CALLED = """\
name: uses-doctor
on:
  workflow_call:
jobs:
  doctor:
    runs-on: ubuntu-latest
    steps:
      - id: doctor
        uses: {uses}
      - env:
          VERSION: ${{{{ steps.doctor.outputs.version }}}}
        run: echo "RESULT version=$VERSION"
"""
CALLER = f"""\
name: infra
on: push
jobs:
  call:
    uses: {world.OWNER_REPO}/.github/workflows/_under_test.yml@{world.REF}
"""


@pytest.mark.parametrize(
    ("uses", "outcome"),
    [
        ("./actions/doctor", "the caller's workspace"),
        ("$/actions/doctor", "Expected format {org}/{repo}[/path]@ref. Actual '$/actions/doctor'"),
        (f"{world.OWNER_REPO}/actions/doctor@{world.REF}", "ok"),
    ],
    ids=["dot-slash", "dollar-slash", "what-dollar-slash-resolves-to"],
)
def test_a_called_workflow_reaching_its_own_action(
    tmp_path: Path, action_cache: Path, uses: str, outcome: str
) -> None:
    called = make_repo(tmp_path / "called", CALLED.format(uses=uses))
    world.git(called, "tag", world.REF)
    caller = world.make_caller(tmp_path, "infra", {".github/workflows/infra.yml": CALLER})
    run = run_act(
        caller.repo,
        "push",
        workflow=".github/workflows/infra.yml",
        cache=action_cache,
        local_repositories={f"{world.OWNER_REPO}@{world.REF}": called},
    )
    if outcome == "ok":
        assert run.returncode == 0, run.log
        assert run.results()["doctor"]["version"]
    else:
        assert run.returncode != 0
        if outcome.startswith("Expected format"):
            assert outcome in run.log
        else:  # ./actions/doctor was looked up in the caller's workspace (no such action)
            assert "failed to read 'action.yaml' from action './actions/doctor'" in run.log
            assert "/hostexecutor/actions/doctor/action.yaml: no such file" in run.log
            assert "RESULT version=" not in run.log
