"""scripts/bootstrap.sh, for real: bash sources it with a temporary cache dir.

Cold builds use uv's (warm) package cache; the pip and Python 3.10 builds are
marked slow. A shared prebuilt venv (the ``action_cache`` fixture) serves the
warm-path tests by copying it where the bootstrap will look.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT, bootstrap_env, source_bootstrap, tools_dir

SECRET = "AGE-SECRET-KEY-1QQQBOOTSTRAPMUSTNEVERPRINTTHIS"
REPORT = 'printf "PY=%s\\nPP=%s\\n" "$HOMELAB_SECRETS_PYTHON" "$PYTHONPATH"'


def _report(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return dict(pairs)


def _errors(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if "::error" in line]


def _venvs(cache: Path) -> list[Path]:
    return sorted(p for p in cache.glob("v2-*") if p.is_dir())


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    return tools_dir(tmp_path / "tools")


@pytest.fixture
def prebuilt(action_venv: Path) -> Path:
    """The venv the session built for this lock (copied where a test wants it)."""
    return action_venv


def _place(prebuilt: Path, cache: Path) -> Path:
    """Copy a finished venv into ``cache`` (symlinks kept: bin/python stays valid)."""
    target = cache / prebuilt.name
    shutil.copytree(prebuilt, target, symlinks=True)
    return target


def _no_installers(tmp_path: Path) -> Path:
    """A PATH entry whose uv/pip fail loudly: proves the warm path runs no installer."""
    trap = tmp_path / "trap"
    trap.mkdir()
    for name in ("uv", "pip", "pip3"):
        exe = trap / name
        exe.write_text("#!/bin/sh\necho INSTALLER-CALLED >&2\nexit 99\n")
        exe.chmod(0o755)
    return trap


# --------------------------------------------------------------------------- warm path


def test_warm_start_exports_the_contract_and_runs_no_installer(
    tmp_path: Path, tools: Path, prebuilt: Path
) -> None:
    cache = tmp_path / "cache"
    venv = _place(prebuilt, cache)
    env = bootstrap_env(tools, HOMELAB_SECRETS_CACHE=str(cache), SOPS_AGE_KEY=SECRET)
    env["PATH"] = f"{_no_installers(tmp_path)}{os.pathsep}{env['PATH']}"
    env.update(PIP_INDEX_URL="http://127.0.0.1:9/", UV_OFFLINE="1")
    started = time.perf_counter()
    proc = source_bootstrap(
        env, f'{REPORT}\n"$HOMELAB_SECRETS_PYTHON" -m homelab_secrets --version\necho AFTER'
    )
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # the warm path prints nothing
    assert _report(proc) == {"PY": str(venv / "bin" / "python"), "PP": str(ROOT / "src")}
    assert proc.stdout.splitlines()[-2:] == ["homelab-secrets 0.1.0", "AFTER"]
    assert "INSTALLER-CALLED" not in proc.stderr
    assert elapsed < 5  # the benchmark measures it properly; this catches a rebuild


def test_caller_shell_is_left_clean(tmp_path: Path, tools: Path, prebuilt: Path) -> None:
    cache = tmp_path / "cache"
    _place(prebuilt, cache)
    env = bootstrap_env(tools, HOMELAB_SECRETS_CACHE=str(cache))
    proc = source_bootstrap(
        env,
        "declare -F | grep -c _homelab_secrets || true\n"
        "for v in root lock python key hash venv dir cand out status subset platform wheels; do"
        ' [ -z "${!v+x}" ] || echo "LEAKED $v"; done\n'
        "case $- in *e*) echo ERREXIT-KEPT;; esac",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "ERREXIT-KEPT"]


def test_xtrace_callers_see_no_secret(tmp_path: Path, tools: Path) -> None:
    cache = tmp_path / "cache"
    env = bootstrap_env(
        tools, HOMELAB_SECRETS_CACHE=str(cache), SOPS_AGE_KEY=SECRET, **{"INPUT_AGE-KEY": SECRET}
    )
    proc = source_bootstrap(env, REPORT, caller_opts="-xeuo pipefail")
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    for log in cache.glob("*.log"):
        assert SECRET not in log.read_text()


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"RUNNER_TOOL_CACHE": "tool", "RUNNER_TEMP": "temp"}, "tool/homelab-secrets"),
        ({"RUNNER_TEMP": "temp"}, "temp/homelab-secrets"),
        ({"RUNNER_TOOL_CACHE": "not-yet", "RUNNER_TEMP": "temp"}, "not-yet/homelab-secrets"),
        ({"RUNNER_TOOL_CACHE": "a-file/x", "RUNNER_TEMP": "temp"}, "temp/homelab-secrets"),
        ({"TMPDIR": "tmpdir"}, f"tmpdir/homelab-secrets-{os.getuid()}"),
    ],
)
def test_cache_location_order(
    tmp_path: Path, tools: Path, prebuilt: Path, variables: dict[str, str], expected: str
) -> None:
    for name in ("tool", "temp", "tmpdir"):
        (tmp_path / name).mkdir()
    (tmp_path / "a-file").write_text("not a directory")
    where = tmp_path / expected
    where.mkdir(parents=True, mode=0o700)
    venv = _place(prebuilt, where)
    env = bootstrap_env(tools, **{k: str(tmp_path / v) for k, v in variables.items()})
    env["PATH"] = f"{_no_installers(tmp_path)}{os.pathsep}{env['PATH']}"
    proc = source_bootstrap(env, REPORT)
    assert proc.returncode == 0, proc.stderr
    assert _report(proc)["PY"] == str(venv / "bin" / "python")


def test_a_shared_temp_dir_owned_by_someone_else_is_refused(tmp_path: Path, tools: Path) -> None:
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    real = tmp_path / "elsewhere"
    real.mkdir()
    (tmpdir / f"homelab-secrets-{os.getuid()}").symlink_to(real)  # planted by another user
    proc = source_bootstrap(bootstrap_env(tools, TMPDIR=str(tmpdir)), REPORT)
    assert proc.returncode != 0
    (line,) = _errors(proc)
    assert "not a private directory" in line
    assert list(real.iterdir()) == []


# --------------------------------------------------------------------------- cold path


def test_cold_start_builds_once_and_marks_completion_last(tmp_path: Path, tools: Path) -> None:
    cache = tmp_path / "cache"
    env = bootstrap_env(tools, HOMELAB_SECRETS_CACHE=str(cache))
    proc = source_bootstrap(env, f'{REPORT}\n"$HOMELAB_SECRETS_PYTHON" -c "import yaml, pyrage"')
    assert proc.returncode == 0, proc.stderr
    (venv,) = _venvs(cache)
    assert re.fullmatch(r"v2-[0-9a-f]{16}-cpython-\d+\.\d+\.\d+t?", venv.name)
    assert (venv / ".homelab-secrets-complete").read_text().strip() in venv.name
    assert "::group::homelab-secrets: setting up Python environment" in proc.stderr
    assert "::endgroup::" in proc.stderr
    # the package itself is not installed into the shared venv (PYTHONPATH serves it)
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import homelab_secrets"],
        capture_output=True,
        check=False,
    )
    assert check.returncode != 0


def test_a_half_built_venv_is_rebuilt(tmp_path: Path, tools: Path, prebuilt: Path) -> None:
    cache = tmp_path / "cache"
    venv = _place(prebuilt, cache)
    (venv / ".homelab-secrets-complete").unlink()
    (venv / "leftover-from-a-dead-build").write_text("x")
    proc = source_bootstrap(bootstrap_env(tools, HOMELAB_SECRETS_CACHE=str(cache)), REPORT)
    assert proc.returncode == 0, proc.stderr
    assert (venv / ".homelab-secrets-complete").exists()
    assert not (venv / "leftover-from-a-dead-build").exists()


def test_concurrent_steps_build_one_venv(tmp_path: Path, tools: Path) -> None:
    cache = tmp_path / "cache"
    env = bootstrap_env(tools, HOMELAB_SECRETS_CACHE=str(cache))
    with ThreadPoolExecutor(3) as pool:
        procs = list(pool.map(lambda _: source_bootstrap(env, REPORT), range(3)))
    assert [p.returncode for p in procs] == [0, 0, 0], [p.stderr for p in procs]
    assert len({_report(p)["PY"] for p in procs}) == 1
    builds = sum("Python environment ready" in p.stderr for p in procs)
    assert builds == 1
    assert len(_venvs(cache)) == 1


def _checkout(tmp_path: Path) -> Path:
    checkout = tmp_path / "checkout"
    for part in ("scripts", "src", "requirements"):
        shutil.copytree(ROOT / part, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
    return checkout


def test_a_changed_pin_gets_its_own_venv_a_comment_does_not(
    tmp_path: Path, tools: Path, prebuilt: Path
) -> None:
    """The venv is keyed on the subset's lock lines (pins and hashes), not on
    the file: the lock's comments and annotations change nothing."""
    checkout = _checkout(tmp_path)
    cache = tmp_path / "cache"
    _place(prebuilt, cache)
    lock = checkout / "requirements" / "lock.txt"
    env = bootstrap_env(tools, HOMELAB_SECRETS_CACHE=str(cache))
    lock.write_text(lock.read_text() + "# a comment changes nothing\n")
    proc = source_bootstrap(env, REPORT, root=checkout)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # warm: the same venv
    assert _report(proc)["PP"] == str(checkout / "src")
    assert len(_venvs(cache)) == 1
    # one hash line more for pyyaml: a new venv for "all"
    text = lock.read_text()
    lock.write_text(
        text.replace(
            "pyyaml==6.0.4 \\\n", "pyyaml==6.0.4 \\\n    --hash=sha256:" + "0" * 64 + " \\\n", 1
        )
    )
    assert lock.read_text() != text
    proc = source_bootstrap(env, REPORT, root=checkout)
    assert proc.returncode == 0, proc.stderr
    assert len(_venvs(cache)) == 2


# --------------------------------------------------------------------------- failures


def _fake_python(tmp_path: Path, version: str) -> Path:
    bin_dir = tmp_path / "oldpy"
    bin_dir.mkdir()
    for name in ("python3", "python3.13", "python3.12", "python3.11", "python3.10"):
        exe = bin_dir / name
        exe.write_text(f'#!/bin/sh\nprintf "old\\n{version}\\n"\n')
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def test_no_new_enough_python_fails_with_one_error_line(tmp_path: Path) -> None:
    env = bootstrap_env(_fake_python(tmp_path, "3.8.10"), HOMELAB_SECRETS_CACHE=str(tmp_path / "c"))
    env["PATH"] = f"{tmp_path / 'oldpy'}{os.pathsep}/usr/bin{os.pathsep}/bin"  # shadows python3*
    proc = subprocess.run(
        ["/bin/bash", "--noprofile", "--norc", "-c", 'source "$B" || echo "RC=$?"; echo REACHED'],
        env={**env, "B": str(ROOT / "scripts" / "bootstrap.sh")},
        capture_output=True,
        text=True,
        check=False,
    )
    (line,) = _errors(proc)
    assert line.startswith("::error title=homelab-secrets bootstrap::no Python >= 3.10 found")
    assert "python3 (3.8.10)" in line
    assert proc.stdout.split() == ["RC=1", "REACHED"]  # returns, never exits the caller


def test_errexit_callers_stop_at_a_failed_bootstrap(tmp_path: Path, tools: Path) -> None:
    env = bootstrap_env(tools, HOMELAB_SECRETS_BOOTSTRAP_PYTHON="no-such-python")
    proc = source_bootstrap(env, "echo SHOULD-NOT-RUN")
    assert proc.returncode == 1
    assert "SHOULD-NOT-RUN" not in proc.stdout
    assert len(_errors(proc)) == 1


def test_missing_lock_file(tmp_path: Path, tools: Path) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "scripts", checkout / "scripts")
    proc = source_bootstrap(bootstrap_env(tools), REPORT, root=checkout)
    assert proc.returncode == 1
    (line,) = _errors(proc)
    assert "requirements/lock.txt: the action checkout is incomplete" in line


def test_a_failed_install_leaves_no_venv_and_one_error(tmp_path: Path, tools: Path) -> None:
    cache = tmp_path / "cache"
    env = bootstrap_env(
        tools,
        HOMELAB_SECRETS_CACHE=str(cache),
        UV_CACHE_DIR=str(tmp_path / "empty-uv-cache"),
        UV_OFFLINE="1",
        **{"INPUT_AGE-KEY": SECRET},
    )
    proc = source_bootstrap(env, "echo SHOULD-NOT-RUN")
    assert proc.returncode == 1
    (line,) = _errors(proc)
    assert "could not install requirements/lock.txt (all) with uv" in line
    assert "::group::" in proc.stderr
    assert "::endgroup::" in proc.stderr
    assert _venvs(cache) == []
    assert SECRET not in proc.stdout + proc.stderr


def test_unknown_installer_is_refused(tmp_path: Path, tools: Path) -> None:
    env = bootstrap_env(
        tools, HOMELAB_SECRETS_CACHE=str(tmp_path / "c"), HOMELAB_SECRETS_INSTALLER="conda"
    )
    proc = source_bootstrap(env, REPORT)
    assert proc.returncode == 1
    (line,) = _errors(proc)
    assert "HOMELAB_SECRETS_INSTALLER must be uv or pip" in line


def test_running_it_instead_of_sourcing_it_explains() -> None:
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "bootstrap.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "usage: source scripts/bootstrap.sh" in proc.stderr


# ---------------------------------------------- slow: other installers and Pythons


@pytest.mark.slow
def test_pip_builds_the_venv_when_uv_is_absent(tmp_path: Path) -> None:
    tools = tools_dir(tmp_path / "tools")
    (tools / "uv").unlink()
    env = bootstrap_env(
        tools, HOMELAB_SECRETS_CACHE=str(tmp_path / "cache"), HOMELAB_SECRETS_INSTALLER="pip"
    )
    proc = source_bootstrap(env, f'{REPORT}\n"$HOMELAB_SECRETS_PYTHON" -m homelab_secrets doctor')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert ", pip)" in proc.stderr


def _python310() -> str | None:
    candidates = [shutil.which("python3.10")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob("versions/3.10*/bin/python3.10"))]
    for cand in filter(None, candidates):
        ok = subprocess.run([cand, "-c", ""], capture_output=True, check=False).returncode == 0
        if ok:
            return cand
    return None


@pytest.mark.slow
@pytest.mark.skipif(_python310() is None, reason="no runnable Python 3.10 here")
def test_python_310_gets_its_own_venv_and_runs_doctor(tmp_path: Path, tools: Path) -> None:
    """The oldest supported Python: the lock resolves for it (exceptiongroup,
    pycparser 3.11 there) and the package runs."""
    env = bootstrap_env(
        tools,
        HOMELAB_SECRETS_CACHE=str(tmp_path / "cache"),
        HOMELAB_SECRETS_BOOTSTRAP_PYTHON=str(_python310()),
    )
    proc = source_bootstrap(
        env, f'{REPORT}\n"$HOMELAB_SECRETS_PYTHON" -m homelab_secrets doctor --json'
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r"cpython-3\.10\.\d+/bin/python$", _report(proc)["PY"])
    assert '"python_version": "3.10.' in proc.stdout
