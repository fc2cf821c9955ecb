"""Benchmark scripts/bootstrap.sh (not a test): how long an action step waits
before our Python code starts.

    .venv/bin/python benchmarks/bootstrap_bench.py [--runs 7] [--cold-runs 5] [--no-pip]

Scenarios, each the median of several runs of a fresh `bash` that sources the
bootstrap (what every composite action step does):

* warm: the venv exists (every step after the first on a runner, and every
  step on a self-hosted runner with a kept tool cache). python3 on PATH is a
  real interpreter, as on GitHub-hosted runners and after actions/setup-python.
* warm + command: the same, then `python -m homelab_secrets --version`: the
  whole fixed cost of a step.
* warm, this machine's PATH: python3 as this shell finds it (here possibly a
  pyenv shim, which costs ~0.15 s per start).
* cold (uv): no venv, uv's package cache warm: the first step on a fresh
  runner with uv, and what an action that reinstalls on every step pays.
* cold (pip): the same with pip (its HTTP cache warm after the first run).

Goals (issue #2): warm <= 0.3 s, cold <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = ROOT / "scripts" / "bootstrap.sh"


def tools(where: Path, with_uv: bool) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    if with_uv and uv:
        (where / "uv").symlink_to(uv)
    return where


def step_env(path_prefix: Path | None, cache: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "RUNNER_", "HOMELAB_SECRETS_", "INPUT_"))
    }
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    # the dev venv's bin must not be on PATH: it has a python3 and a uv of its own
    parts = [
        p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != Path(sys.executable).parent
    ]
    if path_prefix is not None:
        parts.insert(0, str(path_prefix))
    env["PATH"] = os.pathsep.join(parts)
    env["HOMELAB_SECRETS_CACHE"] = str(cache)
    env.update(extra)
    return env


def run_step(env: dict[str, str], after: str = "") -> float:
    script = f'set -euo pipefail\nsource "{BOOTSTRAP}"\n{after}\n'
    started = time.perf_counter()
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"bootstrap failed:\n{proc.stderr[-2000:]}")
    return elapsed


def measure(
    runs: int, env: dict[str, str], after: str = "", reset: Path | None = None
) -> list[float]:
    times = []
    for _ in range(runs):
        if reset is not None:
            for venv in reset.glob("v1-*"):
                shutil.rmtree(venv) if venv.is_dir() else venv.unlink()
        times.append(run_step(env, after))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per warm scenario (>= 5)")
    parser.add_argument("--cold-runs", type=int, default=5, help="runs per cold scenario (>= 5)")
    parser.add_argument("--no-pip", action="store_true", help="skip the (slow) pip scenario")
    args = parser.parse_args()

    rows: list[tuple[str, list[float], float | None]] = []
    with tempfile.TemporaryDirectory(prefix="bootstrap-bench-") as tmp:
        work = Path(tmp)
        bin_uv = tools(work / "bin-uv", with_uv=True)
        bin_pip = tools(work / "bin-pip", with_uv=False)
        cache = work / "cache"

        uv_env = step_env(bin_uv, cache)
        run_step(uv_env)  # build once
        rows.append(("warm", measure(args.runs, uv_env), 0.3))
        rows.append(
            (
                "warm + `python -m homelab_secrets --version`",
                measure(
                    args.runs, uv_env, '"$HOMELAB_SECRETS_PYTHON" -m homelab_secrets --version'
                ),
                None,
            )
        )
        here = shutil.which("python3", path=step_env(None, cache)["PATH"])
        rows.append(
            (
                f"warm, this machine's python3 ({here})",
                measure(args.runs, step_env(None, cache)),
                None,
            )
        )

        cold_cache = work / "cold-uv"
        rows.append(
            (
                "cold (uv, package cache warm)",
                measure(args.cold_runs, step_env(bin_uv, cold_cache), reset=cold_cache),
                5.0,
            )
        )
        if not args.no_pip:
            pip_cache = work / "cold-pip"
            pip_env = step_env(bin_pip, pip_cache, HOMELAB_SECRETS_INSTALLER="pip")
            run_step(pip_env)  # warm pip's own HTTP cache
            rows.append(
                (
                    "cold (pip, package cache warm)",
                    measure(args.cold_runs, pip_env, reset=pip_cache),
                    None,
                )
            )

    print(f"scripts/bootstrap.sh on Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print(f"| {'scenario':<70} | runs | median s |  min s |  max s | goal s |")
    print(f"|{'-' * 72}|------|----------|--------|--------|--------|")
    for name, times, goal in rows:
        med = statistics.median(times)
        verdict = "" if goal is None else f"{goal:>4} {'ok' if med <= goal else 'MISSED'}"
        stats = f"{med:>8.3f} | {min(times):>6.3f} | {max(times):>6.3f}"
        print(f"| {name:<70} | {len(times):>4} | {stats} | {verdict:>6} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
