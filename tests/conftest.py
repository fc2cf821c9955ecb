"""Shared fixtures: every test starts from an environment with no Actions,
runner, input, SOPS or homelab-secrets variables of the machine it runs on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from homelab_secrets import gha
from runner_files import parse_file_commands

ROOT = Path(__file__).resolve().parents[1]

# Property tests: under CI (CI=true) the same examples every run and no example
# database, so a red CI never comes from chance or from a failure replayed from
# an earlier run; locally they keep exploring with random seeds and remember
# failures in .hypothesis/ (turn each one found into a named regression test).
# HYPOTHESIS_PROFILE=ci|dev chooses explicitly.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)

#: Variables a developer's shell or a CI runner may carry that change what our
#: code does; removed for every test.
_ISOLATED_PREFIXES = (
    "GITHUB_",
    "RUNNER_",
    "INPUT_",
    "STATE_",
    "SOPS_",
    "HOMELAB_SECRETS_",
    "ACTIONS_",
)
_ISOLATED_NAMES = ("ACT", "CI", "XDG_CONFIG_HOME")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(_ISOLATED_PREFIXES) or name in _ISOLATED_NAMES:
            monkeypatch.delenv(name)
    gha._reset_masks_for_tests()
    yield
    gha._reset_masks_for_tests()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME (no ~/.config, no ~/.ssh)."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path


@dataclass
class RunnerFiles:
    """The per-step files the runner hands a step, read back as the runner would."""

    output: Path
    env: Path
    summary: Path

    def outputs(self) -> dict[str, str]:
        return parse_file_commands(self.output.read_bytes().decode("utf-8"))

    def exported_env(self) -> dict[str, str]:
        return parse_file_commands(self.env.read_bytes().decode("utf-8"))

    def summary_text(self) -> str:
        return self.summary.read_text(encoding="utf-8") if self.summary.exists() else ""


@pytest.fixture
def runner_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunnerFiles:
    """Act as a step of a GitHub Actions job: GITHUB_OUTPUT/ENV/STEP_SUMMARY in tmp."""
    files = RunnerFiles(
        tmp_path / "github_output", tmp_path / "github_env", tmp_path / "step_summary"
    )
    for path in (files.output, files.env):
        path.write_bytes(b"")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(files.output))
    monkeypatch.setenv("GITHUB_ENV", str(files.env))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files.summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    return files


# --------------------------------------------------------------------------- bootstrap

#: Where the e2e tests keep the action venv between runs (scripts/bootstrap.sh
#: keys it on the lock hash, so a changed lock builds a new one). Override with
#: HOMELAB_SECRETS_TEST_CACHE; `make clean` removes it.
TEST_CACHE = Path(os.environ.get("HOMELAB_SECRETS_TEST_CACHE") or ROOT / ".tmp" / "action-cache")


def tools_dir(where: Path) -> Path:
    """A PATH entry holding `python3` (this interpreter's base, not a version
    manager's shim) and `uv` (from the dev venv), as a runner would have."""
    where.mkdir(parents=True, exist_ok=True)
    base = Path(getattr(sys, "_base_executable", sys.executable))
    links = {"python3": base, "uv": Path(sys.executable).parent / "uv"}
    for name, target in links.items():
        link = where / name
        if not link.is_symlink() and target.exists():
            link.symlink_to(target)
    return where


def bootstrap_env(tools: Path, **extra: str) -> dict[str, str]:
    """The environment of an action step: the machine's, minus what tests isolate."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_ISOLATED_PREFIXES) and k not in _ISOLATED_NAMES
    }
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = f"{tools}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def source_bootstrap(
    env: dict[str, str], after: str = "", *, root: Path = ROOT, caller_opts: str = "-euo pipefail"
) -> subprocess.CompletedProcess[str]:
    """`source scripts/bootstrap.sh` in a bash step, then run `after`."""
    script = f'set {caller_opts}\nsource "$BOOTSTRAP"\n{after}\n'
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        env={**env, "BOOTSTRAP": str(root / "scripts" / "bootstrap.sh")},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def action_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action venv for this checkout's lock, in TEST_CACHE, built at most once
    (the bootstrap's own lock keeps pytest-xdist workers from building it twice)."""
    tools = tools_dir(tmp_path_factory.mktemp("tools"))
    TEST_CACHE.mkdir(parents=True, exist_ok=True)
    proc = source_bootstrap(
        bootstrap_env(tools, HOMELAB_SECRETS_CACHE=str(TEST_CACHE)),
        'printf "%s\\n" "$HOMELAB_SECRETS_PYTHON"',
    )
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip()).parent.parent


@pytest.fixture(scope="session")
def action_cache(action_venv: Path) -> Path:
    """HOMELAB_SECRETS_CACHE value under which :func:`action_venv` is found warm."""
    return action_venv.parent
