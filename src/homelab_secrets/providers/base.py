"""What a secrets manager gives back, and the interface each one implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, repr=False)
class Fetched:
    """A set of named values from one provider, in the provider's order.

    ``source`` names where they came from for messages and summaries
    (``doppler iac-conf-mgmt/prd``): names only, never a token.
    ``origins`` may say, per name, where inside the source a value came from
    (an Infisical folder or import); missing names default to ``source``.
    """

    source: str
    values: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str:
        return self.origins.get(name, self.source)

    def __repr__(self) -> str:  # names only: a repr may end up in a log
        return f"Fetched(source={self.source!r}, names={sorted(self.values)!r})"


class Provider(Protocol):
    """A secrets manager, configured for one scope (project/config, environment/path)."""

    #: registry name: ``doppler``, ``infisical``
    kind: str

    def describe(self) -> str:
        """The scope in words, names only (``doppler project iac-conf-mgmt, config prd``)."""
        ...

    def cache_key(self) -> str:
        """A stable string identifying host + scope, for the fallback cache
        (never contains a token)."""
        ...

    def fetch(self) -> Fetched:
        """Every secret of the scope.  Raises
        :class:`~homelab_secrets.providers.http.ProviderError` on failure."""
        ...


class WritableProvider(Provider, Protocol):
    """A provider that can also store secrets (Doppler with a read/write
    token, Infisical): what ``init``, ``rekey`` and ``migrate`` write to."""

    def set_secrets(self, values: Mapping[str, str], /) -> object:
        """Create or update ``values`` (name -> value); other secrets stay."""
        ...
