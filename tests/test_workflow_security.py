"""Gates over every action and workflow: zizmor, actionlint, shellcheck, and the
project's own rules (meta-tests).

Rules (README "Development"):
* zizmor (pedantic persona, offline) and actionlint: zero findings. actionlint
  lints workflows only, so each composite action is also linted through a
  generated workflow that uses it with every input and reads every output
  (actionlint then checks the action's metadata against that use).
* shellcheck: scripts/*.sh, .ci/run, and every composite `run:` block.
* no `run:` block contains `${{` (inputs reach scripts through `env:` only);
* every third-party `uses:` is pinned to a 40-character SHA, with a `# vX`
  comment naming the tag;
* every workflow has top-level `permissions:` granting at most `read`;
* every actions/<name>/ has a README whose Inputs/Outputs tables list exactly
  the action's inputs and outputs; every input/output has a description, and
  every optional input's description states its default;
* a composite step that runs `homelab_secrets <command> --gha` sources the
  bootstrap first, maps each action input to `INPUT_<NAME>` in its `env:`, and
  the command's ``GHA_INPUTS`` dataclass declares exactly those inputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT
from homelab_secrets import gha
from homelab_secrets.cli import _load

BIN = Path(sys.executable).parent
#: every action: actions/<name>/, and the all-in-one action at the root
ACTIONS = [
    *sorted(p.parent for p in (ROOT / "actions").glob("*/action.yml")),
    *([ROOT] if (ROOT / "action.yml").exists() else []),
]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ALL_YAML = [*(a / "action.yml" for a in ACTIONS), *WORKFLOWS]
SHELL_SCRIPTS = [
    *sorted((ROOT / "scripts").glob("*.sh")),
    ROOT / ".ci" / "run",
    ROOT / "examples" / "demo.sh",
]

ZIZMOR_PERSONA = "pedantic"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _tool(name: str) -> str:
    path = shutil.which(name, path=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    if path is None:
        pytest.fail(
            f"{name} is not installed: run `make setup` (it is in requirements/dev.lock.txt)"
        )
    return path


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _walk(node: Any, trail: str = "") -> list[tuple[str, Any, Any]]:
    """(trail, key, value) for every mapping entry in a YAML document."""
    found: list[tuple[str, Any, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((trail, key, value))
            found.extend(_walk(value, f"{trail}.{key}"))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found.extend(_walk(item, f"{trail}[{i}]"))
    return found


def _composite_steps(action: Path) -> list[dict[str, Any]]:
    runs = _load_yaml(action / "action.yml")["runs"]
    assert runs["using"] == "composite", f"{_rel(action)}: only composite actions here"
    steps: list[dict[str, Any]] = runs["steps"]
    return steps


def test_there_is_something_to_check() -> None:
    assert ACTIONS, "no actions/*/action.yml found"
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "release.yml"}


# --------------------------------------------------------------------------- linters


def test_zizmor_finds_nothing() -> None:
    targets = [str(ROOT / ".github" / "workflows"), *(str(a / "action.yml") for a in ACTIONS)]
    base = [_tool("zizmor"), "--offline", "--persona", ZIZMOR_PERSONA, "--no-progress"]
    proc = subprocess.run(
        [*base, "--format", "json", *targets], capture_output=True, text=True, check=False
    )
    findings = json.loads(proc.stdout or "[]")
    if findings or proc.returncode != 0:
        plain = subprocess.run([*base, *targets], capture_output=True, text=True, check=False)
        pytest.fail(f"zizmor (exit {proc.returncode}):\n{plain.stdout}\n{plain.stderr}")


def _actionlint(*args: str, cwd: Path, shellcheck: bool = True) -> subprocess.CompletedProcess[str]:
    checker = _tool("shellcheck") if shellcheck else ""
    return subprocess.run(
        [_tool("actionlint"), "-no-color", "-shellcheck", checker, "-pyflakes", "", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_actionlint_workflows() -> None:
    proc = _actionlint(*map(str, WORKFLOWS), cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _use_every_action(extra_input: str | None = None) -> str:
    """A workflow using each action with every input and reading every output."""
    jobs: dict[str, Any] = {}
    for action in ACTIONS:
        meta = _load_yaml(action / "action.yml")
        outputs = meta.get("outputs") or {}
        env = {f"OUT_{i}": f"${{{{ steps.a.outputs.{name} }}}}" for i, name in enumerate(outputs)}
        with_ = dict.fromkeys(meta.get("inputs") or {}, "x")
        if extra_input:
            with_[extra_input] = "x"
        name = "root" if action == ROOT else action.name
        jobs[f"use-{name}"] = {
            "runs-on": "ubuntu-latest",
            "permissions": {"contents": "read"},
            "steps": [
                {
                    "uses": "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8",
                    "with": {"persist-credentials": False},
                },
                {
                    "id": "a",
                    "uses": "./" if action == ROOT else f"./actions/{action.name}",
                    **({"with": with_} if with_ else {}),
                },
                {"run": "env | grep -c '^OUT_' || true", "env": env},
            ],
        }
    return yaml.safe_dump({"name": "use-actions", "on": "push", "jobs": jobs}, sort_keys=False)


def test_actionlint_actions_through_a_workflow_that_uses_them(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "actions", tmp_path / "actions")
    if (ROOT / "action.yml").exists():
        shutil.copyfile(ROOT / "action.yml", tmp_path / "action.yml")
    workflow = tmp_path / ".github" / "workflows" / "use-actions.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(_use_every_action())
    # actionlint finds local actions from the project root, which it finds by .git
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    proc = _actionlint(str(workflow), cwd=tmp_path, shellcheck=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # and actionlint does read the action: an unknown input is caught
    workflow.write_text(_use_every_action(extra_input="no-such-input"))
    proc = _actionlint(str(workflow), cwd=tmp_path, shellcheck=False)
    assert "no-such-input" in proc.stdout


def _run_blocks() -> list[tuple[str, str]]:
    blocks = []
    for action in ACTIONS:
        for i, step in enumerate(_composite_steps(action)):
            if "run" in step:
                where = "action.yml" if action == ROOT else f"{_rel(action)}/action.yml"
                blocks.append((f"{where} step {i}", step["run"]))
    return blocks


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=_rel)
def test_shellcheck_scripts(script: Path) -> None:
    proc = subprocess.run(
        [_tool("shellcheck"), "-x", "--shell=bash", str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_shellcheck_composite_run_blocks(tmp_path: Path) -> None:
    problems = []
    for where, body in _run_blocks():
        script = tmp_path / "step.sh"
        # what the runner executes: bash --noprofile --norc -eo pipefail {0}
        script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + body)
        proc = subprocess.run(
            # SC1091: the sourced bootstrap's path is only known at run time
            [_tool("shellcheck"), "--shell=bash", "-e", "SC1091", str(script)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            problems.append(f"{where}:\n{proc.stdout}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- project rules


@pytest.mark.parametrize("path", ALL_YAML, ids=_rel)
def test_no_expression_inside_run(path: Path) -> None:
    offenders = [
        trail
        for trail, key, value in _walk(_load_yaml(path))
        if key == "run" and isinstance(value, str) and "${{" in value
    ]
    assert not offenders, f"{_rel(path)}: pass values via env:, not ${{{{ }}}} in run: {offenders}"


@pytest.mark.parametrize("path", ALL_YAML, ids=_rel)
def test_third_party_uses_are_pinned_to_a_sha_with_its_tag(path: Path) -> None:
    text = path.read_text()
    problems = []
    for trail, key, value in _walk(_load_yaml(path)):
        if key != "uses" or not isinstance(value, str):
            continue
        if value.startswith(("./", "$/")):
            continue  # this repository, same commit
        if value.startswith("docker://"):
            if "@sha256:" not in value:
                problems.append(f"{trail}: {value} (pin images by digest)")
            continue
        if not PINNED.match(value):
            problems.append(f"{trail}: {value} (pin to a 40-character commit SHA)")
        elif not re.search(rf"uses: {re.escape(value)} # v\d", text):
            problems.append(f"{trail}: {value} (add the tag as a comment: `# vX.Y.Z`)")
    assert not problems, f"{_rel(path)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", WORKFLOWS, ids=_rel)
def test_workflows_grant_least_privilege_at_the_top(path: Path) -> None:
    workflow = _load_yaml(path)
    assert "permissions" in workflow, f"{_rel(path)}: set top-level permissions ({{}} or read)"
    top = workflow["permissions"]
    assert top not in ("write-all", "read-all"), f"{_rel(path)}: permissions: {top}"
    assert isinstance(top, dict), f"{_rel(path)}: permissions: {top}"
    writes = [scope for scope, level in top.items() if level != "read"]
    assert not writes, f"{_rel(path)}: grant {writes} on the job that needs it, not workflow-wide"
    for name, job in workflow["jobs"].items():
        for scope, level in (job.get("permissions") or {}).items():
            if level == "write":
                assert scope in ("contents", "pull-requests", "id-token", "security-events"), (
                    f"{_rel(path)} job {name}: {scope}: write"
                )


def _readme_table(readme: str, heading: str, level: str = "##") -> set[str]:
    match = re.search(
        rf"^{level} {heading}\n(.*?)(?=^#{{2,{len(level)}}} |\Z)", readme, re.M | re.S
    )
    assert match, f"no '{level} {heading}' section"
    return set(re.findall(r"^\| `([\w-]+)` \|", match[1], re.M))


def _action_docs(action: Path) -> tuple[str, str]:
    """The text documenting an action and its heading level: its README, or
    for the root action the main README's "The all-in-one action" section."""
    readme = action / "README.md"
    assert readme.exists(), f"{_rel(action)} has no README.md"
    if action != ROOT:
        return readme.read_text(), "##"
    match = re.search(
        r"^## The all-in-one action\n(.*?)(?=^## |\Z)", readme.read_text(), re.M | re.S
    )
    assert match, "README.md has no '## The all-in-one action' section"
    return match[1], "###"


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: "root" if a == ROOT else a.name)
def test_action_readme_lists_exactly_its_inputs_and_outputs(action: Path) -> None:
    text, level = _action_docs(action)
    meta = _load_yaml(action / "action.yml")
    assert _readme_table(text, "Inputs", level) == set(meta.get("inputs") or {})
    assert _readme_table(text, "Outputs", level) == set(meta.get("outputs") or {})


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: "root" if a == ROOT else a.name)
def test_action_metadata_is_complete(action: Path) -> None:
    meta = _load_yaml(action / "action.yml")
    assert meta.get("name")
    assert meta.get("description")
    for name, spec in (meta.get("inputs") or {}).items():
        assert spec.get("description"), f"input {name}: no description"
        if not spec.get("required"):
            assert "default" in spec["description"].lower(), (
                f"input {name}: the description must state the default"
            )
    for name, spec in (meta.get("outputs") or {}).items():
        assert spec.get("description"), f"output {name}: no description"
        assert "steps." in str(spec.get("value")), f"output {name}: no value from a step"
    for i, step in enumerate(_composite_steps(action)):
        if "run" in step:
            assert step.get("shell") == "bash", f"step {i}: set shell: bash"


_COMMAND = re.compile(r'"\$HOMELAB_SECRETS_PYTHON" -m homelab_secrets ([\w-]+)\b(.*)$', re.M)
_BOOTSTRAP = 'source "$GITHUB_ACTION_PATH/../../scripts/bootstrap.sh"'
_ROOT_BOOTSTRAP = 'source "$GITHUB_ACTION_PATH/scripts/bootstrap.sh"'


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: "root" if a == ROOT else a.name)
def test_action_steps_follow_the_contract(action: Path) -> None:
    meta = _load_yaml(action / "action.yml")
    inputs = set(meta.get("inputs") or {})
    commands = 0
    for i, step in enumerate(_composite_steps(action)):
        body = step.get("run", "")
        for match in _COMMAND.finditer(body):
            commands += 1
            bootstrap = _ROOT_BOOTSTRAP if action == ROOT else _BOOTSTRAP
            assert body.index(bootstrap) < match.start(), f"step {i}: source the bootstrap first"
            env = step.get("env") or {}
            for name in inputs:
                assert env.get(gha.env_name_for_input(name)) == f"${{{{ inputs.{name} }}}}", (
                    f"step {i}: map input {name} as {gha.env_name_for_input(name)} in env:"
                )
            if "--gha" in match[2]:
                module = _load(match[1].replace("-", "_"))
                assert module is not None, f"no command {match[1]}"
                declared = {spec.name for spec in gha.input_specs(module.GHA_INPUTS)}
                assert declared == inputs, f"{match[1]}.GHA_INPUTS vs action.yml inputs"
    assert commands, "the action never runs homelab_secrets"
