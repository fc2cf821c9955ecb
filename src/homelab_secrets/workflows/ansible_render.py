"""The job summary of an ``ansible-playbook`` run (check or apply) from a
:class:`~homelab_secrets.workflows.ansible_log.PlaybookRun`.

Counts and the recap first, then the changed tasks, then each task's
``--diff`` in a collapsed block, fitted to the limit (diffs are dropped from
the end first, and each is clipped to :data:`MAX_DIFF_LINES`).  The text must
already be redacted (:mod:`~homelab_secrets.workflows.redaction`): a diff
shows file contents, values included.  Check mode's blind spots are spelled
out: skipped tasks (``command``/``shell`` without ``check_mode`` support) and
results hidden by ``no_log``.
"""

from __future__ import annotations

from dataclasses import dataclass

from homelab_secrets.workflows.ansible_log import PlaybookRun, TaskRun
from homelab_secrets.workflows.markdown import Section, clip_lines, code, fenced, fit, html_code

MAX_DIFF_LINES = 400
MAX_DIFF_BYTES = 40_000
RECAP_COLUMNS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")


@dataclass(frozen=True)
class RunContext:
    playbook: str
    inventory: str = ""
    limit: str = ""
    check: bool = True
    environment: str = ""
    exit_code: int = 0


def _lead(run: PlaybookRun, ctx: RunContext) -> str:
    what = "check (--check --diff, nothing changed)" if ctx.check else "apply"
    text = f"### Ansible {what}: {code(ctx.playbook)}"
    if ctx.inventory:
        text += f" on {code(ctx.inventory)}"
    if ctx.limit:
        text += f", limit {code(ctx.limit)}"
    if ctx.environment:
        text += f" · environment {code(ctx.environment)}"
    text += "\n\n"
    verb = "would change" if ctx.check else "changed"
    if not run.complete:
        text += (
            f"**The run stopped before its recap** (exit code {ctx.exit_code}); see the run log.\n"
        )
    elif run.failed:
        text += f"**{run.failed} host failure(s)**; {run.changed} task result(s) {verb}.\n"
    elif run.changed:
        text += f"**{run.changed} task result(s) {verb}.**\n"
    else:
        text += "**No changes.**\n"
    notes = []
    if ctx.check and run.skipped:
        notes.append(
            f"{run.skipped} task result(s) were skipped: check mode cannot preview "
            "`command`/`shell`/`raw` tasks, which run for real on apply"
        )
    if run.censored:
        notes.append(f"{run.censored} result(s) hidden by `no_log`")
    if notes:
        text += "\n" + "".join(f"- {n}.\n" for n in notes)
    if run.recap:
        text += "\n| host | " + " | ".join(RECAP_COLUMNS) + " |\n"
        text += "| --- |" + " --- |" * len(RECAP_COLUMNS) + "\n"
        for host in run.recap:
            cells = " | ".join(str(host.get(c)) for c in RECAP_COLUMNS)
            text += f"| {code(host.host)} | {cells} |\n"
    return text


def _changed_section(run: PlaybookRun, check: bool) -> Section:
    rows = [
        f"| {code(t.name)} | {', '.join(code(h) for h in t.changed_hosts)} |\n"
        for t in run.tasks
        if t.changed_hosts
    ]
    title = "Tasks that would change" if check else "Tasks that changed"
    return Section(f"\n#### {title} ({len(rows)})\n\n| task | hosts |\n| --- | --- |\n", rows)


def _diff_rows(task: TaskRun) -> list[str]:
    rows = []
    for diff in task.diffs:
        body, clipped = clip_lines(diff, max_lines=MAX_DIFF_LINES, max_bytes=MAX_DIFF_BYTES)
        note = "\n*(diff clipped; the run log has all of it)*\n" if clipped else ""
        rows.append(
            f"<details><summary>{html_code(task.name)}</summary>\n\n"
            f"{fenced(body, 'diff')}{note}\n</details>\n"
        )
    return rows


def render(run: PlaybookRun, ctx: RunContext, *, limit: int) -> str:
    """The Markdown summary, at most ``limit`` bytes."""
    diffs = Section("\n#### Diffs\n\n", [row for t in run.tasks for row in _diff_rows(t)])

    def left_out(count: int) -> str:
        return (
            f"*{count} more row(s) or diff(s) are not shown here (size limit); "
            "the run log has them, masked.*"
        )

    return fit(
        _lead(run, ctx), [_changed_section(run, ctx.check), diffs], "", limit, left_out=left_out
    )
