"""The age key in a secrets manager (Doppler or Infisical): read, written,
read back.

The manager is handed in already opened (the command line opens it from
flags and environment, :mod:`homelab_secrets.commands._provider`); anything
with the providers' ``describe``/``fetch``/``set_secrets`` will do.  A write
is one ``set_secrets`` of one name, then a fresh ``fetch`` that must give the
same text back (compared in memory): a value that did not arrive, or that
the manager changed on the way, is an error before anything depends on it.
Messages name the manager's scope and the secret's name, never the value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from homelab_secrets.providers.base import WritableProvider


class KeyStore:
    """The secret ``name`` in ``manager``."""

    def __init__(self, manager: WritableProvider, name: str) -> None:
        if not name or any(ch.isspace() for ch in name) or name.startswith("DOPPLER_"):
            raise UserError(
                f"{name!r} cannot hold the age key: give a name without spaces that does not "
                "start with DOPPLER_ (e.g. SOPS_AGE_KEY)",
                ExitCode.USAGE,
            )
        self._manager = manager
        self.name = name

    def describe(self) -> str:
        """``SOPS_AGE_KEY in doppler project P, config C``."""
        return f"{self.name} in {self.scope()}"

    def scope(self) -> str:
        """The manager's scope alone: ``doppler project P, config C``."""
        return self._manager.describe()

    def __repr__(self) -> str:
        return f"KeyStore({self.describe()!r})"

    def read(self) -> str | None:
        """The text the secret holds, or None when there is no such secret
        (an empty one counts as none)."""
        value = self._manager.fetch().values.get(self.name)
        return value if value else None

    def write(self, text: str) -> None:
        """Store ``text`` and read it back; raises when the manager does not
        give exactly ``text`` back."""
        from homelab_secrets.onboard.agekey import same

        self._manager.set_secrets({self.name: text})
        back = self.read()
        if back is None or not same(back, text):
            raise UserError(
                f"stored {self.describe()}, but reading it back gives "
                + ("nothing" if back is None else "a different value")
                + "; check the secret in the manager before going on (nothing else was changed)",
                ExitCode.ERROR,
            )
