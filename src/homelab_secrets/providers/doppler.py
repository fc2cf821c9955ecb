"""Doppler (``/v3`` API): fetch a config's secrets, write some back, log in
with a GitHub OIDC token.

**Scope and tokens.** What a token may read is decided by its prefix, as
Doppler and its official action decide it:

* a **service token** (``dp.st.``) is bound to one project and config: they
  are implied, and any project/config given is ignored (we send neither
  parameter; the CLI sends both empty, which Doppler treats the same way).
  :attr:`DopplerProvider.scope_ignored` tells the caller so it can say so;
* a **service-account** (``dp.sa.``), **OIDC identity** (``dp.said.``),
  **personal** (``dp.pt.``) or **CLI** (``dp.ct.``) token reaches many
  configs: ``project`` and ``config`` are both required, and a missing one is
  a usage error (exit 2) before any request is made;
* a token with another prefix is sent with project and config if both are
  given, with neither if neither is (the server decides), never with one.

**Fetch** is one ``GET /v3/configs/config/secrets/download?format=json`` (the
endpoint the CLI uses; ``include_dynamic_secrets=false`` because each fetch
of a dynamic secret would lease new credentials). The answer must be a flat
JSON object of strings, else one clear error naming the offending *names*.
Doppler adds ``DOPPLER_PROJECT``, ``DOPPLER_CONFIG`` and
``DOPPLER_ENVIRONMENT``; every ``DOPPLER_``-prefixed name (the prefix is
reserved for them) is dropped unless ``include_meta``. The project/config
the meta keys name is how a service token's scope becomes known
(``Fetched.source``: ``doppler homelab/prd``).

**Write** (:meth:`DopplerProvider.set_secrets`): ``POST
/v3/configs/config/secrets`` with the simple ``{"secrets": {...}}`` body; it
needs a read/write service token or a service account with a write role.

**OIDC** (:func:`oidc_login`): ``POST /v3/auth/oidc`` with the identity ID and
the job's GitHub ID token (no Authorization header) answers a short-lived
``dp.said.`` token, used like a service-account token.

Every request goes through :func:`homelab_secrets.providers.http.send`
(retries, ``Retry-After``, one error); refusals carry a hint that names the
project and config, never the token. Nothing here prints, reads the
environment, or puts a token or a value in a message or a repr.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.base import Fetched
from homelab_secrets.providers.http import (
    DEFAULT_POLICY,
    Clock,
    ProviderError,
    RetryPolicy,
    send,
)

SERVICE = "Doppler"
DEFAULT_API_HOST = "https://api.doppler.com"
#: what Doppler adds to every download; the whole prefix is reserved
META_KEYS = ("DOPPLER_PROJECT", "DOPPLER_CONFIG", "DOPPLER_ENVIRONMENT")
META_PREFIX = "DOPPLER_"

DOWNLOAD_PATH = "/v3/configs/config/secrets/download"
SECRETS_PATH = "/v3/configs/config/secrets"
OIDC_PATH = "/v3/auth/oidc"


class TokenKind(str, Enum):
    """What a token is, from its prefix; the value is how messages name it."""

    SERVICE = "service"
    SERVICE_ACCOUNT = "service account"
    OIDC = "OIDC identity"
    PERSONAL = "personal"
    CLI = "CLI"
    UNKNOWN = "Doppler"  # no known prefix

    def words(self) -> str:
        """``a service token``, ``an OIDC identity token``, ``a Doppler token``."""
        return f"{'an' if self.value[0] in 'aeiouAEIOU' else 'a'} {self.value} token"


#: token prefix -> kind ("dp.said." before "dp.sa.")
TOKEN_PREFIXES = (
    ("dp.st.", TokenKind.SERVICE),
    ("dp.said.", TokenKind.OIDC),
    ("dp.sa.", TokenKind.SERVICE_ACCOUNT),
    ("dp.pt.", TokenKind.PERSONAL),
    ("dp.ct.", TokenKind.CLI),
)
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+\Z")  # printable ASCII, no spaces
_IDENTITY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")  # a UUID, in practice


def token_kind(token: str) -> TokenKind:
    """The kind of ``token``, from its prefix only."""
    for prefix, kind in TOKEN_PREFIXES:
        if token.startswith(prefix):
            return kind
    return TokenKind.UNKNOWN


@dataclass(frozen=True, repr=False)
class DopplerOptions:
    """What to fetch and with which token (see the module docstring)."""

    token: str
    project: str | None = None
    config: str | None = None
    include_meta: bool = False

    def __repr__(self) -> str:  # never the token
        return (
            f"DopplerOptions(token=<{token_kind(self.token).value} token>, "
            f"project={self.project!r}, "
            f"config={self.config!r}, include_meta={self.include_meta})"
        )


def _check_token(token: str) -> str:
    token = token.strip()
    if not token:
        raise UserError(f"{SERVICE}: no token given", ExitCode.USAGE)
    if not _TOKEN_CHARS.match(token):
        raise UserError(
            f"{SERVICE}: the token contains spaces or characters a token cannot have "
            "(was something pasted around it?)",
            ExitCode.USAGE,
        )
    return token


class DopplerProvider:
    """One Doppler config, read (and written) with one token."""

    kind = "doppler"

    def __init__(
        self,
        client: httpx.Client,
        options: DopplerOptions,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._token = _check_token(options.token)
        self._policy = policy
        self._clock = clock
        self.include_meta = options.include_meta
        self.token_kind = token_kind(self._token)
        project = (options.project or "").strip() or None
        config = (options.config or "").strip() or None
        #: a service token was given a project/config it does not use
        self.scope_ignored = self.token_kind is TokenKind.SERVICE and bool(project or config)
        if self.token_kind is TokenKind.SERVICE:
            project = config = None
        elif (project is None) != (config is None) or (
            self.token_kind is not TokenKind.UNKNOWN and project is None
        ):
            given = {"project": project, "config": config}
            missing = " and ".join(name for name, value in given.items() if not value)
            raise UserError(
                f"{SERVICE}: {self.token_kind.words()} needs both a project and a config; give the "
                f"{missing} (only a service token, dp.st., implies them)",
                ExitCode.USAGE,
            )
        self.project = project
        self.config = config
        #: the scope a service token turned out to have (from the meta keys)
        self._learned: tuple[str, str] | None = None

    # ---------------------------------------------------------------- naming

    @property
    def host(self) -> str:
        return str(self._client.base_url).rstrip("/") or DEFAULT_API_HOST

    def _scope(self) -> tuple[str, str] | None:
        if self.project and self.config:
            return self.project, self.config
        return self._learned

    def _scope_words(self) -> str:
        scope = self._scope()
        if scope is None:
            return "the config the service token is bound to"
        return f"project {scope[0]}, config {scope[1]}"

    def describe(self) -> str:
        """``doppler project P, config C``; for a service token, before a fetch
        has named its scope, ``doppler, the config the service token is bound to``."""
        if self._scope() is None:
            return f"doppler, {self._scope_words()}"
        service = " (service token)" if self.token_kind is TokenKind.SERVICE else ""
        return f"doppler {self._scope_words()}{service}"

    def cache_key(self) -> str:
        """Host and scope; a service token's scope is not known before a
        fetch, so it is keyed by a SHA-256 digest of the token (a digest of a
        random token, not the token)."""
        if self.project and self.config:
            return f"doppler|{self.host}|{self.project}/{self.config}"
        digest = hashlib.sha256(self._token.encode()).hexdigest()[:16]
        return f"doppler|{self.host}|token-sha256:{digest}"

    def __repr__(self) -> str:
        return (
            f"DopplerProvider(host={self.host!r}, token=<{self.token_kind.value} token>, "
            f"project={self.project!r}, config={self.config!r})"
        )

    # ---------------------------------------------------------------- requests

    def _params(self) -> dict[str, str]:
        if self.project and self.config:
            return {"project": self.project, "config": self.config}
        return {}

    def _hint(self, *, write: bool = False) -> Callable[[int], str]:
        scope = self._scope_words()

        def hint(status: int) -> str:
            if status == 401:
                if self.token_kind is TokenKind.OIDC:
                    return " (the OIDC-issued token expired or was revoked: log in again)"
                return (
                    " (the token is invalid, expired or revoked: give a current one, "
                    f"{self.token_kind.words()})"
                )
            if status == 403:
                if write:
                    return (
                        f" (the token may not write to {scope}: use a read/write service token "
                        "or a service account with a write role on it)"
                    )
                if self.token_kind is TokenKind.SERVICE:
                    return " (the service token may not read its config: create a new one for it)"
                return (
                    f" (the token has no access to {scope}: give the service account or "
                    "identity a role on that project, or use a service token of that config)"
                )
            if status == 404:
                if self.project and self.config:
                    return (
                        f" (project {self.project} or its config {self.config} does not exist: "
                        "check both names in the Doppler dashboard)"
                    )
                return " (the service token's config no longer exists)"
            if status == 400:
                if self.token_kind is TokenKind.SERVICE:
                    return " (Doppler refused the request: is the token a Doppler service token?)"
                return f" (Doppler refused the request for {scope}: check the project and config)"
            return ""

        return hint

    def _send(
        self, method: str, path: str, *, what: str, write: bool = False, **kwargs: Any
    ) -> Any:
        reply = send(
            self._client,
            method,
            path,
            service=SERVICE,
            what=what,
            hint=self._hint(write=write),
            policy=self._policy,
            clock=self._clock,
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            **kwargs,
        )
        return reply.data

    def fetch(self) -> Fetched:
        what = f"download the secrets of {self._scope_words()}"
        data = self._send(
            "GET",
            DOWNLOAD_PATH,
            what=what,
            params={**self._params(), "format": "json", "include_dynamic_secrets": "false"},
        )
        if not isinstance(data, dict):
            raise ProviderError(f"{SERVICE}: could not {what}: the answer is not a JSON object")
        not_text = sorted(name for name, value in data.items() if not isinstance(value, str))
        if not_text:
            shown = ", ".join(not_text[:10]) + (", ..." if len(not_text) > 10 else "")
            raise ProviderError(
                f"{SERVICE}: could not {what}: the value of {shown} is not a string "
                "(expected a flat JSON object of strings)"
            )
        project, config = data.get("DOPPLER_PROJECT"), data.get("DOPPLER_CONFIG")
        if self.token_kind is TokenKind.SERVICE and project and config:
            self._learned = (project, config)
        values = {
            name: value
            for name, value in data.items()
            if self.include_meta or not name.startswith(META_PREFIX)
        }
        scope = self._scope()
        source = f"doppler {scope[0]}/{scope[1]}" if scope else "doppler (service token)"
        return Fetched(source=source, values=values)

    def set_secrets(self, values: Mapping[str, str]) -> None:
        """Create or update ``values`` (name -> value) in the config, all in
        one request; other secrets are left as they are."""
        if not values:
            raise UserError(f"{SERVICE}: nothing to write", ExitCode.USAGE)
        for name, value in values.items():
            if not isinstance(name, str) or not name or name.startswith(META_PREFIX):
                raise UserError(
                    f"{SERVICE}: {name!r} cannot be a secret name (empty or DOPPLER_-prefixed)",
                    ExitCode.USAGE,
                )
            if not isinstance(value, str):
                raise UserError(f"{SERVICE}: the value for {name} is not a string", ExitCode.USAGE)
        names = sorted(values)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        what = f"write {shown} to {self._scope_words()}"
        data = self._send(
            "POST",
            SECRETS_PATH,
            what=what,
            write=True,
            params=self._params(),
            json_body={"secrets": dict(values)},
        )
        listed = data.get("secrets") if isinstance(data, dict) else None
        missing = [n for n in names if not isinstance(listed, dict) or n not in listed]
        if missing:
            raise ProviderError(
                f"{SERVICE}: wrote to {self._scope_words()}, but the answer does not list "
                f"{', '.join(missing)}; check the config in the Doppler dashboard"
            )


def _oidc_hint(status: int) -> str:
    if status in (400, 404):
        return " (check the identity ID: Doppler, Team, Service Accounts, the identity's page)"
    if status in (401, 403):
        return (
            " (the identity's rules do not accept this job's ID token: compare its audience "
            "with the one the token was requested for, and its subject rule with this "
            "repository and ref or environment)"
        )
    return ""


def oidc_login(
    client: httpx.Client,
    identity_id: str,
    id_token: str,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    clock: Clock | None = None,
) -> str:
    """Exchange a GitHub Actions ID token for a short-lived ``dp.said.`` token
    of the service-account identity ``identity_id`` (use it with a project and
    config, like a service-account token). ``client`` must carry no
    Authorization header."""
    identity_id = identity_id.strip()
    if not _IDENTITY_ID.match(identity_id):
        # not quoted: a token pasted into the wrong input must not reach a log
        raise UserError(
            f"{SERVICE}: OIDC login needs the identity ID (a UUID from the identity's page)",
            ExitCode.USAGE,
        )
    if not id_token.strip():
        raise UserError(f"{SERVICE}: OIDC login needs the job's ID token", ExitCode.USAGE)
    what = f"log in as identity {identity_id} with the job's OIDC token"
    reply = send(
        client,
        "POST",
        OIDC_PATH,
        service=SERVICE,
        what=what,
        hint=_oidc_hint,
        policy=policy,
        clock=clock,
        headers={"Accept": "application/json"},
        json_body={"identity": identity_id, "token": id_token.strip()},
    )
    token = reply.data.get("token") if isinstance(reply.data, dict) else None
    if not isinstance(token, str) or not _TOKEN_CHARS.match(token):
        raise ProviderError(f"{SERVICE}: could not {what}: the answer holds no token")
    return token
