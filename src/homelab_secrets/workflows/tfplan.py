"""A saved plan, as ``terraform show -json`` (or ``tofu show -json``) prints it,
reduced to what a reviewer reads: which resources are created, changed,
replaced, destroyed, read, imported, moved or forgotten, which attributes an
update touches, which outputs change.  Never a value.

:func:`digest` is pure (JSON in, :class:`PlanDigest` out).
:func:`sensitive_strings` lists the plan's values Terraform itself marks as
sensitive (variables declared ``sensitive``, attributes and outputs), for
:mod:`~homelab_secrets.workflows.redaction`: the summary is built without
values, and whatever might still slip through an address is replaced.

The format is Terraform's "JSON output format" (``format_version`` 1.x), which
OpenTofu prints too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homelab_secrets.errors import ExitCode, UserError

#: How each action is counted in Terraform's "Plan: X to add, Y to change, Z to
#: destroy" line (a replacement is one add and one destroy).
ACTIONS = ("replace", "delete", "update", "create", "read", "forget", "no-op")


@dataclass(frozen=True)
class ResourceChange:
    """One resource instance in the plan.

    ``action`` is one of :data:`ACTIONS`; ``attributes`` the top-level
    attribute names an update or replacement changes (names only); ``replace``
    the attributes that force the replacement; ``moved_from`` the previous
    address of a moved resource; ``importing`` whether it is imported;
    ``reason`` Terraform's reason for a replacement, deletion or read.
    """

    address: str
    action: str
    attributes: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    moved_from: str | None = None
    importing: bool = False
    deposed: bool = False
    #: Terraform's ``action_reason`` (``replace_because_tainted``, ...), if any
    reason: str = ""


@dataclass(frozen=True)
class OutputChange:
    name: str
    action: str
    sensitive: bool


@dataclass(frozen=True)
class PlanDigest:
    """What a plan does (see the module docstring)."""

    tool_version: str
    resources: tuple[ResourceChange, ...] = ()
    outputs: tuple[OutputChange, ...] = ()
    drift: int = 0  #: resources changed outside Terraform since the last apply
    errored: bool = False
    applyable: bool | None = None  #: Terraform's own verdict, when it gives one
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def add(self) -> int:
        return self.counts.get("create", 0) + self.counts.get("replace", 0)

    @property
    def change(self) -> int:
        return self.counts.get("update", 0)

    @property
    def destroy(self) -> int:
        return self.counts.get("delete", 0) + self.counts.get("replace", 0)

    @property
    def imports(self) -> int:
        return sum(1 for r in self.resources if r.importing)

    @property
    def moves(self) -> int:
        return sum(1 for r in self.resources if r.moved_from is not None)

    @property
    def has_changes(self) -> bool:
        """Whether applying the plan would do anything (resources, state-only
        moves and imports, or outputs)."""
        if self.applyable is not None:
            return self.applyable
        return any(r.action != "no-op" or r.importing or r.moved_from for r in self.resources) or (
            any(o.action != "no-op" for o in self.outputs)
        )


def load(text: str | bytes, *, where: str = "plan JSON") -> Mapping[str, Any]:
    """Parse ``show -json`` output; a clear error if it is not a plan."""
    try:
        data = json.loads(text)
    except ValueError:
        raise UserError(
            f"{where}: not JSON (give the output of `terraform show -json PLANFILE`)",
            ExitCode.COULD_NOT_READ_INPUT_FILE,
            path=where,
        ) from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise UserError(
            f"{where}: not a plan in Terraform's JSON format (no format_version)",
            ExitCode.COULD_NOT_READ_INPUT_FILE,
            path=where,
        )
    major = str(data["format_version"]).split(".", 1)[0]
    if major != "1":
        raise UserError(
            f"{where}: plan JSON format {data['format_version']} is not supported (1.x is)",
            ExitCode.COULD_NOT_READ_INPUT_FILE,
            path=where,
        )
    return data


def action_of(actions: Sequence[str]) -> str:
    """Terraform's action list (``["delete", "create"]``) as one word."""
    kinds = set(actions)
    if {"delete", "create"} <= kinds:
        return "replace"
    if len(actions) == 1 and actions[0] in ACTIONS:
        return actions[0]
    if "forget" in kinds:
        return "forget"
    if "delete" in kinds:
        return "delete"
    if "create" in kinds:
        return "create"
    if "update" in kinds:
        return "update"
    return "no-op"


def _changed_attributes(change: Mapping[str, Any]) -> tuple[str, ...]:
    before = change.get("before")
    after = change.get("after")
    unknown = change.get("after_unknown")
    names: set[str] = set()
    if isinstance(before, dict) and isinstance(after, dict):
        for key in set(before) | set(after):
            if before.get(key) != after.get(key):
                names.add(str(key))
    if isinstance(unknown, dict) and isinstance(before, dict):
        names.update(str(k) for k, v in unknown.items() if v and k in before)
    return tuple(sorted(names))


def _path_head(path: Any) -> str | None:
    if isinstance(path, list) and path:
        return str(path[0])
    return None


def _resource(entry: Mapping[str, Any]) -> ResourceChange:
    change = entry.get("change") or {}
    action = action_of(list(change.get("actions") or ["no-op"]))
    attributes = _changed_attributes(change) if action in ("update", "replace") else ()
    replace = sorted({h for h in map(_path_head, entry.get("replace_paths") or []) if h})
    return ResourceChange(
        address=str(entry.get("address", "?")),
        action=action,
        attributes=attributes,
        replace=tuple(replace),
        moved_from=entry.get("previous_address") or None,
        importing=bool(change.get("importing")),
        deposed=bool(entry.get("deposed")),
        reason=str(entry.get("action_reason") or ""),
    )


def digest(plan: Mapping[str, Any]) -> PlanDigest:
    """The plan as a :class:`PlanDigest` (no values kept)."""
    resources = []
    counts: dict[str, int] = {}
    for entry in plan.get("resource_changes") or []:
        if not isinstance(entry, dict):
            continue
        item = _resource(entry)
        if item.action == "no-op" and not item.importing and item.moved_from is None:
            continue
        resources.append(item)
        counts[item.action] = counts.get(item.action, 0) + 1
    outputs = []
    for name, entry in sorted((plan.get("output_changes") or {}).items()):
        change = entry if isinstance(entry, dict) else {}
        action = action_of(list(change.get("actions") or ["no-op"]))
        if action == "no-op":
            continue
        sensitive = bool(change.get("before_sensitive") or change.get("after_sensitive"))
        outputs.append(OutputChange(str(name), action, sensitive))
    applyable = plan.get("applyable")
    return PlanDigest(
        tool_version=str(plan.get("terraform_version", "")),
        resources=tuple(resources),
        outputs=tuple(outputs),
        drift=len(plan.get("resource_drift") or []),
        errored=bool(plan.get("errored")),
        applyable=applyable if isinstance(applyable, bool) else None,
        counts=counts,
    )


# --------------------------------------------------------------------------- sensitive values


def string_leaves(value: Any) -> Iterator[str]:
    """Every string anywhere in JSON-like data (dict values, list items)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from string_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_leaves(item)
    elif isinstance(value, str):
        yield value


def _marked(value: Any, mask: Any) -> Iterator[str]:
    """The string leaves of ``value`` that ``mask`` (a ``*_sensitive`` tree:
    ``true``, or a dict/list of the same shape) marks as sensitive."""
    if mask is True:
        yield from string_leaves(value)
    elif isinstance(mask, dict) and isinstance(value, dict):
        for key, sub in mask.items():
            if key in value:
                yield from _marked(value[key], sub)
    elif isinstance(mask, list) and isinstance(value, list):
        for item, sub in zip(value, mask, strict=False):
            yield from _marked(item, sub)


def sensitive_strings(plan: Mapping[str, Any]) -> set[str]:
    """Every string value the plan marks as sensitive (non-blank)."""
    found: set[str] = set()
    config_vars = ((plan.get("configuration") or {}).get("root_module") or {}).get(
        "variables"
    ) or {}
    for name, entry in (plan.get("variables") or {}).items():
        declared = config_vars.get(name) or {}
        if isinstance(declared, dict) and declared.get("sensitive"):
            found.update(string_leaves((entry or {}).get("value")))
    for entry in plan.get("resource_changes") or []:
        change = (entry or {}).get("change") or {}
        found.update(_marked(change.get("before"), change.get("before_sensitive")))
        found.update(_marked(change.get("after"), change.get("after_sensitive")))
    for entry in (plan.get("output_changes") or {}).values():
        change = entry or {}
        found.update(_marked(change.get("before"), change.get("before_sensitive")))
        found.update(_marked(change.get("after"), change.get("after_sensitive")))
    return {s for s in found if s.strip()}
