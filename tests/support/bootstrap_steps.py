"""A bash step that sources scripts/bootstrap.sh for one subset (the way each
action's step does: ``source .../bootstrap.sh sops``), and the one that
prints the actions/cache key (``bash .../bootstrap.sh --cache-key sops``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import ROOT


def source_subset(
    env: dict[str, str], subset: str, after: str = "", *, root: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    script = f'set -euo pipefail\nsource "$BOOTSTRAP" {subset}\n{after}\n'
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        env={**env, "BOOTSTRAP": str(root / "scripts" / "bootstrap.sh")},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def cache_key(env: dict[str, str], subset: str, *, root: Path = ROOT) -> dict[str, str]:
    """The outputs of the step before actions/cache/restore (path, key, ready)."""
    proc = subprocess.run(
        ["bash", str(root / "scripts" / "bootstrap.sh"), "--cache-key", subset],
        env={k: v for k, v in env.items() if k != "GITHUB_OUTPUT"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in proc.stdout.splitlines())
