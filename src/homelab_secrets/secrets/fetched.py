"""Values fetched from a secrets manager, as a :class:`~.model.Source`.

Provider-neutral choices live here, so Doppler, Infisical and any later
provider behave the same:

* ``only``: names or globs (``DB_*``); a plain name that is missing, or a
  glob that matches nothing, is an error listing every one of them (a typo
  must not silently drop a secret);
* ``required``: names that must be present **and non-empty** after ``only``;
  every missing or empty name is listed at once;
* ``exclude``: names taken out before anything else (the age key the
  all-in-one action uses for SOPS files is never exported itself);
* ``name_transform``: ``tf-var`` (``TF_VAR_`` + the lower-cased name, what
  Terraform reads), ``lower``, ``upper`` or ``none``.

Every value fetched is a secret: each one is masked.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.base import Fetched
from homelab_secrets.secrets.model import Entry, Mask, Source

NAME_TRANSFORMS = ("none", "tf-var", "lower", "upper")
_GLOB = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    return bool(_GLOB & set(pattern))


def transform_name(name: str, transform: str) -> str:
    if transform == "tf-var":
        return "TF_VAR_" + name.lower()
    if transform == "lower":
        return name.lower()
    if transform == "upper":
        return name.upper()
    if transform == "none":
        return name
    raise UserError(
        f"unknown name transform {transform!r}: use one of {', '.join(NAME_TRANSFORMS)}",
        ExitCode.USAGE,
    )


def split_names(values: Iterable[str]) -> list[str]:
    """``["A,B", " C "]`` -> ``["A", "B", "C"]`` (comma- or line-separated)."""
    return [n.strip() for v in values for n in v.replace("\n", ",").split(",") if n.strip()]


def match_names(
    names: Iterable[str], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """``(chosen, unmatched)``: the names (in order) that match an ``include``
    pattern (all when there is none) and no ``exclude`` pattern, and the
    ``include`` patterns that match no name at all (a typo must not silently
    drop a secret).  Patterns are names or globs, case-sensitive."""
    listed = list(names)
    unmatched = [p for p in include if not any(fnmatch.fnmatchcase(n, p) for n in listed)]
    chosen = [
        n
        for n in listed
        if (not include or any(fnmatch.fnmatchcase(n, p) for p in include))
        and not any(fnmatch.fnmatchcase(n, p) for p in exclude)
    ]
    return chosen, unmatched


def select(
    values: Mapping[str, str],
    *,
    source: str,
    only: Sequence[str] = (),
    required: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> dict[str, str]:
    """The values to use, in the provider's order (see the module docstring)."""
    names, unmatched = match_names((n for n in values if n not in set(exclude)), include=only)
    if unmatched:
        raise UserError(
            f"{source}: no secret matches {', '.join(unmatched)} (only); check the names "
            "(they are case-sensitive)",
            ExitCode.ERROR,
        )
    chosen = {n: values[n] for n in names}
    missing = [n for n in required if n not in chosen]
    empty = [n for n in required if n in chosen and not chosen[n].strip()]
    if missing or empty:
        parts = []
        if missing:
            parts.append(f"missing: {', '.join(missing)}")
        if empty:
            parts.append(f"empty: {', '.join(empty)}")
        raise UserError(f"{source}: required secrets are {'; '.join(parts)}", ExitCode.ERROR)
    return chosen


def fetched_source(
    fetched: Fetched,
    *,
    kind: str,
    only: Sequence[str] = (),
    required: Sequence[str] = (),
    exclude: Sequence[str] = (),
    name_transform: str = "none",
) -> Source:
    """A :class:`Source` of the selected values, named after ``kind``
    (``doppler``: its tool-shaped files are ``doppler.env`` and so on)."""
    chosen = select(
        fetched.values, source=fetched.source, only=only, required=required, exclude=exclude
    )
    entries = [
        Entry(transform_name(name, name_transform), value, fetched.origin(name))
        for name, value in chosen.items()
    ]
    masks = [Mask(f"{fetched.source}:{name}", value) for name, value in chosen.items()]
    return Source(label=fetched.source, stem=kind, entries=entries, masks=masks)
