"""An opt-in fallback copy of the last good fetch, for outages only.

A homelab deploy should not stop because a SaaS is down; it must not go on
with stale secrets for any other reason.  So:

* every successful fetch is saved, encrypted with age to the recipient of an
  identity the job holds (``HOMELAB_SECRETS_CACHE_KEY``, the
  ``fallback-cache-key`` input: an ``AGE-SECRET-KEY-1...`` that is *not*
  stored in the provider it backs up), one file per provider host + scope
  (its name is a digest of :meth:`Provider.cache_key`, never a token), 0600,
  written atomically;
* the copy is used **only** when the fetch failed as an outage (network
  error, time-out, 5xx, 429 or malformed answers after every retry: a
  :class:`~.http.ProviderError` with ``outage``), never on 401/403/404 or a
  bad request, and it says so loudly (what failed, and the copy's age).

In Actions, keep the folder across runs with ``actions/cache`` (a fresh
runner has no copy); the copy is useless without the key.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.base import Fetched, Provider
from homelab_secrets.providers.http import ProviderError

FORMAT = "homelab-secrets-fallback/1"


@dataclass(frozen=True, repr=False)
class FallbackCache:
    directory: Path
    identity: str  #: an age secret key; never in a message or repr

    def __repr__(self) -> str:
        return f"FallbackCache({str(self.directory)!r})"

    def _age(self) -> tuple[Any, Any]:
        import pyrage

        try:
            identity = pyrage.x25519.Identity.from_str(self.identity.strip())
        except Exception:
            raise UserError(
                "fallback cache: the key is not an age identity (AGE-SECRET-KEY-1...); "
                "make one with `age-keygen` and keep it as a secret",
                ExitCode.USAGE,
            ) from None
        return identity, identity.to_public()

    def path_for(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".age")

    def save(self, key: str, fetched: Fetched) -> None:
        import pyrage

        from homelab_secrets.fsutil import PRIVATE_DIR, write_atomic

        _identity, recipient = self._age()
        body = {
            "format": FORMAT,
            "key": key,
            "saved_at": int(time.time()),
            "source": fetched.source,
            "values": dict(fetched.values),
            "origins": dict(fetched.origins),
        }
        data = pyrage.encrypt(json.dumps(body).encode("utf-8"), [recipient])
        self.directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        write_atomic(str(self.path_for(key)), data)

    def load(self, key: str) -> tuple[Fetched, int] | None:
        """The saved copy for ``key`` and when it was saved (epoch seconds),
        or None when there is none (or it is not ours to read)."""
        import pyrage

        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        identity, _recipient = self._age()
        try:
            body = json.loads(pyrage.decrypt(data, [identity]))
        except Exception:
            return None  # another key's copy, or damaged: as if there were none
        if not isinstance(body, dict) or body.get("format") != FORMAT or body.get("key") != key:
            return None
        values, origins = body.get("values"), body.get("origins") or {}
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return None
        fetched = Fetched(source=str(body.get("source")), values=values, origins=origins)
        return fetched, int(body.get("saved_at") or 0)


def fetch(
    provider: Provider,
    cache: FallbackCache | None,
    *,
    warn: Callable[[str], None],
    now: Callable[[], float] = time.time,
) -> Fetched:
    """``provider.fetch()``, saving a good answer to ``cache``; on an outage,
    the cached copy (with a loud warning), else the error."""
    try:
        fetched = provider.fetch()
    except ProviderError as exc:
        if cache is None or not exc.outage:
            raise
        found = cache.load(provider.cache_key())
        if found is None:
            exc.message += " (no fallback copy is cached for it yet)"
            raise
        copy, saved_at = found
        age = max(0, int(now()) - saved_at)
        warn(
            f"{provider.describe()} is unreachable ({exc.message}); USING THE FALLBACK COPY "
            f"saved {_ago(age)} ago: values changed since then are not seen"
        )
        return copy
    if cache is not None:
        cache.save(provider.cache_key(), fetched)
    return fetched


def _ago(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
