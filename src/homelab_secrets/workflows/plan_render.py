"""The plan summary (job summary) and the PR comment, from a
:class:`~homelab_secrets.workflows.tfplan.PlanDigest`.

Both show the same thing (counts first, then the changes, most dangerous
first: replacements, destructions, updates, creations, reads, forgets, moves
and imports, outputs); only the size limit and the "left out" hint differ.
Addresses, attribute and output names are code spans; no value is ever shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from homelab_secrets.workflows.markdown import Section, code, fit
from homelab_secrets.workflows.tfplan import OutputChange, PlanDigest, ResourceChange

SYMBOLS = {
    "replace": "-/+",
    "delete": "-",
    "update": "~",
    "create": "+",
    "read": "<=",
    "forget": "forget",
    "no-op": "=",
}
TITLES = {
    "replace": "Replace (destroy, then create)",
    "delete": "Destroy",
    "update": "Update in place",
    "create": "Create",
    "read": "Read during apply (data sources)",
    "forget": "Forget (removed from state, the object is kept)",
    "no-op": "Move or import only",
}
#: Terraform's ``action_reason`` values, in words.
REASONS = {
    "replace_because_tainted": "tainted",
    "replace_because_cannot_update": "cannot be updated in place",
    "replace_by_request": "replacement requested (-replace)",
    "replace_by_triggers": "replace_triggered_by",
    "delete_because_no_resource_config": "no longer in the configuration",
    "delete_because_no_module": "its module is no longer in the configuration",
    "delete_because_wrong_repetition": "count/for_each changed",
    "delete_because_count_index": "count index out of range",
    "delete_because_each_key": "for_each key removed",
    "delete_because_no_move_target": "the target of a moved block is missing",
    "read_because_config_unknown": "its configuration is known only after apply",
    "read_because_dependency_pending": "it depends on pending changes",
    "read_because_check_nested": "a check block reads it",
}
RESOURCE_TABLE = "|  | resource | changes |\n| --- | --- | --- |\n"
#: At most this many attribute names per row (then "+N more").
MAX_ATTRIBUTES = 8


@dataclass(frozen=True)
class PlanContext:
    """Where the plan comes from (all of it may be shown)."""

    tool: str = "terraform"
    working_directory: str = "."
    environment: str = ""
    commit: str = ""
    run_url: str = ""
    artifact: str = ""
    #: one sentence on what happens next (apply gate), or empty
    next_step: str = ""


def headline(d: PlanDigest) -> str:
    """Terraform's own words: ``2 to add, 1 to change, 0 to destroy``."""
    return f"{d.add} to add, {d.change} to change, {d.destroy} to destroy"


def _title(ctx: PlanContext) -> str:
    tool = "OpenTofu" if ctx.tool == "tofu" else "Terraform"
    where = code(ctx.working_directory or ".")
    env = f" · environment {code(ctx.environment)}" if ctx.environment else ""
    return f"### {tool} plan: {where}{env}\n\n"


def _extras(d: PlanDigest) -> list[str]:
    extras = []
    if d.imports:
        extras.append(f"{d.imports} to import")
    if d.moves:
        extras.append(f"{d.moves} moved")
    if d.counts.get("forget"):
        extras.append(f"{d.counts['forget']} to forget")
    if d.counts.get("read"):
        extras.append(f"{d.counts['read']} to read")
    if d.outputs:
        extras.append(f"{len(d.outputs)} output{'s' if len(d.outputs) != 1 else ''} to change")
    return extras


def _lead(d: PlanDigest, ctx: PlanContext) -> str:
    text = _title(ctx)
    if d.errored:
        text += "**The plan failed part-way**: what is listed is incomplete; see the run log.\n\n"
    if not d.has_changes:
        text += "**No changes.** The infrastructure matches the configuration.\n"
    else:
        extras = _extras(d)
        text += f"**{headline(d)}**" + (", " + ", ".join(extras) if extras else "") + ".\n"
    if d.drift:
        were = "was" if d.drift == 1 else "were"
        text += (
            f"\n{d.drift} resource{'s' if d.drift != 1 else ''} {were} changed outside "
            f"{'OpenTofu' if ctx.tool == 'tofu' else 'Terraform'} since the last apply.\n"
        )
    if ctx.next_step:
        text += f"\n{ctx.next_step}\n"
    return text


def _names(names: Sequence[str], forced: Sequence[str] = ()) -> str:
    shown = [code(n) + (" (forces replacement)" if n in forced else "") for n in names]
    extra = len(shown) - MAX_ATTRIBUTES
    if extra > 0:
        shown = [*shown[:MAX_ATTRIBUTES], f"+{extra} more"]
    return ", ".join(shown)


def _row(r: ResourceChange) -> str:
    notes = []
    if r.moved_from:
        notes.append(f"moved from {code(r.moved_from)}")
    if r.importing:
        notes.append("imported")
    if r.deposed:
        notes.append("deposed object")
    if r.reason:
        notes.append(REASONS.get(r.reason, code(r.reason)))
    attributes = sorted(set(r.attributes) | set(r.replace))
    if attributes:
        notes.append(_names(attributes, r.replace))
    return f"| {code(SYMBOLS[r.action])} | {code(r.address)} | {'; '.join(notes)} |\n"


def _output_row(o: OutputChange) -> str:
    flag = " (sensitive)" if o.sensitive else ""
    return f"| {code(SYMBOLS.get(o.action, '~'))} | {code(o.name)}{flag} |\n"


def sections(d: PlanDigest) -> list[Section]:
    """One table per action, in the order of :data:`TITLES`, then outputs."""
    out = []
    for action, title in TITLES.items():
        rows = [_row(r) for r in d.resources if r.action == action]
        if rows:
            head = f"\n#### {title} ({len(rows)})\n\n{RESOURCE_TABLE}"
            out.append(Section(head, rows))
    if d.outputs:
        head = f"\n#### Outputs ({len(d.outputs)})\n\n|  | output |\n| --- | --- |\n"
        out.append(Section(head, [_output_row(o) for o in d.outputs]))
    return out


def _footer(d: PlanDigest, ctx: PlanContext) -> str:
    bits = []
    if d.tool_version:
        bits.append(f"{'OpenTofu' if ctx.tool == 'tofu' else 'Terraform'} {d.tool_version}")
    if ctx.commit:
        bits.append(f"commit {code(ctx.commit[:12])}")
    if ctx.artifact:
        bits.append(f"sealed plan: artifact {code(ctx.artifact)}")
    if ctx.run_url:
        bits.append(f"[workflow run]({ctx.run_url})")
    return "\n<sub>" + " · ".join(bits) + "</sub>\n" if bits else ""


def render(
    d: PlanDigest,
    ctx: PlanContext,
    *,
    limit: int,
    marker: str = "",
    full_list_hint: str = "the job summary of the workflow run lists them all",
) -> str:
    """The Markdown document, at most ``limit`` bytes; ``marker`` (an HTML
    comment) goes first when given (how the PR comment is found again)."""
    top = (marker + "\n" if marker else "") + _lead(d, ctx)

    def left_out(count: int) -> str:
        things = "change is" if count == 1 else "changes are"
        return f"*{count} more {things} not shown here (size limit); {full_list_hint}.*"

    return fit(top, sections(d), _footer(d, ctx), limit, left_out=left_out)
