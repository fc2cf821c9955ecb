"""Baselines: findings already known, by fingerprint.

A baseline is a JSON report of this scanner (``homelab-secrets scan --format
json --output .homelab-secrets-baseline.json``): a list of findings, or an
object with a ``findings`` list.  Only the ``fingerprint`` of each entry
counts, so a known secret stays known when its line (or file) moves, and a
new secret is never hidden by an old one on the same line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.scan.model import Finding


def load(path: Path) -> frozenset[str]:
    """The fingerprints listed in the baseline file ``path``."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"baseline {path}: cannot read ({exc.strerror})", ExitCode.USAGE) from None
    except ValueError:
        raise UserError(f"baseline {path}: not valid JSON", ExitCode.USAGE) from None
    entries = doc.get("findings") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise UserError(
            f"baseline {path}: expected a list of findings (a --format json report)",
            ExitCode.USAGE,
        )
    prints = set()
    for i, entry in enumerate(entries):
        fp = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(fp, str) or not fp:
            raise UserError(f"baseline {path}: entry {i} has no fingerprint", ExitCode.USAGE)
        prints.add(fp)
    return frozenset(prints)


def new_findings(findings: Iterable[Finding], known: frozenset[str]) -> list[Finding]:
    return [f for f in findings if f.fingerprint not in known]
