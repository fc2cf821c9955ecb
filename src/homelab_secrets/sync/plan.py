"""The pure core of the sync: what each target should hold, whether it may,
and what to write to get there.  No I/O; values in, names and fingerprints out.

* :func:`desired` — a target's name -> value map from the source values
  (``include`` globs, then ``exclude`` globs, then ``rename``; names are
  upper-cased, as GitHub stores them).  An include glob that matches nothing,
  a rename of a name that is not selected and an empty selection are
  problems (a typo must not silently drop a secret, nor prune empty a target).
* :func:`check` — GitHub's rules, every violation at once: names of
  ``[A-Za-z0-9_]`` not starting with a digit or ``GITHUB_``, unique
  case-insensitively; values of at most 48 KB.  :func:`check_counts`, once
  the plan is known: how many secrets a repository / environment (100) or
  organization (1,000) may hold, counting secrets this sync does not own.
* :func:`fingerprint` — ``HMAC-SHA256(key, target, name, settings, value)``,
  truncated to 128 bits, base64url: it tells whether a value changed without
  saying anything about it to whoever reads the state; bound to the target and
  the name, so equal values elsewhere do not show as equal.
* :func:`plan_target` — add / update / unchanged / delete per target, from the
  desired fingerprints, what GitHub lists (names and ``updated_at``; it never
  returns values) and the recorded state.  A name is *unchanged* only when
  GitHub still has it, the state recorded the same fingerprint for it, and
  GitHub's ``updated_at`` is not later than when this sync wrote it (a
  secret edited or re-created by hand is written again).  No usable state
  means every secret is written.  Deletes only touch names the state records
  as written by this sync, and only with ``prune``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from homelab_secrets.sync.config import Target

#: GitHub's limit on a secret value (the "Secrets reference": 48 KB).
MAX_VALUE_BYTES = 48 * 1024
#: Secrets a store may hold: repository and environment 100, organization 1,000.
LIMITS = {"repository": 100, "environment": 100, "organization": 1000}
#: A workflow sees only the first 100 organization secrets (alphabetically).
ORG_VISIBLE = 100

_CHARSET = re.compile(r"[A-Za-z0-9_]+\Z")
_FP_CONTEXT = b"homelab-secrets sync fingerprint v1"
_KEY_ID_CONTEXT = b"homelab-secrets sync key id v1"

Action = Literal["add", "update", "delete"]


@dataclass(frozen=True)
class Problem:
    """Why the run may not write: a target, and a message naming names, never values."""

    target: str
    message: str

    def __str__(self) -> str:
        return f"{self.target}: {self.message}"


# --------------------------------------------------------------------------- fingerprints


def _mac(key: bytes, *parts: str | bytes) -> bytes:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        mac.update(len(data).to_bytes(4, "big"))  # length-prefixed: no two inputs collide
        mac.update(data)
    return mac.digest()


def fingerprint(key: bytes, target_key: str, name: str, value: str, settings: str = "") -> str:
    """The value's fingerprint in this target under this name (see the module docstring).

    ``settings`` holds what else a write sets (an organization secret's
    visibility and repositories): when it changes, the secret is written again.
    """
    digest = _mac(key, _FP_CONTEXT, target_key, name.upper(), settings, value)
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def key_id(key: bytes) -> str:
    """Names the HMAC key (so a changed key can be told apart); reveals nothing of it."""
    return _mac(key, _KEY_ID_CONTEXT).hex()[:16]


# --------------------------------------------------------------------------- desired values


@dataclass(frozen=True, repr=False)
class Selection:
    """What one target gets: ``NAME -> value`` (upper-cased names) and, per
    name, the source name it came from.  Its repr shows names only."""

    values: Mapping[str, str]
    origins: Mapping[str, str]

    def __repr__(self) -> str:
        return f"Selection(names={sorted(self.values)!r})"


def desired(
    target: Target, values: Mapping[str, str], source: str
) -> tuple[Selection, list[Problem]]:
    """What ``target`` should hold, and what is wrong with the selection itself."""
    from homelab_secrets.secrets.fetched import match_names

    chosen, unmatched = match_names(values, target.include, target.exclude)
    problems = [
        Problem(target.name, f"include {pattern} matches no secret in {source}")
        for pattern in unmatched
    ]
    for old in target.rename:
        if old not in chosen:
            problems.append(
                Problem(target.name, f"rename: {old} is not among the secrets synced here")
            )
    out: dict[str, str] = {}
    origin: dict[str, str] = {}
    for name in chosen:
        new = target.rename.get(name, name).upper()
        if new in origin:
            problems.append(
                Problem(
                    target.name,
                    f"{origin[new]} and {name} both become {new} (GitHub names are "
                    "case-insensitive): rename or exclude one",
                )
            )
            continue
        origin[new] = name
        out[new] = values[name]
    if not out and not problems:
        # with prune, an empty selection would delete every secret the sync wrote
        problems.append(
            Problem(target.name, f"no secret of {source} is left to sync here (see exclude)")
        )
    return Selection(out, origin), problems


def name_problem(name: str) -> str | None:
    """What GitHub would refuse about a secret name, or None."""
    if not _CHARSET.match(name):
        return "only letters, digits and _ are allowed"
    if name[0].isdigit():
        return "must not start with a digit"
    if name.upper().startswith("GITHUB_"):
        return "must not start with GITHUB_ (reserved by GitHub)"
    return None


def check(target: Target, selection: Selection) -> list[Problem]:
    """Names and sizes of the values ``target`` would get (every problem)."""
    problems = []
    for name, value in selection.values.items():
        why = name_problem(name)
        if why is not None:
            source_name = selection.origins.get(name, name)
            fix = (
                f" (renamed from {source_name}: change the rename)"
                if source_name in target.rename
                else f": rename it (rename: {{{source_name}: NEW_NAME}}) or exclude it"
            )
            problems.append(Problem(target.name, f"{name}: {why}{fix}"))
        size = len(value.encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            problems.append(
                Problem(
                    target.name,
                    f"{name}: the value is {size} bytes, more than GitHub's 48 KB "
                    f"({MAX_VALUE_BYTES} bytes): store a file encrypted in the repository "
                    "(sops) and keep only its key as a secret",
                )
            )
    return problems


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class RemoteSecret:
    """What GitHub lists for a secret: never its value."""

    updated_at: float  #: epoch seconds
    visibility: str = ""  #: organization secrets


@dataclass(frozen=True)
class Record:
    """What the state remembers of one secret this sync wrote."""

    fingerprint: str  #: "" when the write's outcome is unknown: written again next run
    written_at: float  #: epoch seconds, GitHub's clock (the write's Date header)


@dataclass(frozen=True)
class Change:
    name: str
    action: Action
    reason: str
    fingerprint: str = ""  #: add/update: what the state records once written


@dataclass(frozen=True)
class TargetPlan:
    """What one target needs.  Names and reasons only: safe to print."""

    target: str
    changes: tuple[Change, ...] = ()
    unchanged: tuple[str, ...] = ()
    #: written by this sync, gone from the source, kept because prune is off
    stale: tuple[str, ...] = ()
    #: recorded in the state but already gone from GitHub: just forgotten
    forgotten: tuple[str, ...] = ()
    #: secrets in GitHub this sync did not write (never touched)
    unmanaged: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def by_action(self, action: Action) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    @property
    def writes(self) -> list[Change]:
        return [c for c in self.changes if c.action != "delete"]

    @property
    def deletes(self) -> list[Change]:
        return self.by_action("delete")


def plan_target(
    target: Target,
    fingerprints: Mapping[str, str],
    remote: Mapping[str, RemoteSecret],
    records: Mapping[str, Record],
    *,
    visibility: str = "",
    notes: Iterable[str] = (),
) -> TargetPlan:
    """Compare (see the module docstring).  ``fingerprints``: desired NAME ->
    fingerprint; ``remote``: NAME -> what GitHub lists; ``records``: the
    state's NAME -> record (empty when there is no usable state);
    ``visibility``: what an organization secret should have."""
    remote = {k.upper(): v for k, v in remote.items()}
    changes: list[Change] = []
    unchanged: list[str] = []
    for name in sorted(fingerprints):
        fp = fingerprints[name]
        there = remote.get(name)
        record = records.get(name)
        if there is None:
            reason = "new" if record is None else "missing in GitHub (deleted by hand?)"
            changes.append(Change(name, "add", reason, fp))
        elif record is None:
            changes.append(Change(name, "update", "not written by this sync before", fp))
        elif record.fingerprint != fp:
            changes.append(Change(name, "update", _changed(record), fp))
        elif there.updated_at > record.written_at:
            changes.append(Change(name, "update", "changed in GitHub since the last sync", fp))
        elif visibility and there.visibility and there.visibility != visibility:
            changes.append(Change(name, "update", "visibility changed in GitHub", fp))
        else:
            unchanged.append(name)
    stale: list[str] = []
    forgotten: list[str] = []
    for name in sorted(set(records) - set(fingerprints)):
        if name not in remote:
            forgotten.append(name)
        elif target.prune:
            changes.append(Change(name, "delete", "no longer in the source (prune)"))
        else:
            stale.append(name)
    unmanaged = sorted(set(remote) - set(fingerprints) - set(records))
    return TargetPlan(
        target=target.name,
        changes=tuple(changes),
        unchanged=tuple(unchanged),
        stale=tuple(stale),
        forgotten=tuple(forgotten),
        unmanaged=tuple(unmanaged),
        notes=tuple(notes),
    )


def _changed(record: Record) -> str:
    return "last write not confirmed" if not record.fingerprint else "value changed"


def check_counts(target: Target, plan: TargetPlan, remote: Mapping[str, RemoteSecret]) -> list[str]:
    """Problems with how many secrets ``target`` would hold after ``plan``."""
    after = {k.upper() for k in remote} | {c.name for c in plan.by_action("add")}
    after -= {c.name for c in plan.deletes}
    limit = LIMITS[target.scope]
    if len(after) <= limit:
        return []
    others = len(plan.unmanaged) + len(plan.stale)
    kind = {"repository": "a repository", "environment": "an environment"}.get(
        target.scope, "an organization"
    )
    return [
        f"would hold {len(after)} secrets ({others} of them not synced from this source), "
        f"more than the {limit} GitHub allows in {kind}"
    ]


def org_notes(target: Target, plan: TargetPlan, remote: Mapping[str, RemoteSecret]) -> list[str]:
    """Warnings that do not stop the run."""
    total = len({k.upper() for k in remote} | {c.name for c in plan.by_action("add")})
    if target.scope == "organization" and total > ORG_VISIBLE:
        return [
            f"{total} organization secrets: a workflow sees only the first {ORG_VISIBLE} "
            "(alphabetically) of those shared with its repository"
        ]
    return []
