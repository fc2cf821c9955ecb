"""The sync's memory of what it wrote, kept in GitHub next to the secrets.

Every scheduled run starts on a fresh runner, so the state lives only in
GitHub: in a **repository variable** of the target's repository (repository,
environment and Dependabot targets) or an **organization variable**
(organization targets; created with visibility ``selected`` and no
repository, so no workflow's ``vars`` context carries it).  Its name::

    HOMELAB_SECRETS_SYNC[_<NAME>]_STATE[_DEPENDABOT | _ENV_<ENVIRONMENT>]

(``<NAME>``: the ``name:`` of sync.yaml).  A state longer than one variable
holds (48 KB) continues in ``<name>_2``, ``<name>_3``, ...

What it holds, as compact JSON (see :func:`encode`): the target, the source
it was synced from (names only), an id of the HMAC key, and per secret name
the fingerprint (:func:`homelab_secrets.sync.plan.fingerprint`) and when
GitHub says it was written.  Nothing in it reveals a value to whoever can read
it: the fingerprints are keyed with a key only the sync holds.

Reading it (:func:`read_state`) never fails a run: a missing variable, a
torn or edited one (every part carries the SHA-256 of the whole) or one for
another target means "no state": every secret is written again and nothing is
pruned.  A state written from another source is *foreign*: that target is
refused (two syncs sharing one state would prune each other's secrets).
A state written with another key keeps its names (what the sync owns) but no
fingerprint compares: everything is written again.

After a run, :func:`next_records` keeps exactly what was written: failed
writes keep their name (if it was already this sync's) with no fingerprint,
so the next run writes them again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from homelab_secrets.sync.config import Target
from homelab_secrets.sync.plan import Record, TargetPlan

PREFIX = "HOMELAB_SECRETS_SYNC"
VERSION = 1
#: Bytes of state per variable (GitHub allows 48 KB per variable; the header
#: line and a margin stay under it).
PART_BYTES = 40_000
_HEADER = re.compile(r"homelab-secrets sync state v1 part (\d+)/(\d+) ([0-9a-f]{64})\Z")

Status = Literal["ok", "missing", "corrupt", "other-key", "foreign"]


def variable_name(target: Target, sync_name: str = "") -> str:
    """The variable holding ``target``'s state (its first part)."""
    base = f"{PREFIX}_{sync_name.upper()}_STATE" if sync_name else f"{PREFIX}_STATE"
    if target.scope == "environment":
        env = re.sub(r"[^A-Z0-9]+", "_", target.environment.upper()).strip("_")
        if env != target.environment.upper() or not env:
            # folded: keep names of distinct environments distinct
            env = f"{env}_{hashlib.sha256(target.environment.lower().encode()).hexdigest()[:6]}"
        return f"{base}_ENV_{env.lstrip('_').upper()}"
    if target.app == "dependabot":
        return f"{base}_DEPENDABOT"
    return base


def part_name(base: str, index: int) -> str:
    """Part 1 is ``base`` itself, then ``base_2``, ``base_3``, ..."""
    return base if index == 1 else f"{base}_{index}"


@dataclass(frozen=True)
class State:
    target: str  #: the target's key (:attr:`Target.key`)
    source: str  #: what was synced from (``doppler iac-conf-mgmt/prd``)
    key_id: str
    records: Mapping[str, Record] = field(default_factory=dict)


@dataclass(frozen=True)
class Loaded:
    """What reading the state found; see the module docstring."""

    status: Status
    #: usable records ({} unless ok or other-key; fingerprints blanked for other-key)
    records: Mapping[str, Record] = field(default_factory=dict)
    #: variables the state occupies now (to rewrite and to clean up)
    parts: int = 0
    note: str = ""
    source: str = ""  #: foreign: whose it is


# --------------------------------------------------------------------------- encoding


def _body(state: State) -> str:
    data = {
        "v": VERSION,
        "target": state.target,
        "source": state.source,
        "key": state.key_id,
        "secrets": {
            name: [rec.fingerprint, round(rec.written_at)]
            for name, rec in sorted(state.records.items())
        },
    }
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=True)


def encode(state: State) -> list[str]:
    """The variable values holding ``state``, part 1 first."""
    body = _body(state)
    digest = hashlib.sha256(body.encode("ascii")).hexdigest()
    chunks = [body[i : i + PART_BYTES] for i in range(0, len(body), PART_BYTES)] or [""]
    total = len(chunks)
    return [
        f"homelab-secrets sync state v1 part {i}/{total} {digest}\n{chunk}"
        for i, chunk in enumerate(chunks, 1)
    ]


def _split(value: str) -> tuple[int, int, str, str] | None:
    header, newline, chunk = value.partition("\n")
    match = _HEADER.match(header)
    if not newline or match is None:
        return None
    return int(match[1]), int(match[2]), match[3], chunk


def _records(data: Any) -> dict[str, Record] | None:
    if not isinstance(data, dict):
        return None
    out = {}
    for name, entry in data.items():
        if (
            not isinstance(name, str)
            or not isinstance(entry, list)
            or len(entry) != 2
            or not isinstance(entry[0], str)
            or not isinstance(entry[1], int)
            or isinstance(entry[1], bool)
        ):
            return None
        out[name.upper()] = Record(entry[0], float(entry[1]))
    return out


def read_state(
    get: Callable[[str], str | None],
    base: str,
    *,
    target_key: str,
    source: str,
    key_id: str,
) -> Loaded:
    """Read the state through ``get(variable name) -> value or None`` (see
    the module docstring for what each outcome means)."""
    first = get(base)
    if first is None:
        return Loaded("missing", note="no state yet: every secret is written")
    corrupt = "the state variable {} is unreadable ({}): every secret is written again"
    parsed = _split(first)
    if parsed is None or parsed[0] != 1 or parsed[1] < 1:
        return Loaded("corrupt", parts=1, note=corrupt.format(base, "not written by this sync"))
    _, total, digest, body = parsed
    for index in range(2, total + 1):
        value = get(part_name(base, index))
        part = _split(value) if value is not None else None
        if part is None or part[:3] != (index, total, digest):
            note = corrupt.format(base, f"part {index} of {total} is missing or from another run")
            return Loaded("corrupt", parts=index - 1, note=note)
        body += part[3]
    if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest:
        return Loaded("corrupt", parts=total, note=corrupt.format(base, "it was edited or torn"))
    try:
        data = json.loads(body)
    except ValueError:
        return Loaded("corrupt", parts=total, note=corrupt.format(base, "not JSON"))
    records = _records(data.get("secrets")) if isinstance(data, dict) else None
    if (
        records is None
        or data.get("v") != VERSION
        or not all(isinstance(data.get(k), str) for k in ("target", "source", "key"))
    ):
        return Loaded("corrupt", parts=total, note=corrupt.format(base, "unknown layout"))
    if data["target"] != target_key:
        why = f"it belongs to {data['target']}"
        return Loaded("corrupt", parts=total, note=corrupt.format(base, why))
    if data["source"] != source:
        return Loaded(
            "foreign",
            parts=total,
            source=data["source"],
            note=(
                f"the state variable {base} was written by a sync of {data['source']}, not "
                f"{source}: give this sync.yaml its own name: (its state then has its own "
                "variable), or, if it replaces that sync, delete the variable (every secret "
                "is then written again, and the old sync's names are no longer pruned)"
            ),
        )
    if data["key"] != key_id:
        blank = {name: Record("", rec.written_at) for name, rec in records.items()}
        note = "the sync key changed since the last run: every secret is written again"
        return Loaded("other-key", blank, parts=total, note=note)
    return Loaded("ok", records, parts=total)


# --------------------------------------------------------------------------- after a run


def next_records(
    previous: Mapping[str, Record],
    plan: TargetPlan,
    *,
    written: Mapping[str, float],
    deleted: Iterable[str] = (),
) -> dict[str, Record]:
    """The records to keep after applying ``plan``: ``written`` maps each name
    written to GitHub's time of the write; a planned write not in it failed
    (the name stays this sync's only if it was before, with no fingerprint);
    ``deleted`` names are gone.  Unchanged and stale names keep their record."""
    records = dict(previous)
    for name in plan.forgotten:
        records.pop(name, None)
    for name in deleted:
        records.pop(name, None)
    for change in plan.writes:
        if change.name in written:
            records[change.name] = Record(change.fingerprint, written[change.name])
        elif change.name in records:
            records[change.name] = Record("", records[change.name].written_at)
    return records


def state_writes(base: str, parts: list[str], existing: int) -> list[tuple[str, str | None]]:
    """(variable, value) to write, then (variable, None) to delete: the
    parts beyond the new state's end left from a longer one.  Later parts are
    written first, part 1 last: a reader never sees a header whose parts are
    not there yet (it would see the old part 1 and reject the mix: safe)."""
    ops: list[tuple[str, str | None]] = [
        (part_name(base, i), value) for i, value in reversed(list(enumerate(parts, 1)))
    ]
    ops += [(part_name(base, i), None) for i in range(len(parts) + 1, existing + 1)]
    return ops
