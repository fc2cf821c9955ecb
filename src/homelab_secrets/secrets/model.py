"""A set of named secret values and where they came from.

Every source of secrets produces :class:`Source` objects: a decrypted SOPS
file (:mod:`~homelab_secrets.secrets.sopsfiles`) or a provider's scope
(:mod:`~homelab_secrets.secrets.fetched`).  The job layer
(:mod:`~homelab_secrets.secrets.job`) turns them into masks, environment
variables, tool-shaped files and copies, the same way whatever the source.

Reprs never show a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from homelab_secrets.sops.model import Branch

#: How a value may also appear in a log besides its own lines (see secrets.redact.fragments).
MaskForm = Literal["json", "base64"]


@dataclass(frozen=True, repr=False)
class Entry:
    """One value to export: its environment name, the value, and where it
    came from (``secrets/prd.enc.yaml:db.password``, ``doppler iac/prd``)."""

    name: str
    value: str
    where: str

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, where={self.where!r})"


@dataclass(frozen=True, repr=False)
class Mask:
    """A value to mask before anything prints, with the name warnings use
    for it (never the value).  ``forms`` lists how the value is *also* used
    besides its raw lines: ``"json"`` when it is written inside a JSON
    string, ``"base64"`` when it is exported base64-encoded (alone or inside
    a larger base64 blob).  :func:`homelab_secrets.gha.mask_all` registers
    them (``gha.Secret`` is this class)."""

    name: str
    value: str
    forms: frozenset[MaskForm] = frozenset({"json"})

    def __repr__(self) -> str:
        return f"Mask(name={self.name!r}, value=<{len(self.value)} chars>)"


@dataclass(repr=False)
class Source:
    """Values from one place.

    ``label`` names the place in messages and summaries (a workspace-relative
    path, or a provider scope).  ``stem`` and ``folder`` name its tool-shaped
    files (``folder/stem.env``).  ``documents`` is the structured content
    (nested, typed: what tfvars-json and ansible-vars files are made of); for
    a flat source it is ``None`` and the entries are the content.  ``copy``
    is the plaintext a decrypted copy holds (SOPS files: what ``sops
    decrypt`` prints), ``path`` the file it came from (for in-place writes).
    """

    label: str
    stem: str
    folder: str = ""
    entries: list[Entry] = field(default_factory=list)
    masks: list[Mask] = field(default_factory=list)
    documents: list[Branch] | None = None
    copy: bytes | None = None
    path: Path | None = None
    #: the source's own format (a SOPS store name), or "" for a provider
    fmt: str = ""

    def __repr__(self) -> str:
        return f"Source({self.label!r}, names={[e.name for e in self.entries]!r})"
