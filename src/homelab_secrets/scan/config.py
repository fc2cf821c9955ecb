"""The scanner's configuration file, ``.homelab-secrets-scan.yaml`` at the
root of the repository (or ``--config PATH``)::

    # Paths never read (gitignore-style globs: ``*`` within a folder, ``**``
    # across folders; a pattern without ``/`` matches the name anywhere).
    exclude:
      - tests/scan/corpus/**
    # Known values, by fingerprint (``homelab-secrets scan --format json``
    # prints it), each with the reason it is accepted; ``paths`` optionally
    # limits where (globs as above).  Never the value itself.
    allow:
      - fingerprint: 6facba60c5895cc0700f2063022441f2
        rule: age-secret-key
        reason: DEMO-ONLY age key of examples/, public on purpose
        paths: [examples/keys/demo-age-key.txt]
    # A baseline of accepted findings (a JSON report), used when the command
    # line gives none.
    baseline: .homelab-secrets-baseline.json
    # Files larger than this are read only up to it (default 10 MiB).
    max-file-size: 10485760

An ``allow`` entry is how a DEMO or test secret becomes *known* rather than
hidden: the scanner still finds it, and the report says it was accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.scan.model import Finding

CONFIG_NAME = ".homelab-secrets-scan.yaml"
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
_KEYS = {"exclude", "allow", "baseline", "max-file-size"}
_ALLOW_KEYS = {"fingerprint", "rule", "reason", "paths"}
_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-style glob as a regex over ``/``-separated relative paths."""
    anchored = "/" in pattern.rstrip("/")
    text = pattern.strip("/") if anchored else pattern.rstrip("/")
    out = []
    i = 0
    while i < len(text):
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif text.startswith("**", i):
            out.append(".*")
            i += 2
        elif text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif text[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(rf"^{prefix}{body}(?:/.*)?$")


@dataclass(frozen=True)
class Allow:
    fingerprint: str
    reason: str
    rule: str | None = None
    paths: tuple[re.Pattern[str], ...] = ()

    def covers(self, finding: Finding) -> bool:
        if finding.fingerprint != self.fingerprint:
            return False
        if self.rule is not None and self.rule != finding.rule:
            return False
        return not self.paths or any(p.match(finding.file) for p in self.paths)


@dataclass(frozen=True)
class ScanConfig:
    exclude: tuple[re.Pattern[str], ...] = ()
    allow: tuple[Allow, ...] = ()
    baseline: str | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    path: str | None = None  #: where it was read from
    exclude_globs: tuple[str, ...] = field(default=(), compare=False)

    def excluded(self, path: str) -> bool:
        """``exclude`` globs, and the baseline file itself: a report of
        findings (rule titles, fingerprints, 4-character prefixes), never a
        source of them."""
        if self.baseline is not None and path == self.baseline.removeprefix("./"):
            return True
        return any(p.match(path) for p in self.exclude)

    def allowed(self, finding: Finding) -> Allow | None:
        return next((a for a in self.allow if a.covers(finding)), None)


def _bad(path: str, what: str) -> UserError:
    return UserError(f"{path}: {what}", ExitCode.USAGE, path=path)


def _strings(value: Any, path: str, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(path, f"{what} must be a list of strings")
    return value


def parse(text: str, path: str) -> ScanConfig:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise _bad(path, f"not valid YAML{where}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise _bad(path, "must be a mapping")
    unknown = set(doc) - _KEYS
    if unknown:
        raise _bad(path, f"unknown keys {', '.join(sorted(map(str, unknown)))}")
    globs = _strings(doc.get("exclude") or [], path, "exclude")
    allows = []
    for i, raw in enumerate(doc.get("allow") or []):
        if not isinstance(raw, dict) or set(raw) - _ALLOW_KEYS:
            raise _bad(path, f"allow[{i}] must be a mapping of {', '.join(sorted(_ALLOW_KEYS))}")
        fp = str(raw.get("fingerprint", ""))
        if not _FINGERPRINT.match(fp):
            raise _bad(path, f"allow[{i}].fingerprint must be 32 lower-case hex digits")
        reason = raw.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise _bad(path, f"allow[{i}] needs a reason")
        rule = raw.get("rule")
        if rule is not None and not isinstance(rule, str):
            raise _bad(path, f"allow[{i}].rule must be a rule id")
        paths = tuple(glob_regex(g) for g in _strings(raw.get("paths") or [], path, "paths"))
        allows.append(Allow(fp, reason.strip(), rule, paths))
    baseline = doc.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise _bad(path, "baseline must be a path")
    size = doc.get("max-file-size", DEFAULT_MAX_FILE_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise _bad(path, "max-file-size must be a positive number of bytes")
    return ScanConfig(
        exclude=tuple(glob_regex(g) for g in globs),
        allow=tuple(allows),
        baseline=baseline,
        max_file_size=size,
        path=path,
        exclude_globs=tuple(globs),
    )


def load(path: Path) -> ScanConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _bad(str(path), f"cannot read ({exc.strerror})") from None
    return parse(text, str(path))
