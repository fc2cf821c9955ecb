"""One path from sources to what a job does with them.

:func:`plan_job` takes the sources (decrypted SOPS files, fetched provider
scopes; in any mix) and decides, before anything is written:

* **masks**: every secret value of every source (the edge registers them
  before anything else prints);
* **env**: the ``(name, value)`` pairs to export, when asked: names checked
  (:func:`homelab_secrets.secrets.env.check_name`), a name used twice is an
  error listing every place it came from;
* **writes**: decrypted copies (into ``output_dir``, keeping relative paths,
  or in place), tool-shaped files per source (``format``), one combined
  output file (``output_file``/``output_format``), the env file;
  two writes to one path is an error.

:func:`run_job` then writes everything, all or nothing, recorded in the
manifest for ``cleanup``.  The edges (``commands/_job.py``) do the
printing: masks and ``$GITHUB_ENV`` in Actions, an env file locally.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from homelab_secrets.errors import UserError
from homelab_secrets.secrets.manifest import Manifest, WritePlan, write_plan
from homelab_secrets.secrets.model import Mask, Source


@dataclass(frozen=True)
class JobOptions:
    """Where things go (see the module docstring)."""

    output_dir: Path
    manifest_dir: Path
    in_place: bool = False
    format: str = "none"
    terraform_dir: Path = Path(".")
    format_dir_given: Path | None = None
    export_env: bool = False
    name_prefix: str = ""
    env_file: Path | None = None
    output_file: Path | None = None
    output_format: str = "json"

    @property
    def format_dir(self) -> Path:
        """Where dotenv / ansible-vars files go: given, else ``<output-dir>-formats``
        (beside the decrypted copies, never among them, so the two cannot collide)."""
        if self.format_dir_given is not None:
            return self.format_dir_given
        return self.output_dir.with_name(self.output_dir.name + "-formats")


@dataclass(repr=False)
class Job:
    masks: list[Mask]
    env: list[tuple[str, str]]
    writes: WritePlan
    #: (source label, where its plaintext went) for every decrypted copy
    copies: list[tuple[str, str]] = field(default_factory=list)
    #: (name, where it came from) of every exported value
    origins: list[tuple[str, str]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.env]

    @property
    def written(self) -> list[str]:
        return [str(p) for p in self.writes.paths]


def export_pairs(sources: Sequence[Source], prefix: str = "") -> list[tuple[str, str, str]]:
    """``(name, value, where)`` for every entry, ``prefix`` added; a name
    used twice is an error listing the places (never the values)."""
    from homelab_secrets.secrets.env import check_name

    seen: dict[str, list[str]] = {}
    out: list[tuple[str, str, str]] = []
    for source in sources:
        for entry in source.entries:
            name = prefix + entry.name
            seen.setdefault(name, []).append(entry.where)
            out.append((name, entry.value, entry.where))
    clashes = {n: w for n, w in seen.items() if len(w) > 1}
    if clashes:
        listed = "; ".join(f"{n} ({', '.join(w)})" for n, w in sorted(clashes.items()))
        raise UserError(
            f"these environment variable names would be set more than once: "
            f"{listed}. Rename the keys, or load the sources in separate steps with "
            "different name-prefix values",
        )
    for name, value, _where in out:
        check_name(name)
        if "\0" in value:
            raise UserError(f"export-env: the value of {name} contains a NUL byte")
    return out


def tool_file_path(kind: str, source: Source, options: JobOptions) -> Path:
    """``terraform_dir/<stem>.auto.tfvars.json``, or
    ``format_dir/<folder>/<stem>.env|.vars.yml``."""
    from homelab_secrets.secrets.formats import SUFFIXES

    if kind == "tfvars-json":
        return options.terraform_dir / f"{source.stem}{SUFFIXES[kind]}"
    return options.format_dir / source.folder / f"{source.stem}{SUFFIXES[kind]}"


def plan_job(sources: Sequence[Source], options: JobOptions) -> Job:
    """Everything the job will do, decided in memory (see the module docstring)."""
    from homelab_secrets.secrets.env import render_dotenv
    from homelab_secrets.secrets.formats import render

    masks = [mask for source in sources for mask in source.masks]
    triples = export_pairs(sources, options.name_prefix) if options.export_env else []
    env = [(name, value) for name, value, _ in triples]
    writes = WritePlan()
    copies: list[tuple[str, str]] = []
    for source in sources:
        if source.copy is not None:
            if options.in_place and source.path is not None:
                writes.add(source.path, source.copy, "in-place")
                copies.append((source.label, source.label))
            else:
                dest = options.output_dir / source.label
                writes.add(dest, source.copy)
                copies.append((source.label, str(dest)))
        if options.format != "none":
            writes.add(
                tool_file_path(options.format, source, options), render(options.format, [source])
            )
    if options.output_file is not None:
        writes.add(options.output_file, render(options.output_format, sources))
    if options.env_file is not None and env:
        writes.add(options.env_file, render_dotenv(env))
    seen: set[Path] = set()
    for path in writes.paths:
        if path in seen:
            raise UserError(
                f"two outputs would be written to the same file {path}: load those sources "
                "in separate steps, or choose other output folders",
            )
        seen.add(path)
    origins = [(name, where) for name, _, where in triples]
    return Job(masks, env, writes, copies, origins)


def run_job(job: Job, manifest_dir: Path) -> None:
    """Write everything :func:`plan_job` decided, all or nothing."""
    write_plan(job.writes, Manifest(manifest_dir))
