"""Reports: text for people, JSON for programs and baselines (SARIF lives in
:mod:`.sarif`).  A report names files, lines, rules and key names; of a
value it shows at most :func:`~homelab_secrets.scan.model.value_prefix`."""

from __future__ import annotations

import json
from collections.abc import Sequence

from homelab_secrets.scan.model import Finding


def to_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.as_json() for f in findings], indent=2) + "\n"


def to_text(findings: Sequence[Finding], files_scanned: int) -> str:
    lines = []
    for f in findings:
        extra = []
        if f.key:
            extra.append(f"key {f.key}")
        if f.value_prefix:
            extra.append(f"starts {f.value_prefix}…")
        detail = f" ({', '.join(extra)})" if extra else ""
        lines.append(f"{f.location}: {f.rule}: {f.title}{detail} [fingerprint {f.fingerprint}]")
    files = len({f.file for f in findings})
    noun = "finding" if len(findings) == 1 else "findings"
    if findings:
        lines.append(f"{len(findings)} {noun} in {files} of {files_scanned} files scanned")
    else:
        lines.append(f"no findings in {files_scanned} files scanned")
    return "\n".join(lines) + "\n"
