"""A self-hosted runner on a minimal Debian (a Proxmox LXC): python3 with no
pip, no ensurepip (python3-venv) and no uv. Proven in a real minimal Debian
root, made with debootstrap (--variant=minbase --include=python3) and
entered with chroot:

* nothing else there: the step fails with one error line that names what to
  install (apt-get install python3-pip, or uv);
* the same runner with the wheels restored by the actions' cache step: it
  works, with no pip at all (the wheels are checked and unpacked by
  scripts/bootstrap.py, standard library only);
* the same runner with uv on PATH: it works.

Skipped, never failed, where it cannot run: not root, no debootstrap, no
chroot (an unprivileged container). The root is made once (~1 min, Debian's
mirror) and kept in $HOMELAB_SECRETS_TEST_DEBIAN_ROOT (default
~/.cache/homelab-secrets-tests/debian-bookworm-minbase).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import bootstrap as helper  # scripts/bootstrap.py (stdlib only)

pytestmark = pytest.mark.slow

SUITE = "bookworm"
MIRROR = os.environ.get("HOMELAB_SECRETS_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
DEBIAN_ROOT = Path(
    os.environ.get("HOMELAB_SECRETS_TEST_DEBIAN_ROOT")
    or Path.home() / ".cache" / "homelab-secrets-tests" / f"debian-{SUITE}-minbase"
)
DEBOOTSTRAP = shutil.which("debootstrap", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
CHROOT = shutil.which("chroot", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def _debian_root() -> Path:
    if os.geteuid() != 0:
        pytest.skip("debootstrap and chroot need root")
    if DEBOOTSTRAP is None or CHROOT is None:
        pytest.skip("debootstrap is not installed (apt-get install debootstrap)")
    done = DEBIAN_ROOT / ".homelab-secrets-complete"
    DEBIAN_ROOT.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{DEBIAN_ROOT}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(DEBIAN_ROOT, ignore_errors=True)
            proc = subprocess.run(
                [
                    DEBOOTSTRAP,
                    "--variant=minbase",
                    "--include=python3",
                    SUITE,
                    str(DEBIAN_ROOT),
                    MIRROR,
                ],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if proc.returncode != 0:
                pytest.skip(f"debootstrap failed (no mirror?): {proc.stderr.strip()[-300:]}")
            done.write_text(SUITE + "\n")
    probe = subprocess.run(
        [CHROOT, str(DEBIAN_ROOT), "/usr/bin/python3", "-c", ""], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"chroot is not possible here: {probe.stderr.decode()[-200:]}")
    return DEBIAN_ROOT


@pytest.fixture
def debian(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """(the Debian root, a fresh folder in it holding this checkout's action parts)."""
    root = _debian_root()
    inside = f"/tmp/hs-{uuid.uuid4().hex[:12]}"
    work = root / inside.lstrip("/")
    for part in ("scripts", "requirements", "src"):
        shutil.copytree(ROOT / part, work / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "examples" / "secrets", work / "secrets")
    shutil.copy(ROOT / "examples" / "keys" / "demo-age-key.txt", work / "demo-age-key.txt")
    try:
        yield root, inside
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _step(debian: tuple[Path, str], script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A bash step on that runner: a clean environment, as a runner service has."""
    root, inside = debian
    variables = {
        "PATH": f"{inside}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "HOMELAB_SECRETS_CACHE": f"{inside}/tool-cache",
        **env,
    }
    return subprocess.run(
        [CHROOT or "chroot", str(root), "/usr/bin/env", "-i",
         *(f"{k}={v}" for k, v in variables.items()),
         "/bin/bash", "--noprofile", "--norc", "-c", f"set -euo pipefail\ncd {inside}\n{script}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip


DECRYPT = (
    "source scripts/bootstrap.sh sops\n"
    'SOPS_AGE_KEY_FILE=demo-age-key.txt "$HOMELAB_SECRETS_PYTHON" -m homelab_secrets '
    "decrypt secrets/prd.enc.yaml"
)


def _plain() -> object:
    return yaml.safe_load((ROOT / "examples" / "plain" / "prd.yaml").read_text())


def test_the_debian_root_is_as_minimal_as_promised(debian: tuple[Path, str]) -> None:
    proc = _step(
        debian,
        'for m in pip ensurepip; do python3 -c "import $m" 2>/dev/null && echo HAS-$m; done\n'
        "command -v uv pip pip3 || true\n"
        "python3 -c 'import sys; print(sys.version.split()[0])'",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("3.")
    assert "HAS-" not in proc.stdout
    assert "/" not in proc.stdout  # no uv, no pip on PATH


def test_nothing_to_install_with_fails_with_one_line_naming_what_to_install(
    debian: tuple[Path, str],
) -> None:
    proc = _step(debian, DECRYPT)
    assert proc.returncode == 1
    errors = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "::error" in ln]
    assert len(errors) == 1, proc.stderr
    assert "apt-get install python3-pip" in errors[0]
    assert "uv" in errors[0]
    assert "api_token_secret" not in proc.stdout


def test_wheels_restored_by_the_cache_step_need_no_pip(
    debian: tuple[Path, str], tmp_path: Path
) -> None:
    root = debian[0]
    # what the cache step would restore: the sops wheels for Debian's python3
    # (downloaded here by the host's pip for that interpreter and platform)
    version = _step(debian, "python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'")
    major_minor = version.stdout.strip()
    requirements = tmp_path / "sops.txt"
    requirements.write_text(
        helper.subset_text(
            helper.load(
                str(ROOT / "requirements" / "lock.txt"),
                str(ROOT / "requirements" / "subsets.txt"),
                "sops",
            )
        )
    )
    wheels = tmp_path / "wheels"
    cp = "cp" + major_minor.replace(".", "")
    download = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--no-deps", "--require-hashes", "--dest", str(wheels),
         "--python-version", major_minor, "--implementation", "cp", "--abi", cp,
         "--abi", "abi3", "--abi", "none", "--platform", "any",
         # pip takes each manylinux tag literally: bookworm's glibc 2.36 runs 2_36 ... 2_5
         *(f"--platform=manylinux_2_{n}_x86_64" for n in range(5, 37)),
         "--platform=manylinux2014_x86_64", "--requirement", str(requirements)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    if download.returncode != 0:
        pytest.skip(f"cannot download the wheels for Debian's Python: {download.stderr[-300:]}")
    key = _step(debian, "bash scripts/bootstrap.sh --cache-key sops")
    assert key.returncode == 0, key.stderr
    outputs = dict(line.split("=", 1) for line in key.stdout.splitlines())
    assert outputs["restore"] == "true"
    assert f"-linux-x86_64-glibc2.36-cpython-{major_minor}." in outputs["key"]
    shutil.copytree(wheels, root / outputs["path"].lstrip("/"))
    proc = _step(debian, DECRYPT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "(wheelhouse)" in proc.stderr
    assert yaml.safe_load(proc.stdout) == _plain()


def test_uv_on_path_is_enough(debian: tuple[Path, str]) -> None:
    root, inside = debian
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv is None:
        pytest.skip("no uv binary to copy in")
    (root / inside.lstrip("/") / "bin").mkdir()
    shutil.copy(uv, root / inside.lstrip("/") / "bin" / "uv")
    # this machine's trust store (a proxy here may re-sign TLS); Debian's minbase has none
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", root / inside.lstrip("/") / "ca.pem")
    proc = _step(
        debian, DECRYPT, UV_CACHE_DIR=f"{inside}/uv-cache", SSL_CERT_FILE=f"{inside}/ca.pem"
    )
    if proc.returncode != 0 and "dns" in proc.stderr.lower():
        pytest.skip("no network inside the Debian root")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert ", uv)" in proc.stderr
    assert yaml.safe_load(proc.stdout) == _plain()
