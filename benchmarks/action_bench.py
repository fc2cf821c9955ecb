"""How long the sops-decrypt step takes under act, with the action venv warm.

Not a test: run `make bench` (or `python benchmarks/action_bench.py`).  Two
workflows run alternately under act (host mode, offline): one with just the
checkout, one with the checkout plus ``actions/sops-decrypt`` on four files the
real sops encrypted (YAML, JSON, dotenv, binary) with ``export-env``.  The
step's cost is the difference of the medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from act_harness import CHECKOUT, make_repo, run_act  # noqa: E402
from conftest import TEST_CACHE, bootstrap_env, source_bootstrap, tools_dir  # noqa: E402
from support.sops_oracle import AgeKeyPair, run_sops  # noqa: E402

PLAIN = {
    "app.yaml": "db:\n    password: bench-password\n    port: 5432\ntoken: bench-token-value\n",
    "data.json": '{\n\t"service": "bench-service-token"\n}\n',
    "dot.env": "API_KEY=bench-api-key\n",
    "blob.bin": "bench binary blob\n",
}


def workflow(with_decrypt: bool) -> str:
    step = """
      - uses: ./actions/sops-decrypt
        with:
          files: fixtures/*
          age-key: ${{ secrets.AGE_KEY }}
          export-env: true
"""
    return f"""
name: bench
on: push
permissions: {{}}
jobs:
  bench:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
{step if with_decrypt else ""}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    opts = parser.parse_args()
    key = AgeKeyPair.generate()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc = source_bootstrap(  # warm the action venv once
            bootstrap_env(tools_dir(work / "tools"), HOMELAB_SECRETS_CACHE=str(TEST_CACHE)),
            "true",
        )
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        home = work / "home"
        home.mkdir()
        files: dict[str, str] = {}
        for name, text in PLAIN.items():
            (work / name).write_text(text)
            enc = run_sops(["encrypt", "--age", key.recipient, name], cwd=work, home=home)
            stem, ext = name.rsplit(".", 1)
            files[f"fixtures/{stem}.enc.{ext}"] = enc.stdout.decode()
        repos = {}
        for label, flag in (("checkout only", False), ("checkout + sops-decrypt", True)):
            repos[label] = make_repo(work / label.replace(" ", "-"), workflow(flag), files=files)
        times: dict[str, list[float]] = {label: [] for label in repos}
        for _ in range(opts.runs + 1):
            for label, repo in repos.items():
                start = time.perf_counter()
                run = run_act(repo, "push", cache=TEST_CACHE, secrets={"AGE_KEY": key.identity})
                elapsed = time.perf_counter() - start
                if run.returncode != 0:
                    raise SystemExit(run.log[-3000:])
                times[label].append(elapsed)
    medians = {label: statistics.median(t[1:]) for label, t in times.items()}  # first run: warm-up
    for label, value in medians.items():
        print(f"{label:<28}{value * 1000:>8.0f} ms  (median of {opts.runs})")
    step = medians["checkout + sops-decrypt"] - medians["checkout only"]
    print(f"{'sops-decrypt step (4 files)':<28}{step * 1000:>8.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
