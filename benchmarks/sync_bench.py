"""The sync vs rewriting everything: 500 secrets x 5 targets, 5 values changed.

Not a test: run ``python benchmarks/sync_bench.py`` (``--runs N``).  The fake
GitHub (tests/fakes/github.py) is served on 127.0.0.1 with 50 ms of latency
per request, and real PyGithub talks to it; the targets are 5 organizations
(500 secrets is more than the 100 a repository may hold), all worked on at
once (``concurrency: 5``), writes unpaced so that only requests count.

* **sync, 5 changed**: after a first sync (not timed), 5 source values
  change; the run reads each target's state and secret list, writes the 5
  changed secrets to each target (one public key per target) and the state.
* **sync, nothing changed**: the same, with nothing changed: reads only.
* **rewrite everything**: what the existing sync actions do: per target one
  public-key GET (cached, their best case) and one PUT per secret, through
  the same client and concurrency.

Each scenario runs ``--runs`` times on a fresh fake (set up without latency);
the table shows the median wall time and requests, and what the default
write budget (at most 80 writes in any minute, 500 a run) would add.  Mind the
primary rate limit too: a token has 5,000 requests an hour, and rewriting
everything here takes half of them on every run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from fakes import serve  # noqa: E402
from fakes.github import FakeGitHub  # noqa: E402
from homelab_secrets.sync.config import SyncConfig, parse_config  # noqa: E402
from homelab_secrets.sync.github import TargetClient, connect, seal  # noqa: E402
from homelab_secrets.sync.ratelimit import Throttle  # noqa: E402
from homelab_secrets.sync.runner import Sync  # noqa: E402

TOKEN = "github_pat_" + "BENCHMARK_ONLY"  # a made-up token for the fake
KEY = b"benchmark-sync-key-0123456789abcdef"
ORGS = [f"homelab-{i}" for i in range(5)]
SECRETS = 500
CHANGED = 5
LATENCY = 0.05
CONFIG = "source: {provider: doppler}\ntargets:\n" + "".join(
    f"  - organization: {org}\n" for org in ORGS
)
DEFAULT_PACE = 80  # writes a minute (limits.writes-per-minute)
DEFAULT_BUDGET = 500  # writes a run (limits.max-writes)


def values(changed: int = 0) -> dict[str, str]:
    out = {f"SECRET_{i:03}": f"value-{i}-abcdefghijklmnopqrstuvwxyz" for i in range(SECRETS)}
    for i in range(changed):
        out[f"SECRET_{i:03}"] += "-rotated"
    return out


def config() -> SyncConfig:
    text = CONFIG + "limits: {concurrency: 5, writes-per-minute: 0, max-writes: 100000}\n"
    return parse_config(text, "bench.yaml")


def fresh() -> FakeGitHub:
    github = FakeGitHub()
    for org in ORGS:
        github.add_org(org)
    github.add_token(TOKEN)
    return github


def sync(url: str, source: dict[str, str]) -> int:
    throttle = Throttle(writes_per_minute=0, max_writes=100_000)
    run = Sync(
        config(),
        values=source,
        source="doppler bench/prd",
        key=KEY,
        clients=lambda t: TargetClient(connect(url, TOKEN), t, throttle, TOKEN),
    )
    try:
        report = run.run()
    finally:
        run.close()
    if not report.ok:
        raise SystemExit(f"sync failed: {report.problems or [r.failed for r in report.runs]}")
    return report.writes


def rewrite_all(url: str, source: dict[str, str]) -> int:
    from concurrent.futures import ThreadPoolExecutor

    throttle = Throttle(writes_per_minute=0, max_writes=100_000)

    def one(target: object) -> None:
        client = TargetClient(connect(url, TOKEN), target, throttle, TOKEN)  # type: ignore[arg-type]
        try:
            key = client.public_key()
            for name, value in source.items():
                client.put_secret(name, seal(key, value), visibility="private")
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=len(ORGS)) as pool:
        list(pool.map(one, config().targets))
    return throttle.writes


Scenario = Callable[[str, dict[str, str]], int]


def measure(scenario: Scenario, changed: int, *, prepared: bool) -> tuple[float, int, int]:
    """(seconds, requests, writes) of one run on a fresh fake."""
    github = fresh()
    with serve(github) as url:
        if prepared:
            sync(url, values())  # the previous run: state and secrets in place
            github.remaining = 5000  # ...a day ago: a fresh hour of primary rate limit
        before = len(github.requests)
        github.latency = LATENCY
        start = time.perf_counter()
        writes = scenario(url, values(changed))
        elapsed = time.perf_counter() - start
        return elapsed, len(github.requests) - before, writes


def paced(writes: int) -> str:
    """What the default write budget adds (computed, not measured): at most
    500 writes a run, and no more than 80 in any minute (a sliding window)."""
    runs = max(1, -(-writes // DEFAULT_BUDGET))
    per_run = min(writes, DEFAULT_BUDGET)
    minutes = (per_run - 1) // DEFAULT_PACE if per_run else 0
    if runs == 1 and not minutes:
        return "1 run, no wait"
    return f"{runs} runs, each waiting {minutes} min for the pace"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median)")
    opts = parser.parse_args()
    scenarios: list[tuple[str, Scenario, int, bool]] = [
        (f"sync, {CHANGED} changed", sync, CHANGED, True),
        ("sync, nothing changed", sync, 0, True),
        ("rewrite everything (key cached)", rewrite_all, CHANGED, True),
    ]
    print(
        f"{SECRETS} secrets x {len(ORGS)} targets, {CHANGED} values changed, "
        f"{LATENCY * 1000:.0f} ms per request, median of {opts.runs} runs\n"
    )
    print("| scenario | requests | writes | wall time | with the default write budget |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, scenario, changed, prepared in scenarios:
        results = [measure(scenario, changed, prepared=prepared) for _ in range(opts.runs)]
        seconds = statistics.median(r[0] for r in results)
        requests = int(statistics.median(r[1] for r in results))
        writes = int(statistics.median(r[2] for r in results))
        print(f"| {label} | {requests} | {writes} | {seconds:.2f} s | {paced(writes)} |")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
