"""The engine: a file's path and bytes in, findings out.  Pure: it reads no
file, no environment, prints nothing.

One file goes through:

1. **policy** (:mod:`.policy`): forbidden paths, files and values that must
   be encrypted;
2. **structure** (:mod:`.classify`): binary and whole-file ciphertext stop
   here; otherwise ciphertext is blanked in place;
3. **one keyword pass** (:mod:`.matcher`) over the blanked bytes, for the
   keywords of every detector at once;
4. **detectors** (:mod:`.detectors`) on just the lines (or, for multi-line
   constructs, the document) where their keywords occur; placeholders are
   dropped there;
5. overlapping hits resolved (a provider rule beats a generic one), inline
   ``homelab-secrets:allow`` honoured, values turned into fingerprints.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence

from homelab_secrets.scan import fingerprint
from homelab_secrets.scan.classify import classify
from homelab_secrets.scan.detectors import DETECTORS, Context, Detector, syntax_for
from homelab_secrets.scan.matcher import Backend, KeywordMatcher
from homelab_secrets.scan.model import Finding, Hit, value_prefix
from homelab_secrets.scan.policy import CONFIG_NAME, Policy, PolicyHit

ALLOW = "homelab-secrets:allow"
ALLOW_NEXT = "homelab-secrets:allow-next-line"
#: A line longer than this is read in windows around each keyword.
LONG_LINE = 4096
WINDOW = 1024
#: Generic rules stay off in lock files (hashes and integrity strings only).
_NOT_IN_LOCKFILES = frozenset({"generic", "hcl-variable-defaults", "commands"})


class Engine:
    """Compiled detectors; one per process is enough (see :func:`default_engine`)."""

    def __init__(
        self,
        detectors: Sequence[Detector] = DETECTORS,
        *,
        backend: Backend = "auto",
        fingerprint_key: bytes = fingerprint.DEFAULT_KEY,
    ) -> None:
        self.detectors = tuple(detectors)
        self.fingerprint_key = fingerprint_key
        words: dict[str, int] = {}
        self._by_keyword: list[list[int]] = []
        for index, detector in enumerate(self.detectors):
            for word in detector.keywords:
                if word not in words:
                    words[word] = len(words)
                    self._by_keyword.append([])
                self._by_keyword[words[word]].append(index)
        self.matcher = KeywordMatcher(list(words), backend)
        self._path_detectors = [d for d in self.detectors if d.paths]

    # ------------------------------------------------------------------ public
    def scan(self, path: str, data: bytes, policy: Policy | None = None) -> list[Finding]:
        """Findings for one file (``path`` relative to the scan root, ``/``-separated)."""
        name = path.rsplit("/", 1)[-1]
        if name == CONFIG_NAME:
            return []
        structure = classify(path, data)
        hits = (policy or Policy(".")).check(path, data, structure)
        lines = _Lines(data)
        findings = [
            self._policy_finding(path, data, hit)
            for hit in hits
            if (hit.line == 1 and not hit.key_path) or not _allowed(lines, hit.line)
        ]
        if structure.kind not in ("plain", "sops"):
            return sorted(findings)
        ctx = Context(path, syntax_for(path))
        detectors = [
            d
            for d in self.detectors
            if not (structure.lockfile and d.name in _NOT_IN_LOCKFILES)
            and (not d.syntaxes or ctx.syntax in d.syntaxes)
        ]
        findings += self._patterns(structure.text, data, ctx, detectors)
        return sorted(set(findings))

    # ------------------------------------------------------------------ policy
    def _policy_finding(self, path: str, data: bytes, hit: PolicyHit) -> Finding:
        return Finding(
            file=path,
            line=hit.line,
            column=1,
            rule=hit.rule.id,
            kind=hit.rule.kind,
            title=hit.title,
            fingerprint=fingerprint.of_policy(
                hit.rule.id, path, hit.key_path, self.fingerprint_key
            ),
            key=hit.key_path or None,
        )

    # ------------------------------------------------------------------ patterns
    def _patterns(
        self, text: bytes, raw: bytes, ctx: Context, allowed: list[Detector]
    ) -> list[Finding]:
        allowed_ids = {id(d) for d in allowed}
        line_hits: dict[int, set[int]] = defaultdict(set)  # line start -> detector indexes
        positions: dict[int, list[int]] = defaultdict(list)  # line start -> keyword ends
        document: set[int] = set()
        for word, end in self.matcher.scan(text):
            for index in self._by_keyword[word]:
                detector = self.detectors[index]
                if id(detector) not in allowed_ids:
                    continue
                if detector.scope == "document":
                    document.add(index)
                else:
                    start = text.rfind(b"\n", 0, end - 1) + 1
                    line_hits[start].add(index)
                    positions[start].append(end)
        for detector in self._path_detectors:
            if id(detector) in allowed_ids and ctx.name.lower() in detector.paths:
                document.add(self.detectors.index(detector))
        located: list[tuple[int, int, Hit]] = []  # (line number, column, hit)
        if line_hits:
            located += self._line_scan(text, ctx, line_hits, positions)
        if document:
            located += self._document_scan(text, ctx, sorted(document))
        return self._findings(located, raw, ctx)

    def _line_scan(
        self,
        text: bytes,
        ctx: Context,
        line_hits: dict[int, set[int]],
        positions: dict[int, list[int]],
    ) -> Iterable[tuple[int, int, Hit]]:
        number, counted_to = 1, 0
        for start in sorted(line_hits):
            number += text.count(b"\n", counted_to, start)
            counted_to = start
            end = text.find(b"\n", start)
            end = len(text) if end == -1 else end
            for win_start, win_end in _windows(start, end, positions[start]):
                segment = text[win_start:win_end].decode("utf-8", "replace").rstrip("\r")
                col0 = win_start - start  # in bytes: a long line is seldom all ASCII-free
                for index in sorted(line_hits[start]):
                    for hit in self.detectors[index].find(segment, ctx):
                        yield number, col0 + hit.start + 1, hit

    def _document_scan(
        self, text: bytes, ctx: Context, indexes: list[int]
    ) -> Iterable[tuple[int, int, Hit]]:
        doc = text.decode("utf-8", "replace")
        for index in indexes:
            for hit in self.detectors[index].find(doc, ctx):
                line_start = doc.rfind("\n", 0, hit.start) + 1
                yield doc.count("\n", 0, hit.start) + 1, hit.start - line_start + 1, hit

    def _findings(
        self, located: list[tuple[int, int, Hit]], raw: bytes, ctx: Context
    ) -> list[Finding]:
        kept: dict[int, list[tuple[int, int, Hit]]] = defaultdict(list)
        for line, col, hit in sorted(located, key=lambda x: (-x[2].priority, x[0], x[1])):
            span = (col, col + (hit.end - hit.start))
            if any(span[0] < c + (h.end - h.start) and c < span[1] for _, c, h in kept[line]):
                continue  # overlaps a hit that ranks higher (or an equal one found earlier)
            kept[line].append((line, col, hit))
        lines = _Lines(raw)
        out = []
        for line, entries in kept.items():
            if _allowed(lines, line):
                continue
            for _, col, hit in entries:
                out.append(
                    Finding(
                        file=ctx.path,
                        line=line,
                        column=col,
                        end_column=col + (hit.end - hit.start),
                        rule=hit.rule,
                        kind=hit.kind,
                        title=hit.title,
                        fingerprint=fingerprint.of_value(hit.value, self.fingerprint_key),
                        value_prefix=value_prefix(hit.value.strip()),
                        key=hit.key,
                        confidence=hit.confidence,
                        validated=hit.validated,
                    )
                )
        return out


def _windows(start: int, end: int, ends: list[int]) -> list[tuple[int, int]]:
    """The whole line, or for a very long one, merged windows around its keywords."""
    if end - start <= LONG_LINE:
        return [(start, end)]
    merged: list[tuple[int, int]] = []
    for pos in sorted(ends):
        lo, hi = max(start, pos - WINDOW), min(end, pos + WINDOW)
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _allowed(lines: _Lines, number: int) -> bool:
    """``homelab-secrets:allow`` on the line, or ``...:allow-next-line`` above it."""
    return ALLOW in lines.get(number) or ALLOW_NEXT in lines.get(number - 1)


class _Lines:
    """Line ``n`` of the original bytes, decoded on demand (for allow markers)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._starts: list[int] | None = None

    def get(self, number: int) -> str:
        if number < 1 or ALLOW.encode() not in self.raw:
            return ""
        if self._starts is None:
            self._starts = [0]
            pos = self.raw.find(b"\n")
            while pos != -1:
                self._starts.append(pos + 1)
                pos = self.raw.find(b"\n", pos + 1)
        if number > len(self._starts):
            return ""
        start = self._starts[number - 1]
        end = self.raw.find(b"\n", start)
        return self.raw[start : end if end != -1 else len(self.raw)].decode("utf-8", "replace")


@functools.cache
def default_engine() -> Engine:
    """The engine with every detector and the default fingerprint key."""
    return Engine()


def scan_bytes(path: str, data: bytes, policy: Policy | None = None) -> list[Finding]:
    """:meth:`Engine.scan` with :func:`default_engine`."""
    return default_engine().scan(path, data, policy)
