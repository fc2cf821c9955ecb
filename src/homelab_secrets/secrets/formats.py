"""Tool-shaped files made from sources: what Terraform, Ansible, shells and
scripts read.

* ``tfvars-json``: a ``*.auto.tfvars.json`` Terraform loads by itself: the
  structured content (nested maps and lists, numbers and booleans kept) of a
  SOPS file; for flat sources (providers) every name lower-cased without a
  ``TF_VAR_`` prefix (Terraform variable names);
* ``ansible-vars``: YAML for ``ansible-playbook -e @file``, same content;
* ``dotenv``: ``NAME=value`` lines safe to source and for python-dotenv
  (:func:`homelab_secrets.secrets.env.render_dotenv`);
* ``env``: ``export NAME='value'`` lines for ``eval``/``.`` in sh and bash;
* ``json``: one flat JSON object of name to value;
* ``yaml``: one flat YAML mapping of name to value.

The per-file ``format`` of ``sops-decrypt`` offers the first three
(:data:`FILE_FORMATS`); ``fetch --format`` every one but ``ansible-vars``
(:data:`FETCH_FORMATS`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from homelab_secrets.errors import ExitCode, UserError, about
from homelab_secrets.secrets.model import Source
from homelab_secrets.sops.model import Branch, Comment, GoTime

FILE_FORMATS = ("none", "tfvars-json", "dotenv", "ansible-vars")
FETCH_FORMATS = ("json", "dotenv", "env", "tfvars-json", "yaml")
SUFFIXES = {"tfvars-json": ".auto.tfvars.json", "dotenv": ".env", "ansible-vars": ".vars.yml"}


def _plain_data(value: Any) -> Any:
    """A tree as JSON-able data (comments dropped)."""
    if isinstance(value, Branch):
        return {str(k): _plain_data(v) for k, v in value if not isinstance(k, Comment)}
    if isinstance(value, list):
        return [_plain_data(v) for v in value if not isinstance(v, Comment)]
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _tf_name(name: str) -> str:
    lower = name.lower()
    return lower[len("tf_var_") :] if lower.startswith("tf_var_") else lower


def _structured(sources: Sequence[Source], *, terraform: bool) -> list[Branch]:
    """Top-level documents to render: a SOPS file's own (YAML: every
    document merged; other stores: the first), or a flat source's entries."""
    out: list[Branch] = []
    for source in sources:
        if source.documents is None:
            name = _tf_name if terraform else str
            out.append(Branch((name(e.name), e.value) for e in source.entries))
        elif source.fmt == "yaml":
            out.extend(source.documents)
        else:
            out.extend(source.documents[:1])
    return out


def _pairs(sources: Sequence[Source]) -> list[tuple[str, str]]:
    return [(e.name, e.value) for source in sources for e in source.entries]


def render(kind: str, sources: Sequence[Source]) -> bytes:
    """The content of a ``kind`` file made from ``sources`` (in order; later
    top-level keys win in the structured formats)."""
    from homelab_secrets.secrets import env

    for source in sources:
        if source.fmt == "binary":
            raise UserError(
                f"format {kind}: {source.label} is a binary file; tool-shaped files need YAML, "
                "JSON, dotenv or INI",
                path=source.label,
            )
    label = ", ".join(s.label for s in sources)
    with about(label):
        if kind == "tfvars-json":
            merged: dict[str, Any] = {}
            for branch in _structured(sources, terraform=True):
                merged.update(_plain_data(branch))
            return (json.dumps(merged, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        if kind in ("ansible-vars", "yaml"):
            from homelab_secrets.sops.stores import get_store

            branches = _structured(sources, terraform=False)
            merged_branch = Branch(
                item for branch in branches for item in branch if not isinstance(item[0], Comment)
            )
            return get_store("yaml", indent=2).emit_plain([merged_branch])
        if kind == "dotenv":
            return env.render_dotenv(_pairs(sources))
        if kind == "env":
            return env.render_shell(_pairs(sources))
        if kind == "json":
            return (json.dumps(dict(_pairs(sources)), indent=2, ensure_ascii=False) + "\n").encode(
                "utf-8"
            )
    raise UserError(
        f"unknown format {kind!r}: use one of {', '.join(FILE_FORMATS[1:] + FETCH_FORMATS)}",
        ExitCode.USAGE,
    )
