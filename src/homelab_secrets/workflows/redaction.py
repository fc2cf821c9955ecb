"""Redact every value a job knows from text it is about to publish.

The runner masks values in the *log*; a job summary or a PR comment is
ours to keep clean.  The summaries are built without values, but a plan's
resource address or a playbook's ``--diff`` can carry one, so before
anything is published every value the job loaded is replaced with ``***``,
in every form the log masking knows (each line, JSON-escaped), with
:class:`homelab_secrets.secrets.redact.Redactor`, the same matcher
``homelab-secrets run --`` uses.

Where values come from (:func:`collect`): the job's environment (the names
the loading step exported, never every variable), decrypted files the job
wrote (tfvars JSON, Ansible vars YAML), and extra strings (a plan's
sensitive values).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.secrets.model import Mask
from homelab_secrets.workflows.tfplan import string_leaves


def file_values(path: Path) -> list[str]:
    """The string values in a JSON or YAML file (keys are names and stay
    visible)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{path}: cannot be read to redact its values ({type(exc).__name__})",
            ExitCode.COULD_NOT_READ_INPUT_FILE,
            path=str(path),
        ) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return list(string_leaves(json.loads(text)))
        if suffix in (".yml", ".yaml"):
            import yaml

            return [v for doc in yaml.safe_load_all(text) for v in string_leaves(doc)]
    except ValueError:  # yaml.YAMLError and json.JSONDecodeError are both ValueErrors
        raise UserError(
            f"{path}: not valid {suffix[1:].upper()}; cannot redact its values",
            ExitCode.COULD_NOT_READ_INPUT_FILE,
            path=str(path),
        ) from None
    raise UserError(
        f"{path}: give JSON or YAML files to redact (values are read from them)",
        ExitCode.USAGE,
        path=str(path),
    )


def collect(
    *,
    env_names: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
    files: Iterable[Path] = (),
    strings: Iterable[str] = (),
) -> list[Mask]:
    """Masks for every value: ``env_names`` looked up in ``environ``, the
    values of ``files``, and ``strings``; blank values are skipped."""
    import os

    env = os.environ if environ is None else environ
    masks = [Mask(f"env {name}", env.get(name, "")) for name in env_names]
    for path in files:
        masks.extend(Mask(f"file {path.name}", value) for value in file_values(path))
    masks.extend(Mask("value", value) for value in strings)
    return [m for m in masks if m.value.strip()]


def redact(text: str, masks: Iterable[Mask]) -> str:
    """``text`` with every fragment of every mask replaced by ``***``."""
    from homelab_secrets.secrets.redact import Redactor

    return Redactor(masks).redact(text.encode("utf-8")).decode("utf-8", "replace")


def names_from_json(text: str, *, what: str) -> list[str]:
    """A JSON list of names (an action's ``names`` output); empty text: none."""
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
        raise UserError(f"{what}: expected a JSON list of names", ExitCode.USAGE)
    return data
