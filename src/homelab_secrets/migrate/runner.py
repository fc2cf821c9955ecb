"""Migrating mapping after mapping: read both sides, write what differs,
read everything back, compare fingerprints.

The providers come from ``open_source``/``open_target`` (the command line
opens them from flags and environment, one pair per mapping, and closes
them); the target's must list one folder's own secrets (no imports, no
reference expansion) and upsert with ``set_secrets``.  Writes go in batches
of ``batch_size`` names, each one upsert (one transaction on the server:
retried safely, :mod:`homelab_secrets.providers.infisical`); HTTP 429s and
5xx are retried by the one HTTP path, honouring ``Retry-After``.

A mapping that fails (a refusal, an approval request, retries exhausted) is
recorded with the names already written and the error, and the next mapping
goes on; nothing is deleted anywhere, so running again writes only what is
still missing or different.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from homelab_secrets.errors import UserError
from homelab_secrets.migrate import diff as diffs

if TYPE_CHECKING:
    from homelab_secrets.migrate.mapping import Mapping
    from homelab_secrets.providers.base import Fetched, WritableProvider


class Readable(Protocol):
    def fetch(self) -> Fetched: ...


@dataclass
class Outcome:
    """What happened to one mapping (names and fingerprints only)."""

    mapping: Mapping
    diff: diffs.Diff | None = None
    written: list[str] = field(default_factory=list)
    verified: bool = False
    source_fingerprint: str = ""
    target_fingerprint: str = ""
    mismatched: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.mismatched


def _chunks(names: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(names), size):
        yield names[start : start + size]


@dataclass
class Migration:
    """How to migrate (see the module docstring)."""

    open_source: Callable[[Mapping], AbstractContextManager[Readable]]
    open_target: Callable[[Mapping], AbstractContextManager[WritableProvider]]
    key: bytes
    dry_run: bool = False
    accept_trimmed: bool = False
    batch_size: int = 100
    say: Callable[[str], None] = lambda _line: None

    def run(self, mappings: Sequence[Mapping]) -> list[Outcome]:
        outcomes = []
        for mapping in mappings:
            outcome = Outcome(mapping)
            outcomes.append(outcome)
            try:
                self._one(mapping, outcome)
            except UserError as exc:
                outcome.error = exc.message
        return outcomes

    def _one(self, mapping: Mapping, outcome: Outcome) -> None:
        with self.open_source(mapping) as source:
            fetched = source.fetch().values
            values = {n: v for n, v in fetched.items() if not n.startswith(diffs.META_PREFIX)}
        with self.open_target(mapping) as target:
            outcome.diff = found = diffs.diff(values, dict(target.fetch().values))
            if self.dry_run:
                return
            names = found.to_write(self.accept_trimmed)
            for chunk in _chunks(names, self.batch_size):
                target.set_secrets({name: values[name] for name in chunk})
                outcome.written.extend(chunk)
                self.say(f"{mapping.label}: wrote {len(outcome.written)} of {len(names)}")
            back = dict(target.fetch().values)
        expected = found.expected(values, self.accept_trimmed)
        actual = {name: back[name] for name in expected if name in back}
        outcome.mismatched = diffs.mismatched(expected, back, self.key, expected)
        outcome.source_fingerprint = diffs.fingerprint(expected, self.key)
        outcome.target_fingerprint = diffs.fingerprint(actual, self.key)
        outcome.verified = not outcome.mismatched
