"""What a migration did (or, dry, would do): names, counts and
fingerprints, never a value; as text or JSON; and whether it is complete."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from homelab_secrets.migrate.runner import Outcome


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def held(outcome: Outcome, accept_trimmed: bool) -> list[str]:
    """Names not migrated because Infisical would trim them."""
    if accept_trimmed or outcome.diff is None:
        return []
    waiting = {*outcome.diff.create, *outcome.diff.update}
    return [name for name in outcome.diff.trimmed if name in waiting]


def complete(outcomes: Sequence[Outcome], accept_trimmed: bool) -> bool:
    return all(o.ok and not held(o, accept_trimmed) for o in outcomes)


def text(outcomes: Sequence[Outcome], *, dry_run: bool, accept_trimmed: bool) -> str:
    verb = "would " if dry_run else ""
    lines = []
    for outcome in outcomes:
        lines.append(outcome.mapping.label)
        d = outcome.diff
        if d is not None:
            for label, names in (("create", d.create), ("update", d.update)):
                if names:
                    lines.append(f"  {verb}{label} {len(names)}: {_names(names)}")
            lines.append(f"  unchanged {len(d.unchanged)}")
            waiting = held(outcome, accept_trimmed)
            if waiting:
                lines.append(
                    f"  not migrated, Infisical would trim their whitespace ({len(waiting)}; fix "
                    f"them in Doppler, or --accept-trimmed): {_names(waiting)}"
                )
            elif d.trimmed and accept_trimmed:
                lines.append(
                    f"  stored trimmed, as accepted ({len(d.trimmed)}): {_names(d.trimmed)}"
                )
            if d.references:
                lines.append(
                    f"  hold ${{...}}, which Infisical expands when read with expansion "
                    f"({len(d.references)}): {_names(d.references)}"
                )
            if d.extra:
                lines.append(f"  only in Infisical, left alone ({len(d.extra)}): {_names(d.extra)}")
        if not dry_run and (outcome.written or outcome.error):
            lines.append(f"  written {len(outcome.written)}")
        if outcome.verified:
            lines.append(
                f"  verified by reading back: fingerprint {outcome.source_fingerprint} "
                f"(Doppler) = {outcome.target_fingerprint} (Infisical)"
            )
        if outcome.mismatched:
            lines.append(
                f"  DIFFERENT after writing ({len(outcome.mismatched)}): "
                f"{_names(outcome.mismatched)}"
            )
        if outcome.error:
            lines.append(f"  FAILED: {outcome.error}")
    failed = sum(1 for o in outcomes if not o.ok)
    state = (
        "dry run, nothing written"
        if dry_run
        else (
            "complete"
            if complete(outcomes, accept_trimmed)
            else "NOT complete: run it again once fixed"
        )
    )
    lines.append(f"{len(outcomes)} mapping(s), {failed} failed: {state}")
    return "\n".join(lines) + "\n"


def as_json(outcomes: Sequence[Outcome], *, dry_run: bool, accept_trimmed: bool) -> str:
    items: list[dict[str, Any]] = []
    for outcome in outcomes:
        d = outcome.diff
        items.append(
            {
                "from": vars(outcome.mapping.source),
                "to": vars(outcome.mapping.target),
                "create": list(d.create) if d else [],
                "update": list(d.update) if d else [],
                "unchanged": len(d.unchanged) if d else 0,
                "trimmed": list(d.trimmed) if d else [],
                "not_migrated_trimmed": held(outcome, accept_trimmed),
                "references": list(d.references) if d else [],
                "only_in_target": list(d.extra) if d else [],
                "written": outcome.written,
                "verified": outcome.verified,
                "source_fingerprint": outcome.source_fingerprint,
                "target_fingerprint": outcome.target_fingerprint,
                "mismatched": outcome.mismatched,
                "error": outcome.error,
            }
        )
    body = {
        "dry_run": dry_run,
        "complete": not dry_run and complete(outcomes, accept_trimmed),
        "mappings": items,
    }
    return json.dumps(body, indent=2) + "\n"
