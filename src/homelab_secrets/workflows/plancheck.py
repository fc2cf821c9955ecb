"""Is this sealed plan the one to apply here?

Before an apply, the plan's metadata (recorded when it was made) is compared
with the apply job's own view: the same repository, commit, working
directory, tool and environment, and the same configuration hash
(:mod:`~homelab_secrets.workflows.confighash`).  Any difference refuses the
plan, all differences listed at once.  A plan from another commit is
*stale*: the branch moved on since it was made, and what it would change is
no longer what was reviewed.

Terraform adds its own check when the plan is applied: a plan made against
another state (its serial or lineage changed since) is refused as stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.workflows.bundle import PlanMetadata

#: exit code of a refused plan (not a usage error: the plan is the problem)
REFUSED = ExitCode.ERROR


@dataclass(frozen=True)
class Expected:
    """What the apply job sees; empty ``repository``/``environment`` are
    compared too (a plan for an environment is not applied without one)."""

    commit: str
    working_directory: str
    tool: str
    config_hash: str
    environment: str = ""
    repository: str = ""


def _short(sha: str) -> str:
    return sha[:12] if sha else "(none)"


def problems(meta: PlanMetadata, expected: Expected) -> list[str]:
    """Every difference, in words (names, SHAs and hashes only)."""
    found = []
    if expected.repository and meta.repository and meta.repository != expected.repository:
        found.append(
            f"it was made in repository {meta.repository}, this run is in {expected.repository}"
        )
    if meta.commit != expected.commit:
        found.append(
            f"it is stale: it was made at commit {_short(meta.commit)}, this run is at "
            f"{_short(expected.commit)} (plan again at this commit)"
        )
    if meta.working_directory != expected.working_directory:
        found.append(
            f"it is for working directory {meta.working_directory!r}, "
            f"not {expected.working_directory!r}"
        )
    if meta.tool != expected.tool:
        found.append(f"it was made with {meta.tool}, this job runs {expected.tool}")
    if meta.environment != expected.environment:
        found.append(
            f"it is for environment {meta.environment or '(none)'!r}, "
            f"not {expected.environment or '(none)'!r}"
        )
    if meta.config_hash != expected.config_hash:
        found.append(
            "the configuration differs from the one it was made from (config hash "
            f"{meta.config_hash[:19]}..., now {expected.config_hash[:19]}...)"
        )
    return found


def check(meta: PlanMetadata, expected: Expected) -> None:
    """Raise :class:`UserError` listing every difference, if any."""
    found = problems(meta, expected)
    if found:
        raise UserError("refusing to apply the sealed plan: " + "; ".join(found) + ".", REFUSED)
