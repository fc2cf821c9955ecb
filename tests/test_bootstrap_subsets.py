"""Each action installs only what it imports (requirements/subsets.txt), still
hash-pinned from the one lock.

* every action (and every step of a reusable workflow that sources the
  bootstrap) names a subset, and that subset covers every third-party import
  its command can make: a static scan of the command module and everything it
  can import from homelab_secrets, imports inside functions and the stores'
  ``importlib`` included; each module found is mapped to its distribution;
* in the subset's own venv, every homelab_secrets module the command can reach
  imports, and ``--help`` runs (the e2e tests run the commands for real there:
  each action's bootstrap builds its subset);
* a subset is the lock's own lines, byte for byte, and pip/uv accept it alone
  with ``--require-hashes`` (uv resolves its dependencies: none is missing);
* the actions pin actions/cache to the ref the act harness stands in for, and
  wire key, restore, bootstrap and save the same way.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from act_harness import ACTIONS_CACHE
from conftest import ROOT, bootstrap_env, tools_dir
from support.bootstrap_steps import source_subset

sys.path.insert(0, str(ROOT / "scripts"))
import bootstrap as helper  # scripts/bootstrap.py (stdlib only)

SRC = ROOT / "src"
LOCK = ROOT / "requirements" / "lock.txt"
SUBSETS = ROOT / "requirements" / "subsets.txt"
ACTIONS = [*sorted((ROOT / "actions").glob("*/action.yml")), ROOT / "action.yml"]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
_SOURCE = re.compile(r"source \S*scripts/bootstrap\.sh\"?(?: ([\w-]+))?[ \t]*$", re.M)
_COMMAND = re.compile(r'"\$HOMELAB_SECRETS_PYTHON" -m homelab_secrets ([\w-]+)')


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _subsets() -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = helper.parse_subsets(SUBSETS.read_text())
    return parsed


def _closure(subset: str) -> set[str]:
    return {e.name for e in helper.load(str(LOCK), str(SUBSETS), subset)}


def _uses() -> list[tuple[str, str, str]]:
    """(where, subset, command) for every step that sources the bootstrap and
    runs a command: the actions' steps and the reusable workflows' own."""
    found = []
    for path in [*ACTIONS, *WORKFLOWS]:
        for trail, body in _run_blocks(yaml.safe_load(path.read_text())):
            source = _SOURCE.search(body)
            if not source or "--cache-key" in body:
                continue
            for command in _COMMAND.findall(body):
                found.append((f"{_rel(path)}:{trail}", source[1] or "all", command))
    return found


def _run_blocks(node: Any, trail: str = "") -> list[tuple[str, str]]:
    blocks = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                blocks.append((trail, value))
            else:
                blocks += _run_blocks(value, f"{trail}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            blocks += _run_blocks(item, f"{trail}[{i}]")
    return blocks


# --------------------------------------------------------------------------- static import scan


def _module_file(name: str) -> Path | None:
    base = SRC.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _package_modules(package: str) -> list[str]:
    folder = SRC.joinpath(*package.split("."))
    return [f"{package}.{p.stem}" for p in sorted(folder.glob("*.py")) if p.stem != "__init__"] + [
        f"{package}.{p.name}" for p in sorted(folder.iterdir()) if (p / "__init__.py").is_file()
    ]


@cache
def _imports(module: str) -> frozenset[str]:
    """Every module name ``module`` can import: top-level and in functions,
    ``from x import y`` as x and x.y, and ``importlib.import_module(f"pkg.{...}")``
    as every module of pkg."""
    path = _module_file(module)
    assert path is not None, module
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
        ):
            arg = node.args[0]
            prefix = ""
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                prefix = arg.value
            elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                prefix = str(arg.values[0].value)
            if prefix.startswith("homelab_secrets."):
                # dynamic: any module of the package the name starts in
                package_name = prefix.rpartition(".")[0]
                if _module_file(package_name):
                    found.update(_package_modules(package_name))
                else:
                    found.add(prefix)
            else:
                pytest.fail(f"{module}: import_module with a name this scan cannot follow")
    return frozenset(found)


#: the standard library of every Python we support: _sha2 is 3.12's (tree.py
#: tries it first); a private module that no distribution provides is stdlib
_STDLIB = {*sys.stdlib_module_names, "__future__", "_sha2"}


def _reach(start: str) -> tuple[set[str], set[str]]:
    """(homelab_secrets modules, third-party top-level names) reachable from start."""
    ours: set[str] = set()
    third: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in ours:
            continue
        ours.add(module)
        for name in _imports(module):
            top = name.split(".")[0]
            if top == "homelab_secrets":
                parts = name.split(".")
                todo += [
                    ".".join(parts[:i])
                    for i in range(1, len(parts) + 1)
                    if _module_file(".".join(parts[:i]))
                ]
            elif top not in _STDLIB:
                third.add(top)
    return ours, third


def _command_module(command: str) -> str:
    from homelab_secrets.cli import COMMANDS

    assert command in COMMANDS, f"no command {command}"
    return f"homelab_secrets.commands.{COMMANDS[command]}"


def _distributions(top_level: set[str]) -> dict[str, set[str]]:
    mapping = metadata.packages_distributions()
    out = {}
    for name in sorted(top_level):
        dists = mapping.get(name)
        assert dists, f"no installed distribution provides the module {name!r}"
        out[name] = {helper.canonical(d) for d in dists}
    return out


# --------------------------------------------------------------------------- tests


def test_every_action_step_names_a_declared_subset() -> None:
    uses = _uses()
    where = {w.split(":")[0] for w, _, _ in uses}
    assert {_rel(a) for a in ACTIONS} <= where, "an action that never runs homelab_secrets?"
    declared = _subsets()
    for place, subset, _ in uses:
        assert subset in declared, f"{place}: subset {subset!r} not in requirements/subsets.txt"
    assert declared["all"] == ["*"]


@pytest.mark.parametrize(("where", "subset", "command"), _uses(), ids=str)
def test_the_subset_covers_every_import_of_the_command(
    where: str, subset: str, command: str
) -> None:
    _, third = _reach(_command_module(command))
    needed = _distributions(third)
    closure = _closure(subset)
    missing = {module: dists for module, dists in needed.items() if not dists & closure}
    assert not missing, (
        f"{where}: `{command}` can import {sorted(missing)}, which subset {subset!r} does not "
        f"install: add the distribution to requirements/subsets.txt"
    )


def test_the_scan_sees_lazy_and_dynamic_imports() -> None:
    """The scan itself: a function-level import and the stores' import_module."""
    ours, third = _reach(_command_module("sops-decrypt"))
    assert "homelab_secrets.sops.stores.json_store" in ours  # importlib, by format name
    assert {"cryptography", "pyrage"} <= third  # imported inside functions
    _, fetch = _reach(_command_module("fetch"))
    assert "httpx" in fetch
    _, sync = _reach(_command_module("sync"))
    assert {"github", "nacl"} <= sync


@pytest.mark.parametrize("subset", sorted(_subsets()))
def test_a_subset_is_made_of_the_lock_own_lines(subset: str) -> None:
    lock = LOCK.read_bytes()
    entries = helper.load(str(LOCK), str(SUBSETS), subset)
    assert entries
    at = 0
    for entry in entries:
        block = "".join(entry.lines).encode()
        assert block.count(b"--hash=sha256:") >= 1, entry.name
        found = lock.find(block, at)
        assert found >= 0, f"{entry.name}: not byte-identical to requirements/lock.txt"
        assert lock[found - 1 : found] == b"\n"  # a whole line
        at = found + len(block)
    if _subsets()[subset] == ["*"]:
        names = {m[1] for m in re.finditer(rb"^([A-Za-z0-9][\w.-]*)==", lock, re.M)}
        assert {e.name for e in entries} == {helper.canonical(n.decode()) for n in names}


def test_the_sops_actions_do_not_install_the_github_stack() -> None:
    """The issue's example: SOPS needs cryptography and pyrage, not PyGithub."""
    sops = _closure("sops")
    assert {"cryptography", "pyrage"} <= sops
    assert not sops & {"pygithub", "httpx", "hyperscan", "pynacl", "requests", "pyyaml"}
    assert "github-action-utils" not in _closure("all")  # a test oracle: dev.lock.txt only


# --------------------------------------------------------------------------- in the subset venvs


@pytest.fixture(scope="session")
def subset_venvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each subset's venv, built (uv) in the shared test cache like the e2e tests do."""
    from conftest import TEST_CACHE

    tools = tools_dir(tmp_path_factory.mktemp("tools"))
    venvs = {}
    for subset in sorted(_subsets()):
        proc = source_subset(
            bootstrap_env(tools, HOMELAB_SECRETS_CACHE=str(TEST_CACHE)), subset, REPORT_PY
        )
        assert proc.returncode == 0, proc.stderr
        venvs[subset] = Path(proc.stdout.strip())
    return venvs


REPORT_PY = 'printf "%s\\n" "$HOMELAB_SECRETS_PYTHON"'


def test_each_subset_venv_holds_exactly_its_lines(subset_venvs: dict[str, Path]) -> None:
    for subset, python in subset_venvs.items():
        listed = subprocess.run(
            [
                str(python),
                "-c",
                "import importlib.metadata as m; print('\\n'.join(sorted("
                "d.metadata['Name'] for d in m.distributions())))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        installed = {helper.canonical(n) for n in listed} - {"pip", "setuptools"}
        wanted = {e.name for e in helper.applicable(helper.load(str(LOCK), str(SUBSETS), subset))}
        assert installed == wanted, subset


@pytest.mark.parametrize(("where", "subset", "command"), _uses(), ids=str)
def test_the_command_loads_in_its_subset_venv(
    subset_venvs: dict[str, Path], where: str, subset: str, command: str
) -> None:
    ours, _ = _reach(_command_module(command))
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [str(subset_venvs[subset]), "-c", script, *sorted(ours)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, f"{where}: {proc.stderr[-2000:]}"
    proc = subprocess.run(
        [str(subset_venvs[subset]), "-m", "homelab_secrets", command, "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, f"{where}: {proc.stderr[-2000:]}"


def test_the_dev_tools_never_reach_an_action_venv(subset_venvs: dict[str, Path]) -> None:
    python = subset_venvs["all"]
    proc = subprocess.run(
        [str(python), "-c", "import github_action_utils"], capture_output=True, check=False
    )
    assert proc.returncode != 0
    assert importlib.util.find_spec("github_action_utils") is not None  # the dev venv has it


# --------------------------------------------------------------------------- action wiring


def _steps(action: Path) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = yaml.safe_load(action.read_text())["runs"]["steps"]
    return steps


@pytest.mark.parametrize("action", ACTIONS, ids=_rel)
def test_the_action_keeps_its_wheels_with_actions_cache(action: Path) -> None:
    steps = _steps(action)
    ids = [s.get("id") for s in steps]
    assert ids[:2] == ["hs-cache", "hs-restore"], ids
    key_step, restore, main, save = steps[0], steps[1], steps[2], steps[-1]
    subset = _SOURCE.search(main["run"])[1]  # type: ignore[index]
    rel = "scripts" if action == ROOT / "action.yml" else "../../scripts"
    assert key_step["run"].strip() == (
        f'bash "$GITHUB_ACTION_PATH/{rel}/bootstrap.sh" --cache-key {subset}'
    )
    cache_ref = ACTIONS_CACHE.replace("actions/cache@", "")
    assert restore["uses"] == f"actions/cache/restore@{cache_ref}"
    assert save["uses"] == f"actions/cache/save@{cache_ref}"
    assert restore["if"] == "steps.hs-cache.outputs.restore == 'true'"
    wiring = {
        "path": "${{ steps.hs-cache.outputs.path }}",
        "key": "${{ steps.hs-cache.outputs.key }}",
    }
    assert restore["with"] == wiring
    assert save["with"] == wiring
    condition = " ".join(save["if"].split())
    assert condition == (
        f"${{{{ !cancelled() && steps.{main['id']}.outputs.homelab-secrets-cache == 'save' "
        "&& steps.hs-restore.outputs.cache-hit != 'true' }}"
    )
    assert len(steps) == 4, "one command step between restore and save"
