"""``homelab-secrets scan``: the plaintext guard.

Finds secrets committed in clear and files or values that ``.sops.yaml``
says must be encrypted, knowing SOPS (every store), Ansible Vault, sealed
secrets, Terraform and Ansible syntax (see :mod:`homelab_secrets.scan`).

* ``scan [PATH...]``: the PATHs as files on disk (folders recursively, also
  outside any git repository); no PATH: the repository's tracked files;
* ``--diff BASE[..HEAD]``: the files changed from the merge base of BASE and
  HEAD (default HEAD) to HEAD, read at HEAD, scanned whole; reports findings
  on changed lines only, unless ``--whole-files``;
* ``--staged``: the same for the index (the pre-commit hook).

stdout carries the report and nothing else (``--format text|json|sarif``,
or ``--output FILE``); notes go to stderr.  Exit 0: nothing to report;
1: findings; 2: bad usage or a scan that could not run.  With ``--gha``
it is ``actions/scan-secrets``: annotations on the lines, a job summary
(files, lines, rules: never values) and a SARIF file for code scanning.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets import gha
from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from homelab_secrets.scan.job import Request, Result

NAME = "scan"
HELP = "find secrets committed in clear, and files .sops.yaml says must be encrypted"
FORMATS = ("text", "json", "sarif")
FINDINGS = 1


@dataclass(frozen=True, kw_only=True)
class ScanInputs:
    """Inputs of actions/scan-secrets (see its action.yml)."""

    base: str = gha.text("base")
    paths: tuple[str, ...] = gha.lines("paths")
    whole_files: bool = gha.boolean("whole-files", default=False)
    config: str = gha.text("config")
    baseline: str = gha.text("baseline")
    fail_on_findings: bool = gha.boolean("fail-on-findings", default=True)
    working_directory: str = gha.text("working-directory", default=".")


GHA_INPUTS = ScanInputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders to scan, on disk (default: the repository's tracked files); "
        "with --diff/--staged, only changed files under these PATHs",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--diff",
        metavar="BASE[..HEAD]",
        help="scan the files changed since the merge base of BASE and HEAD (default HEAD); "
        "report findings on changed lines only",
    )
    mode.add_argument(
        "--staged", action="store_true", help="scan the staged changes (for pre-commit)"
    )
    parser.add_argument(
        "--whole-files",
        action="store_true",
        help="with --diff/--staged, report findings anywhere in the changed files",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format")
    parser.add_argument("--output", metavar="FILE", help="write the report here, not to stdout")
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="a JSON report of known findings (by fingerprint) not to report again",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="scanner configuration (default: .homelab-secrets-scan.yaml at the root)",
    )
    parser.add_argument(
        "--jobs", type=int, default=0, metavar="N", help="worker processes (default: all CPUs)"
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "hyperscan", "python"),
        default="auto",
        help=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--gha",
        action="store_true",
        help="run as actions/scan-secrets: read INPUT_*, annotate, summarise, write SARIF",
    )


def _request(args: argparse.Namespace) -> Request:
    from homelab_secrets.scan.fingerprint import key_from_environment
    from homelab_secrets.scan.job import Request

    if args.whole_files and not (args.diff or args.staged):
        raise UserError("--whole-files goes with --diff or --staged", ExitCode.USAGE)
    if args.jobs < 0:
        raise UserError("--jobs must be 0 (all CPUs) or more", ExitCode.USAGE)
    return Request(
        paths=tuple(args.paths),
        diff=args.diff,
        staged=args.staged,
        whole_files=args.whole_files,
        baseline=args.baseline,
        config=args.config,
        jobs=args.jobs,
        backend=args.engine,
        fingerprint_key=key_from_environment(),
    )


def render(result: Result, fmt: str) -> str:
    from homelab_secrets.scan import report, sarif

    if fmt == "json":
        return report.to_json(result.findings)
    if fmt == "sarif":
        return sarif.to_sarif(result.findings)
    return report.to_text(result.findings, result.files_scanned)


def _notes(result: Result) -> None:
    for finding, reason in result.accepted:
        sys.stderr.write(f"accepted {finding.location} {finding.rule}: {reason}\n")
    if result.baselined:
        known = _count(result.baselined, "known finding")
        sys.stderr.write(f"{known} in the baseline not reported\n")


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {output}: {exc.strerror}", ExitCode.USAGE) from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _as_usage(exc: UserError) -> UserError:
    """Every failure of this command exits 2 (1 means: findings)."""
    exc.exit_code = ExitCode.USAGE
    return exc


def run(args: argparse.Namespace) -> int:
    if args.gha:
        return _run_gha()
    from homelab_secrets.scan.job import run as run_job

    try:
        result = run_job(_request(args), Path.cwd())
        _notes(result)
        _write(render(result, args.format), args.output)
    except UserError as exc:
        raise _as_usage(exc) from None
    return FINDINGS if result.findings else ExitCode.OK


# --------------------------------------------------------------------------- the action


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _summary(result: Result, where: str) -> str:
    rows = [[f.file, str(f.line), f.rule, f.key or ""] for f in result.findings]
    head = "### homelab-secrets scan\n\n"
    if not result.findings:
        text = f"{head}No secrets in clear in {result.files_scanned} files ({where}).\n"
    else:
        text = (
            f"{head}**{_count(len(result.findings), 'finding')}** in {result.files_scanned} files "
            f"({where}). Values are never shown: open each file at the line.\n\n"
            + gha.md_table(["file", "line", "rule", "key"], rows)
        )
    if result.accepted:
        text += "\nAccepted by the scanner configuration:\n\n" + gha.md_table(
            ["file", "line", "rule", "reason"],
            [[f.file, str(f.line), f.rule, reason] for f, reason in result.accepted],
        )
    if result.baselined:
        text += f"\n{_count(result.baselined, 'known finding')} (baseline) not reported.\n"
    return text


def _run_gha() -> int:
    from homelab_secrets.scan import report, sarif
    from homelab_secrets.scan.fingerprint import key_from_environment
    from homelab_secrets.scan.job import Request
    from homelab_secrets.scan.job import run as run_job

    with gha.annotate_failures("homelab-secrets scan"):
        inputs = gha.read_inputs(ScanInputs)
        from homelab_secrets.commands import _job

        cwd = _job.workspace() / inputs.working_directory
        request = Request(
            paths=inputs.paths,
            diff=inputs.base or None,
            whole_files=inputs.whole_files,
            baseline=str(cwd / inputs.baseline) if inputs.baseline else None,
            config=str(cwd / inputs.config) if inputs.config else None,
            fingerprint_key=key_from_environment(),
        )
        try:
            result = run_job(request, cwd)
        except UserError as exc:
            raise _as_usage(exc) from None
        where = {"diff": f"changes since {inputs.base[:12]}", "tracked": "every tracked file"}
        described = where.get(result.mode, result.mode)
        with gha.group(f"homelab-secrets scan: {_count(len(result.findings), 'finding')}"):
            sys.stdout.write(report.to_text(result.findings, result.files_scanned))
            sys.stdout.flush()
        _notes(result)
        for f in result.findings:
            gha.error(
                f"{f.title}" + (f" (key {f.key})" if f.key else "") + f" [{f.rule}]",
                title=f"homelab-secrets: {f.rule}",
                at=gha.Location(
                    result.root / f.file,
                    line=f.line,
                    col=f.column,
                    end_line=f.line,
                    end_column=f.end_column if f.end_column > f.column else None,
                ),
            )
        temp = Path(os.environ.get("RUNNER_TEMP") or cwd)
        sarif_path = temp / "homelab-secrets-scan.sarif"
        sarif_path.write_text(sarif.to_sarif(result.findings), encoding="utf-8")
        gha.set_output("findings", len(result.findings), secret=False)
        gha.set_output("files-scanned", result.files_scanned, secret=False)
        gha.set_output("sarif-file", str(sarif_path), secret=False)
        gha.append_summary(_summary(result, described))
        if result.findings and inputs.fail_on_findings:
            return FINDINGS
    return ExitCode.OK
