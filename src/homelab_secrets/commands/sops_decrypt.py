"""``homelab-secrets sops-decrypt``: decrypt a set of SOPS files for a job.

The Python side of ``actions/sops-decrypt`` (with ``--gha``) and the same job
run locally.  Decrypted copies go to an output folder (or replace the files in
place), every value is masked before anything prints, values can be exported
as environment variables and written as tool-shaped files, and everything
written is recorded for ``homelab-secrets cleanup``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets import gha
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sopsfiles import FORMATS

if TYPE_CHECKING:
    from homelab_secrets.sopsfiles import PlainFile

NAME = "sops-decrypt"
HELP = "decrypt SOPS files (paths/globs) into a private folder or in place, for a CI job"


@dataclass(frozen=True, kw_only=True)
class SopsDecryptInputs:
    """Inputs of actions/sops-decrypt (see its action.yml)."""

    files: tuple[str, ...] = gha.lines("files", required=True)
    age_key: str = gha.text("age-key", secret=True, strip=False)
    output_dir: str = gha.text("output-dir")
    in_place: bool = gha.boolean("in-place", default=False)
    export_env: bool = gha.boolean("export-env", default=False)
    name_prefix: str = gha.text("name-prefix")
    format: str = gha.choice("format", FORMATS, default="none")
    terraform_dir: str = gha.text("terraform-dir", default=".")
    format_dir: str = gha.text("format-dir")


GHA_INPUTS = SopsDecryptInputs


@dataclass(frozen=True)
class Options:
    files: tuple[str, ...]
    output_dir: Path
    in_place: bool
    export_env: bool
    name_prefix: str
    format: str
    terraform_dir: Path
    manifest_dir: Path
    env_file: Path | None = None
    format_dir_given: Path | None = None

    @property
    def format_dir(self) -> Path:
        """Where dotenv / ansible-vars files go: given, else ``<output-dir>-formats``
        (beside the decrypted copies, never among them)."""
        if self.format_dir_given is not None:
            return self.format_dir_given
        return self.output_dir.with_name(self.output_dir.name + "-formats")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="paths or globs (** recursive)")
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help="where decrypted copies go, keeping relative paths "
        "(default: $RUNNER_TEMP/homelab-secrets, else a private temp folder)",
    )
    parser.add_argument(
        "--in-place", action="store_true", help="decrypt the files in place instead"
    )
    parser.add_argument(
        "--export-env",
        action="store_true",
        help="export every value as an environment variable (locally: into --env-file)",
    )
    parser.add_argument("--env-file", metavar="PATH", help="dotenv file for --export-env (0600)")
    parser.add_argument("--name-prefix", default="", help="prefix for exported names")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="none",
        help="also write tool-shaped files: <name>.auto.tfvars.json in --terraform-dir, "
        "<name>.env, or <name>.vars.yml (Ansible -e @file) in --format-dir",
    )
    parser.add_argument(
        "--format-dir",
        metavar="DIR",
        help="where dotenv / ansible-vars files go, keeping relative folders "
        "(default: <output-dir>-formats)",
    )
    parser.add_argument(
        "--terraform-dir", default=".", metavar="DIR", help="Terraform root (format tfvars-json)"
    )
    parser.add_argument(
        "--manifest-dir",
        metavar="DIR",
        help="where the record of written files is kept for `cleanup` "
        "(default: $RUNNER_TEMP/homelab-secrets-state)",
    )
    parser.add_argument(
        "--gha",
        action="store_true",
        help="run as actions/sops-decrypt: read INPUT_*, write masks, env, outputs, summary",
    )


def _workspace() -> Path:
    return Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())


def _default_output_dir() -> Path:
    runner_temp = os.environ.get("RUNNER_TEMP")
    if runner_temp:
        return Path(runner_temp) / "homelab-secrets"
    import tempfile

    return Path(tempfile.gettempdir()) / f"homelab-secrets-{os.getuid()}" / "decrypted"


def _path(text: str, root: Path) -> Path:
    path = Path(os.path.expandvars(text))
    return path if path.is_absolute() else root / path


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.sopsfiles import default_manifest_dir

    if args.gha:
        return _run_gha(args)
    if not args.files:
        raise UserError("give at least one FILE (path or glob)", ExitCode.USAGE)
    if args.export_env and not args.env_file:
        raise UserError(
            "--export-env outside GitHub Actions needs --env-file PATH (a dotenv file to source)",
            ExitCode.USAGE,
        )
    root = _workspace()
    options = Options(
        files=tuple(args.files),
        output_dir=_path(args.output_dir, root) if args.output_dir else _default_output_dir(),
        in_place=args.in_place,
        export_env=args.export_env,
        name_prefix=args.name_prefix,
        format=args.format,
        terraform_dir=_path(args.terraform_dir, root),
        manifest_dir=Path(args.manifest_dir)
        if args.manifest_dir
        else default_manifest_dir(os.environ),
        env_file=_path(args.env_file, root) if args.env_file else None,
        format_dir_given=_path(args.format_dir, root) if args.format_dir else None,
    )
    result = decrypt_job(options, dict(os.environ), root)
    for written in result.written:
        sys.stderr.write(f"wrote {written}\n")
    if result.names:
        sys.stderr.write(f"exported {len(result.names)} names to {options.env_file}\n")
    return 0


@dataclass
class JobResult:
    written: list[str]
    files: list[tuple[str, str]]  #: (workspace-relative source, where its plaintext went)
    pairs: list[tuple[str, str]] = field(default_factory=list, repr=False)  #: env to export

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.pairs]


def decrypt_job(
    options: Options,
    environ: dict[str, str],
    root: Path,
    *,
    before_write: Callable[[list[PlainFile]], None] | None = None,
) -> JobResult:
    """Decrypt, then (all or nothing) write copies, tool files and the env file."""
    from homelab_secrets import sopsfiles

    targets = sopsfiles.resolve_files(options.files, root)
    plains = sopsfiles.decrypt_files(targets, environ)
    if before_write is not None:
        before_write(plains)  # --gha: mask every value before anything else happens
    pairs = sopsfiles.export_env(plains, options.name_prefix) if options.export_env else []
    for name, value in pairs:
        gha.check_env_name(name)
        if "\0" in value:
            raise UserError(f"export-env: the value of {name} contains a NUL byte")
    plan = sopsfiles.WritePlan()
    files: list[tuple[str, str]] = []
    for plain in plains:
        if options.in_place:
            plan.add(plain.target.path, plain.plaintext, "in-place")
            files.append((plain.target.rel, plain.target.rel))
        else:
            dest = options.output_dir / plain.target.rel
            plan.add(dest, plain.plaintext)
            files.append((plain.target.rel, str(dest)))
        if options.format != "none":
            path = sopsfiles.format_path(
                options.format, plain, options.format_dir, options.terraform_dir
            )
            plan.add(path, sopsfiles.render_format(options.format, plain))
    if options.env_file is not None and pairs:
        from homelab_secrets.secrets.env import render_dotenv

        plan.add(options.env_file, render_dotenv(pairs))
    seen: set[Path] = set()
    for path in plan.paths:
        if path in seen:
            raise UserError(
                f"two outputs would be written to the same file {path}: decrypt those files "
                "in separate steps, or use another output-dir",
            )
        seen.add(path)
    manifest = sopsfiles.Manifest(options.manifest_dir)
    sopsfiles.write_plan(plan, manifest)
    return JobResult([str(p) for p in plan.paths], files, pairs)


def _run_gha(args: argparse.Namespace) -> int:
    from homelab_secrets import sopsfiles

    with gha.annotate_failures("sops-decrypt"):
        inputs = gha.read_inputs(SopsDecryptInputs)  # masks age-key first, line by line
        environ = dict(os.environ)
        if environ.get("SOPS_AGE_KEY"):
            gha.mask("SOPS_AGE_KEY", environ["SOPS_AGE_KEY"])
        if inputs.age_key.strip():
            environ["SOPS_AGE_KEY"] = inputs.age_key
        root = _workspace()
        options = Options(
            files=inputs.files,
            output_dir=_path(inputs.output_dir, root)
            if inputs.output_dir
            else _default_output_dir(),
            in_place=inputs.in_place,
            export_env=inputs.export_env,
            name_prefix=inputs.name_prefix,
            format=inputs.format,
            terraform_dir=_path(inputs.terraform_dir or ".", root),
            format_dir_given=_path(inputs.format_dir, root) if inputs.format_dir else None,
            manifest_dir=Path(args.manifest_dir)
            if args.manifest_dir
            else sopsfiles.default_manifest_dir(os.environ),
        )

        def mask_everything(plains: list[sopsfiles.PlainFile]) -> None:
            gha.mask_all(
                gha.Secret(name, value, frozenset({"json"}))
                for plain in plains
                for name, value in plain.secrets
            )

        result = decrypt_job(options, environ, root, before_write=mask_everything)
        for name, value in result.pairs:
            gha.set_env(name, value, secret=False)  # its secret parts are masked already
        gha.set_output("paths", result.written, secret=False)
        gha.set_output("names", result.names, secret=False)
        gha.append_summary(_summary(result, options))
    return 0


def _summary(result: JobResult, options: Options) -> str:
    rows = [[source, dest] for source, dest in result.files]
    text = "### homelab-secrets sops-decrypt\n\n" + gha.md_table(["file", "decrypted to"], rows)
    if result.names:
        text += "\nExported to the environment (names only):\n\n" + gha.md_table(
            ["name"], [[n] for n in result.names]
        )
    if options.in_place:
        text += (
            "\nFiles were decrypted **in place**: run `homelab-secrets cleanup` "
            "(actions/sops-cleanup) before the job ends.\n"
        )
    return text
