"""An ``ansible-playbook`` run, read back from its default (text) output: the
tasks with their per-host results, the ``--diff`` blocks, the play recap.

Pure: text in, :class:`PlaybookRun` out.  Error payloads (``fatal: [h]:
FAILED! => {...}``) are not kept: they can quote variables.  Lines Ansible
prints for results hidden by ``no_log`` are counted, so the summary can say
so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_HEADER = re.compile(r"^(TASK|RUNNING HANDLER|PLAY|PLAY RECAP)(?: \[(.*)\])? \*+\s*$")
_RESULT = re.compile(
    r"^(ok|changed|skipping|fatal|failed|unreachable|rescued|ignored): \[([^\]]+)\]"
)
_RECAP = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$")
_CENSORED = "'no_log: true' was specified"
#: result words ranked: a host's result for a task is its worst one (loops print several)
_RANK = {
    "ok": 0,
    "skipping": 1,
    "changed": 2,
    "rescued": 3,
    "ignored": 3,
    "failed": 4,
    "fatal": 4,
    "unreachable": 5,
}


@dataclass
class TaskRun:
    name: str
    handler: bool = False
    #: host -> ok | changed | skipping | failed | unreachable | ...
    results: dict[str, str] = field(default_factory=dict)
    #: ``--diff`` blocks, as printed
    diffs: list[str] = field(default_factory=list)

    @property
    def changed_hosts(self) -> list[str]:
        return [h for h, r in self.results.items() if r == "changed"]


@dataclass(frozen=True)
class HostRecap:
    host: str
    counts: dict[str, int]

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)


@dataclass
class PlaybookRun:
    tasks: list[TaskRun] = field(default_factory=list)
    recap: list[HostRecap] = field(default_factory=list)
    censored: int = 0  #: results hidden by no_log

    @property
    def changed(self) -> int:
        return sum(r.get("changed") for r in self.recap)

    @property
    def failed(self) -> int:
        return sum(r.get("failed") + r.get("unreachable") for r in self.recap)

    @property
    def skipped(self) -> int:
        return sum(r.get("skipped") for r in self.recap)

    @property
    def complete(self) -> bool:
        """Whether the run got to its recap (else it stopped early)."""
        return bool(self.recap)


def _is_diff_start(line: str) -> bool:
    return line.startswith(("--- before", "+++ after")) or line.startswith("--- ")


def parse(text: str) -> PlaybookRun:
    """Read a run's output (see the module docstring)."""
    run = PlaybookRun()
    task: TaskRun | None = None
    in_recap = False
    diff: list[str] | None = None
    for raw in text.splitlines():
        line = _ANSI.sub("", raw).rstrip("\r")
        header = _HEADER.match(line)
        if header:
            if task is not None and diff:
                task.diffs.append("\n".join(diff).rstrip("\n") + "\n")
            diff = None
            kind, name = header[1], header[2] or ""
            in_recap = kind == "PLAY RECAP"
            if kind in ("TASK", "RUNNING HANDLER"):
                task = TaskRun(name=name, handler=kind == "RUNNING HANDLER")
                run.tasks.append(task)
            else:
                task = None
            continue
        if _CENSORED in line:
            run.censored += 1
        if in_recap:
            recap = _RECAP.match(line.strip())
            if recap:
                counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", recap[2])}
                run.recap.append(HostRecap(recap[1], counts))
            continue
        if task is None:
            continue
        result = _RESULT.match(line)
        if result:
            if diff:
                task.diffs.append("\n".join(diff).rstrip("\n") + "\n")
            diff = None
            word, host = result[1], result[2].split(" -> ")[0].strip()
            previous = task.results.get(host)
            if previous is None or _RANK.get(word, 0) >= _RANK.get(previous, 0):
                task.results[host] = word
            continue
        if diff is None and _is_diff_start(line):
            diff = [line]
        elif diff is not None:
            diff.append(line)
    if task is not None and diff:
        task.diffs.append("\n".join(diff).rstrip("\n") + "\n")
    return run
