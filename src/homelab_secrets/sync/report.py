"""What a sync run tells people: names, counts and reasons, never a value.

* :func:`render_text` — the terminal table: one row of counts per target,
  then per target each name with its action (add / update / delete, and
  what happened to it in a real run) and why; unchanged names on one line.
* :func:`summary_markdown` — the same for ``$GITHUB_STEP_SUMMARY``; built from
  cells that :func:`homelab_secrets.gha.md_table` escapes (the caller passes it
  in, so this module does not know Actions).
* :class:`Progress` — a one-line bar on stderr, only when stderr is a terminal.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

from homelab_secrets.sync.plan import Action
from homelab_secrets.sync.runner import SyncReport, TargetRun

HEADERS = ("target", "add", "update", "unchanged", "delete", "not synced", "failed")
Table = Callable[[Sequence[str], Iterable[Sequence[str]]], str]


def _count(run: TargetRun, action: Action) -> str:
    if run.plan is None:
        return "-"
    return str(len(run.plan.by_action(action)))


def count_rows(report: SyncReport) -> list[list[str]]:
    rows = []
    for run in report.runs:
        plan = run.plan
        failed = str(len(run.failed) + bool(run.state_error) + bool(run.error))
        rows.append(
            [
                run.target.name,
                _count(run, "add"),
                _count(run, "update"),
                str(len(plan.unchanged)) if plan else "-",
                _count(run, "delete"),
                str(len(plan.unmanaged) + len(plan.stale)) if plan else "-",
                failed if not report.dry_run else "-",
            ]
        )
    return rows


def _outcome(run: TargetRun, name: str, action: str, dry_run: bool) -> str:
    if dry_run:
        return "planned"
    if name in run.failed:
        return "FAILED"
    if name in run.written or name in run.deleted:
        return "done"
    if name in run.postponed:
        return "postponed"
    return "not run"


def detail_rows(run: TargetRun, dry_run: bool) -> list[list[str]]:
    """[name, action, outcome, why] per change of one target."""
    if run.plan is None:
        return []
    rows = []
    for change in run.plan.changes:
        outcome = _outcome(run, change.name, change.action, dry_run)
        why = change.reason
        if change.name in run.failed:
            why = run.failed[change.name]
        elif change.name in run.postponed:
            why = f"{change.reason}; postponed: this run had a failure, so nothing is deleted"
        rows.append([change.name, change.action, outcome, why])
    for name in run.plan.stale:
        rows.append([name, "keep", "-", "gone from the source; prune is off"])
    return rows


def _text_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(r) for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
    lines = []
    for row in [list(headers), *rows]:
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _wrap(label: str, names: Sequence[str]) -> list[str]:
    text = f"{label}: " + ", ".join(names)
    return textwrap.wrap(text, width=100, initial_indent="  ", subsequent_indent="    ")


def render_text(report: SyncReport) -> str:
    """The plan / result for a terminal or log (see the module docstring)."""
    mode = "dry run: nothing written" if report.dry_run else "sync"
    out = [f"{report.source} -> {len(report.runs)} target(s) ({mode})\n\n"]
    out.append(_text_table(HEADERS, count_rows(report)))
    for run in report.runs:
        if run.plan is None:
            continue
        lines = [f"\n{run.target.name}"]
        lines += [f"  note: {note}" for note in run.plan.notes]
        width = max((len(c.name) for c in run.plan.changes), default=0)
        for name, action, outcome, why in detail_rows(run, report.dry_run):
            shown = "" if outcome in ("planned", "-") else f" [{outcome}]"
            lines.append(f"  {action:<6} {name:<{width}}  {why}{shown}")
        if run.plan.unchanged:
            lines += _wrap(f"{len(run.plan.unchanged)} unchanged", run.plan.unchanged)
        if run.plan.unmanaged:
            lines += _wrap("not synced by this source (left alone)", run.plan.unmanaged)
        if run.state_error:
            lines.append(f"  state: FAILED: {run.state_error}")
        out.append("\n".join(lines) + "\n")
    return "".join(out)


def summary_markdown(report: SyncReport, table: Table) -> str:
    """Markdown for the job summary; ``table`` renders escaped table cells."""
    title = "dry run (nothing written)" if report.dry_run else "sync"
    out = [f"### homelab-secrets sync: {title}\n\n", table(["source"], [[report.source]]), "\n"]
    out.append(table(HEADERS, count_rows(report)))
    if report.problems:
        out.append(
            f"\n**{len(report.problems)} problem(s) found before writing: nothing was written "
            "to any target.**\n\n"
        )
        out.append(table(["target", "problem"], [[p.target, p.message] for p in report.problems]))
    for run in report.runs:
        rows = detail_rows(run, report.dry_run)
        if run.plan is None or not (rows or run.plan.unchanged or run.plan.notes):
            continue
        out.append(f"\n<details><summary>{_html(run.target.name)}</summary>\n\n")
        if rows:
            out.append(table(["name", "action", "outcome", "why"], rows))
        extra = [["note", n] for n in run.plan.notes]
        if run.plan.unchanged:
            extra.append(["unchanged", ", ".join(run.plan.unchanged)])
        if run.state_error:
            extra.append(["state", f"FAILED: {run.state_error}"])
        if extra:
            out.append("\n" + table(["", ""], extra))
        out.append("\n</details>\n")
    return "".join(out)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Progress:
    """``sync: [#####.....] 12/40 writes`` on a terminal; silent elsewhere
    (a CI log must not fill with carriage returns)."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty()) if enabled is None else enabled
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        filled = round(30 * done / total)
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\rsync: [{bar}] {done}/{total} writes")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
