"""One sync run, in phases, so that a problem found anywhere stops it before
anything is written, and a failure while writing never costs a secret.

1. **select**: each target's values from the source (:func:`plan.desired`),
   checked against GitHub's rules (:func:`plan.check`);
2. **read** (concurrently, ``limits.concurrency`` targets at a time): the
   state, the secret list, repository ids; a target that cannot be read (no
   such repository, a token without access) is a problem like any other;
3. **plan** every target (:func:`plan.plan_target`) and check the counts.
   Any problem so far: every one is reported and **nothing is written to any
   target**.  ``dry_run`` stops here too, having written nothing at all;
4. **write** adds and updates (concurrently per target; one public key and
   one seal per value per target).  A name that fails is reported; a refusal
   that will not change for the next names (permission, rate limit past the
   budget, the write budget) stops that target, and its remaining names are
   reported as not written;
5. **delete** (prune) only if no write failed anywhere in the run;
6. **record** each target's state: exactly what was written (a run that
   changed nothing writes no state either).  A rerun converges: failed names
   are written again because their fingerprint was never recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sync import plan as planning
from homelab_secrets.sync import state as states
from homelab_secrets.sync.config import SyncConfig, Target
from homelab_secrets.sync.github import TargetClient, seal
from homelab_secrets.sync.plan import Problem, RemoteSecret, Selection, TargetPlan
from homelab_secrets.sync.ratelimit import GitHubError

T = TypeVar("T")

#: GitHubError kinds after which the next names of a target would fail the same way.
_STOPS_TARGET = ("auth", "permission", "rate-limited", "budget", "outage", "not-found")


@dataclass(repr=False)
class TargetRun:
    """Everything one target went through.  Names and messages only, except
    ``selection`` (whose repr shows names only)."""

    target: Target
    selection: Selection = field(default_factory=lambda: Selection({}, {}))
    remote: Mapping[str, RemoteSecret] = field(default_factory=dict)
    loaded: states.Loaded = field(default_factory=lambda: states.Loaded("missing"))
    repository_ids: tuple[int, ...] = ()
    plan: TargetPlan | None = None
    error: str = ""  #: could not be read: blocks the run
    written: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  #: NAME -> why
    deleted: list[str] = field(default_factory=list)
    postponed: list[str] = field(default_factory=list)  #: deletes skipped after a failure
    state_written: bool = False
    state_error: str = ""

    def __repr__(self) -> str:
        return f"TargetRun({self.target.name!r})"

    @property
    def ok(self) -> bool:
        return not (self.error or self.failed or self.state_error)


@dataclass(repr=False)
class SyncReport:
    source: str
    dry_run: bool
    runs: list[TargetRun]
    problems: list[Problem] = field(default_factory=list)
    requests: int = 0  #: HTTP requests to GitHub
    writes: int = 0  #: of which writes (PUT, POST, PATCH, DELETE)
    waited: float = 0.0  #: seconds spent on rate limits and backoff

    @property
    def ok(self) -> bool:
        """Every planned write succeeded (a dry run: the plan is valid)."""
        return not self.problems and all(run.ok for run in self.runs)

    @property
    def exit_code(self) -> int:
        return ExitCode.OK if self.ok else ExitCode.ERROR

    def __repr__(self) -> str:
        return f"SyncReport(targets={[r.target.name for r in self.runs]!r}, ok={self.ok})"


def select_targets(config: SyncConfig, names: Sequence[str]) -> list[Target]:
    """The targets ``--target`` names (all when none)."""
    if not names:
        return list(config.targets)
    known = {t.name: t for t in config.targets}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UserError(
            f"--target {', '.join(unknown)}: not in {config.path} (its targets: "
            f"{', '.join(known)})",
            ExitCode.USAGE,
        )
    return [known[n] for n in dict.fromkeys(names)]


def _each(items: Iterable[T], work: Callable[[T], None], workers: int) -> None:
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            work(item)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        for future in [pool.submit(work, item) for item in items]:
            future.result()


def _settings(run: TargetRun) -> str:
    """What else an organization secret's write sets (part of its fingerprint)."""
    target = run.target
    if target.scope != "organization":
        return ""
    return f"visibility={target.visibility};repositories={sorted(run.repository_ids)}"


class Sync:
    """One run (see the module docstring).  ``clients(target)`` opens a
    :class:`TargetClient`; ``progress(done, total)`` is told about writes."""

    def __init__(
        self,
        config: SyncConfig,
        *,
        values: Mapping[str, str],
        source: str,
        key: bytes,
        clients: Callable[[Target], TargetClient],
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.config = config
        self._values = values
        self.source = source
        self._key = key
        self._key_id = planning.key_id(key)
        self._clients = clients
        self._open: dict[str, TargetClient] = {}
        self._progress = progress
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0

    def __repr__(self) -> str:
        return f"Sync({self.config.path!r}, source={self.source!r})"

    def client(self, target: Target) -> TargetClient:
        if target.name not in self._open:
            self._open[target.name] = self._clients(target)
        return self._open[target.name]

    def close(self) -> None:
        for client in self._open.values():
            client.close()

    # ------------------------------------------------------------------ phases

    def run(self, targets: Sequence[str] = (), *, dry_run: bool = False) -> SyncReport:
        runs = [TargetRun(t) for t in select_targets(self.config, targets)]
        report = SyncReport(self.source, dry_run, runs)
        for run in runs:
            run.selection, problems = planning.desired(run.target, self._values, self.source)
            report.problems += problems + planning.check(run.target, run.selection)
        workers = self.config.limits.concurrency
        try:
            _each(runs, self._read, workers)
            for run in runs:
                report.problems += self._plan(run)
            if report.problems or dry_run:
                return report
            self._total = sum(len(run.plan.changes) for run in runs if run.plan)
            _each(runs, self._write, workers)
            clean = all(not run.failed for run in runs)
            _each(runs, lambda run: self._finish(run, prune=clean), workers)
            return report
        finally:
            self._count(report)

    def _count(self, report: SyncReport) -> None:
        throttles = {id(c.throttle): c.throttle for c in self._open.values()}
        report.requests = sum(t.requests for t in throttles.values())
        report.writes = sum(t.writes for t in throttles.values())
        report.waited = sum(t.waited for t in throttles.values())

    def _read(self, run: TargetRun) -> None:
        target = run.target
        try:
            client = self.client(target)
            run.remote = client.list_secrets()
            scopes = client.scopes_problem()
            if scopes:
                run.error = scopes
                return
            if target.visibility == "selected":
                run.repository_ids = tuple(client.repository_ids(target.repositories))
            run.loaded = states.read_state(
                client.get_variable,
                states.variable_name(target, self.config.name),
                target_key=target.key,
                source=self.source,
                key_id=self._key_id,
            )
        except GitHubError as exc:
            run.error = exc.message

    def _plan(self, run: TargetRun) -> list[Problem]:
        target = run.target
        if run.error:
            return [Problem(target.name, run.error)]
        if run.loaded.status == "foreign":
            return [Problem(target.name, run.loaded.note)]
        settings = _settings(run)
        fingerprints = {
            name: planning.fingerprint(self._key, target.key, name, value, settings)
            for name, value in run.selection.values.items()
        }
        notes = [run.loaded.note] if run.loaded.note else []
        run.plan = planning.plan_target(
            target,
            fingerprints,
            run.remote,
            run.loaded.records,
            visibility=target.visibility,
            notes=notes,
        )
        extra = planning.org_notes(target, run.plan, run.remote)
        if extra:
            run.plan = replace(run.plan, notes=run.plan.notes + tuple(extra))
        return [
            Problem(target.name, m) for m in planning.check_counts(target, run.plan, run.remote)
        ]

    def _tick(self) -> None:
        with self._lock:
            self._done += 1
            if self._progress is not None:
                self._progress(self._done, self._total)

    def _write(self, run: TargetRun) -> None:
        if run.plan is None:
            return
        client = self.client(run.target)
        stopped = ""
        for change in run.plan.writes:
            if stopped:
                run.failed[change.name] = f"not written: {stopped}"
                self._tick()
                continue
            try:
                sealed = seal(client.public_key(), run.selection.values[change.name])
                run.written[change.name] = client.put_secret(
                    change.name,
                    sealed,
                    visibility=run.target.visibility,
                    repository_ids=run.repository_ids,
                )
            except GitHubError as exc:
                run.failed[change.name] = exc.message
                if exc.kind in _STOPS_TARGET:
                    stopped = exc.message
            self._tick()

    def _finish(self, run: TargetRun, *, prune: bool) -> None:
        if run.plan is None:
            return
        client = self.client(run.target)
        for change in run.plan.deletes:
            if not prune:
                run.postponed.append(change.name)
                continue
            try:
                client.delete_secret(change.name)
                run.deleted.append(change.name)
            except GitHubError as exc:
                run.failed[change.name] = exc.message
            self._tick()
        records = states.next_records(
            run.loaded.records, run.plan, written=run.written, deleted=run.deleted
        )
        if run.loaded.status == "ok" and records == dict(run.loaded.records):
            return  # nothing changed: no write at all
        base = states.variable_name(run.target, self.config.name)
        parts = states.encode(states.State(run.target.key, self.source, self._key_id, records))
        try:
            for name, value in states.state_writes(base, parts, run.loaded.parts):
                if value is None:
                    client.delete_variable(name)
                else:
                    client.set_variable(name, value, exists=_exists(name, base, run.loaded.parts))
            run.state_written = True
        except GitHubError as exc:
            run.state_error = (
                f"{exc.message}; the secrets written are written again by the next run"
            )


def _exists(name: str, base: str, parts: int) -> bool:
    return any(states.part_name(base, i) == name for i in range(1, parts + 1))
