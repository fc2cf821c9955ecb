"""The edge between the world and the providers: flags, action inputs and
environment variables in, an opened :class:`~homelab_secrets.providers.base.Provider` out.

Providers read no environment; this module does, in one place, for every
command that fetches (``fetch``, ``run``, ``load``, ``sync``, the actions):

* **Doppler**: the token from ``DOPPLER_TOKEN`` (or the ``doppler-token``
  input); ``--auth oidc`` exchanges the job's GitHub ID token
  (``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``) for an identity token; with
  neither, outside Actions, the person's own Doppler CLI login and directory
  scope (``doppler login`` + ``doppler setup``, e.g. once at a bare repo root);
  ``DOPPLER_PROJECT``/``DOPPLER_CONFIG``/``DOPPLER_API_HOST`` as the CLI reads
  them, flags first;
* **Infisical**: ``INFISICAL_TOKEN`` (an access token), else
  ``INFISICAL_CLIENT_ID`` + ``INFISICAL_CLIENT_SECRET`` (universal auth), or
  ``--auth oidc`` with an identity id; ``--api-url`` (or
  ``INFISICAL_API_URL``) the server root.

Every credential obtained on the way (ID token, identity token) is returned
in :attr:`Opened.masks`, for the caller to mask before anything prints.
Adding a provider: its module in ``providers/``, its fake, an ``_open_<kind>``
here and its flags in :func:`add_arguments`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from homelab_secrets import gha
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.secrets.fetched import NAME_TRANSFORMS
from homelab_secrets.secrets.model import Mask

if TYPE_CHECKING:
    import httpx

    from homelab_secrets.providers.base import Fetched, Provider, WritableProvider
    from homelab_secrets.providers.fallback import FallbackCache
    from homelab_secrets.providers.http import RetryPolicy

PROVIDERS = ("doppler", "infisical")
AUTH_METHODS = ("token", "oidc")
DOPPLER_API_HOST = "https://api.doppler.com"


@dataclass(frozen=True, repr=False)
class ProviderSettings:
    """What to fetch from where, as flags or inputs gave it (credentials
    given here win over the environment's)."""

    provider: str = "doppler"
    auth: str = "token"
    identity_id: str = ""
    audience: str = ""
    api_host: str = ""  #: Doppler API host / Infisical server root
    ca_bundle: str = ""
    # Doppler
    project: str = ""
    config: str = ""
    include_meta: bool = False
    doppler_token: str = ""
    # Infisical
    project_id: str = ""
    project_slug: str = ""
    environment: str = ""
    path: str = "/"
    recursive: bool = False
    include_imports: bool = True
    expand_references: bool = True
    infisical_token: str = ""
    client_id: str = ""
    client_secret: str = ""
    #: outside Actions, with no token: ask the installed Doppler CLI
    use_cli_login: bool = True
    #: tries per request (1 = no retry); waits honour Retry-After
    attempts: int = 5

    def __repr__(self) -> str:
        return f"ProviderSettings(provider={self.provider!r}, auth={self.auth!r})"


@dataclass(repr=False)
class Opening:
    """What opening a provider gathers on the way: the clients to close,
    credentials to mask, notes for the person (names only)."""

    clients: list[httpx.Client] = field(default_factory=list)
    masks: list[Mask] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def close(self) -> None:
        for client in self.clients:
            client.close()


@dataclass(repr=False)
class Opened(Opening):
    """A provider ready to fetch, with what :class:`Opening` gathered."""

    provider: Provider | None = None

    def fetch(self) -> Fetched:
        if self.provider is None:
            raise RuntimeError("the provider was not opened")
        return self.provider.fetch()


@dataclass(frozen=True, kw_only=True)
class ProviderInputs:
    """The provider inputs every fetching action shares (fetch-secrets, the
    all-in-one action); secret ones are masked as they are read."""

    provider: str = gha.choice("provider", PROVIDERS, default="doppler")
    auth_method: str = gha.choice("auth-method", AUTH_METHODS, default="token")
    doppler_token: str = gha.text("doppler-token", secret=True)
    doppler_identity_id: str = gha.text("doppler-identity-id")
    doppler_project: str = gha.text("doppler-project")
    doppler_config: str = gha.text("doppler-config")
    api_host: str = gha.text("api-host")
    oidc_audience: str = gha.text("oidc-audience")
    ca_bundle: str = gha.text("ca-bundle")
    infisical_api_url: str = gha.text("infisical-api-url")
    infisical_client_id: str = gha.text("infisical-client-id")
    infisical_client_secret: str = gha.text("infisical-client-secret", secret=True)
    infisical_token: str = gha.text("infisical-token", secret=True)
    infisical_identity_id: str = gha.text("infisical-identity-id")
    infisical_project_id: str = gha.text("infisical-project-id")
    infisical_project_slug: str = gha.text("infisical-project-slug")
    infisical_environment: str = gha.text("infisical-environment")
    infisical_path: str = gha.text("infisical-path", default="/")
    infisical_recursive: bool = gha.boolean("infisical-recursive", default=False)
    infisical_include_imports: bool = gha.boolean("infisical-include-imports", default=True)
    secrets: tuple[str, ...] = gha.lines("secrets")
    required: tuple[str, ...] = gha.lines("required")
    name_transform: str = gha.choice("name-transform", NAME_TRANSFORMS, default="none")
    fallback_cache_dir: str = gha.text("fallback-cache-dir")
    fallback_cache_key: str = gha.text("fallback-cache-key", secret=True)


def settings_from_inputs(inputs: ProviderInputs) -> ProviderSettings:
    infisical = inputs.provider == "infisical"
    return ProviderSettings(
        provider=inputs.provider,
        auth=inputs.auth_method,
        identity_id=inputs.infisical_identity_id if infisical else inputs.doppler_identity_id,
        audience=inputs.oidc_audience,
        api_host=inputs.infisical_api_url if infisical else inputs.api_host,
        ca_bundle=inputs.ca_bundle,
        project=inputs.doppler_project,
        config=inputs.doppler_config,
        doppler_token=inputs.doppler_token,
        project_id=inputs.infisical_project_id,
        project_slug=inputs.infisical_project_slug,
        environment=inputs.infisical_environment,
        path=inputs.infisical_path or "/",
        recursive=inputs.infisical_recursive,
        include_imports=inputs.infisical_include_imports,
        infisical_token=inputs.infisical_token,
        client_id=inputs.infisical_client_id,
        client_secret=inputs.infisical_client_secret,
        use_cli_login=False,
    )


def writable(provider: Provider | None) -> WritableProvider:
    """``provider`` as one that can store secrets (``init``, ``rekey``, ``migrate``)."""
    if provider is None or not callable(getattr(provider, "set_secrets", None)):
        kind = getattr(provider, "kind", "this provider")
        raise UserError(f"{kind} cannot store secrets here", ExitCode.USAGE)
    return cast("WritableProvider", provider)


def add_arguments(parser: argparse.ArgumentParser, *, allow_none: bool = False) -> None:
    """The provider flags of ``fetch``, ``run`` and ``load`` (``allow_none``:
    ``--provider none``, SOPS files only)."""
    group = parser.add_argument_group("secrets manager")
    group.add_argument(
        "--provider", choices=(*PROVIDERS, "none") if allow_none else PROVIDERS, default="doppler"
    )
    group.add_argument(
        "--auth",
        choices=AUTH_METHODS,
        default="token",
        help="token: DOPPLER_TOKEN / INFISICAL_* from the environment (locally, without one: "
        "your Doppler CLI login); oidc: the GitHub Actions job's ID token",
    )
    group.add_argument("--identity-id", default="", help="the OIDC identity (with --auth oidc)")
    group.add_argument(
        "--audience", default="", help="audience of the job's ID token (default: GitHub's)"
    )
    group.add_argument(
        "--api-host",
        default="",
        help="Doppler API URL (default: $DOPPLER_API_HOST, else https://api.doppler.com); "
        "http only on loopback",
    )
    group.add_argument(
        "--api-url",
        default="",
        help="Infisical server root, e.g. https://infisical.lan (the client adds /api)",
    )
    group.add_argument("--ca-bundle", default="", help="PEM file of the CA to trust (homelab CA)")
    group.add_argument("--project", default="", help="Doppler project (not with a service token)")
    group.add_argument("--config", default="", help="Doppler config (not with a service token)")
    group.add_argument(
        "--include-meta", action="store_true", help="keep Doppler's DOPPLER_* meta keys"
    )
    group.add_argument("--project-id", default="", help="Infisical project id")
    group.add_argument("--project-slug", default="", help="Infisical project slug")
    group.add_argument("--environment", default="", help="Infisical environment slug, e.g. prod")
    group.add_argument("--path", default="/", help="Infisical secret path (default /)")
    group.add_argument(
        "--recursive", action="store_true", help="Infisical: include sub-folders of --path"
    )
    group.add_argument(
        "--no-imports", action="store_true", help="Infisical: leave out imported secrets"
    )
    group.add_argument(
        "--no-expand", action="store_true", help="Infisical: keep ${REF} references as written"
    )
    group.add_argument(
        "--attempts",
        type=int,
        default=5,
        metavar="N",
        help="tries per request on 429/5xx/network errors (default 5; waits honour Retry-After)",
    )


def settings_from_args(args: argparse.Namespace) -> ProviderSettings:
    return ProviderSettings(
        provider=args.provider,
        auth=args.auth,
        identity_id=args.identity_id,
        audience=args.audience,
        api_host=args.api_url if args.provider == "infisical" else args.api_host,
        ca_bundle=args.ca_bundle,
        project=args.project,
        config=args.config,
        include_meta=args.include_meta,
        project_id=args.project_id,
        project_slug=args.project_slug,
        environment=args.environment,
        path=args.path,
        recursive=args.recursive,
        include_imports=not args.no_imports,
        expand_references=not args.no_expand,
        attempts=args.attempts,
    )


def open_provider(settings: ProviderSettings, environ: Mapping[str, str]) -> Opened:
    """Build the provider ``settings`` ask for, with credentials from the
    settings, else the environment (see the module docstring)."""
    openers: dict[str, Callable[[ProviderSettings, Mapping[str, str]], Opened]] = {
        "doppler": _open_doppler,
        "infisical": _open_infisical,
    }
    opener = openers.get(settings.provider)
    if opener is None:
        raise UserError(
            f"unknown provider {settings.provider!r}: use one of {', '.join(PROVIDERS)}",
            ExitCode.USAGE,
        )
    if settings.auth not in AUTH_METHODS:
        raise UserError(f"unknown auth method {settings.auth!r}: use token or oidc", ExitCode.USAGE)
    return opener(settings, environ)


def _policy(settings: ProviderSettings) -> RetryPolicy:
    from homelab_secrets.providers.http import RetryPolicy

    if not 1 <= settings.attempts <= 20:
        raise UserError("--attempts must be between 1 and 20", ExitCode.USAGE)
    return RetryPolicy(attempts=settings.attempts)


def _client(base_url: str, settings: ProviderSettings, what: str) -> httpx.Client:
    from homelab_secrets.providers.http import check_base_url, new_client

    return new_client(check_base_url(base_url, what=what), ca_bundle=settings.ca_bundle or None)


def _id_token(settings: ProviderSettings, environ: Mapping[str, str], opened: Opening) -> str:
    """The job's GitHub ID token (masked by the caller, with the request token)."""
    from homelab_secrets.providers.github_oidc import request_id_token
    from homelab_secrets.providers.http import new_client

    url = environ.get("ACTIONS_ID_TOKEN_REQUEST_URL", "")
    request_token = environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not url or not request_token:
        raise UserError(
            "auth oidc: ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set: run in a GitHub "
            "Actions job with `permissions: id-token: write`",
            ExitCode.USAGE,
        )
    opened.masks.append(Mask("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token))
    client = new_client(url)  # an absolute URL from the runner
    opened.clients.append(client)
    token = request_id_token(
        client, url, request_token, settings.audience or None, policy=_policy(settings)
    )
    opened.masks.append(Mask("GitHub ID token", token))
    return token


def _open_doppler(settings: ProviderSettings, environ: Mapping[str, str]) -> Opened:
    from homelab_secrets.providers.doppler import DopplerOptions, DopplerProvider, oidc_login

    project = settings.project or environ.get("DOPPLER_PROJECT", "")
    config = settings.config or environ.get("DOPPLER_CONFIG", "")
    host = settings.api_host or environ.get("DOPPLER_API_HOST", "")
    notes: list[str] = []
    masks: list[Mask] = []
    token = settings.doppler_token or environ.get("DOPPLER_TOKEN", "")
    if settings.auth == "token" and not token:
        if environ.get("GITHUB_ACTIONS") == "true" or not settings.use_cli_login:
            raise UserError(
                "Doppler: no token: set DOPPLER_TOKEN (the doppler-token input), or use "
                "auth oidc with an identity",
                ExitCode.USAGE,
            )
        from homelab_secrets.providers.doppler_cli import read_cli_login

        login = read_cli_login(env=environ, config_dir=environ.get("DOPPLER_CONFIG_DIR") or None)
        token = login.token
        host = host or login.api_host
        if not (project or config):
            project, config = login.project or "", login.config or ""
        notes.append(f"Doppler: no DOPPLER_TOKEN; using your Doppler CLI login: {login.describe()}")
    opened = Opened(notes=notes, masks=masks)
    client = _client(host or DOPPLER_API_HOST, settings, "api-host")
    opened.clients.append(client)
    try:
        if settings.auth == "oidc":
            id_token = _id_token(settings, environ, opened)
            from homelab_secrets.providers.http import new_client

            anonymous = new_client(
                str(client.base_url).rstrip("/"), ca_bundle=settings.ca_bundle or None
            )
            opened.clients.append(anonymous)
            token = oidc_login(anonymous, settings.identity_id, id_token, policy=_policy(settings))
            opened.masks.append(Mask("Doppler identity token", token))
        else:
            opened.masks.append(Mask("DOPPLER_TOKEN", token))
        provider = DopplerProvider(
            client,
            DopplerOptions(
                token=token,
                project=project or None,
                config=config or None,
                include_meta=settings.include_meta,
            ),
            policy=_policy(settings),
        )
    except BaseException:
        opened.close()
        raise
    if provider.scope_ignored:
        opened.notes.append(
            "Doppler: the token is a service token: it reads its own config; the project and "
            "config given are ignored"
        )
    opened.provider = provider
    return opened


def _open_infisical(settings: ProviderSettings, environ: Mapping[str, str]) -> Opened:
    from homelab_secrets.providers.infisical import (
        AccessToken,
        Auth,
        InfisicalProvider,
        OidcAuth,
        UniversalAuth,
    )

    url = settings.api_host or environ.get("INFISICAL_API_URL", "")
    if not url:
        raise UserError(
            "Infisical: give the server root with --api-url (e.g. https://infisical.lan)",
            ExitCode.USAGE,
        )
    opened = Opened()
    client = _client(url, settings, "api-url")
    opened.clients.append(client)
    try:
        auth: Auth
        if settings.auth == "oidc":
            auth = OidcAuth(settings.identity_id, _id_token(settings, environ, opened))
        else:
            token = settings.infisical_token or environ.get("INFISICAL_TOKEN", "")
            client_id = settings.client_id or environ.get("INFISICAL_CLIENT_ID", "")
            secret = settings.client_secret or environ.get("INFISICAL_CLIENT_SECRET", "")
            if token:
                auth = AccessToken(token)
                opened.masks.append(Mask("INFISICAL_TOKEN", token))
            elif client_id and secret:
                auth = UniversalAuth(client_id, secret)
                opened.masks.append(Mask("INFISICAL_CLIENT_SECRET", secret))
            else:
                raise UserError(
                    "Infisical: no credentials: set INFISICAL_CLIENT_ID and "
                    "INFISICAL_CLIENT_SECRET (universal auth) or INFISICAL_TOKEN, or use auth "
                    "oidc with an identity",
                    ExitCode.USAGE,
                )
        opened.provider = InfisicalProvider(
            client,
            auth=auth,
            environment=settings.environment,
            project_id=settings.project_id or None,
            project_slug=None if settings.project_id else (settings.project_slug or None),
            secret_path=settings.path or "/",
            recursive=settings.recursive,
            include_imports=settings.include_imports,
            expand_references=settings.expand_references,
            policy=_policy(settings),
        )
    except BaseException:
        opened.close()
        raise
    return opened


def say(notes: list[str]) -> None:
    for note in notes:
        sys.stderr.write(f"homelab-secrets: {note}\n")


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """Which fetched values to use, and how to name them."""
    group = parser.add_argument_group("selection")
    group.add_argument(
        "--only", action="append", default=[], metavar="A,B", help="names or globs (DB_*)"
    )
    group.add_argument(
        "--required",
        action="append",
        default=[],
        metavar="A,B",
        help="names that must be present and non-empty (all missing ones are listed)",
    )
    group.add_argument(
        "--name-transform",
        choices=NAME_TRANSFORMS,
        default="none",
        help="tf-var: TF_VAR_<lower-cased name> (what Terraform reads)",
    )
    group.add_argument(
        "--fallback-cache",
        metavar="DIR",
        default="",
        help="keep an age-encrypted copy of the last good fetch here and use it only when "
        "the provider is unreachable (key: HOMELAB_SECRETS_CACHE_KEY, an age identity)",
    )


def cache_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> FallbackCache | None:
    """``--fallback-cache DIR`` with its key from ``HOMELAB_SECRETS_CACHE_KEY``."""
    return fallback_cache(args.fallback_cache, environ.get("HOMELAB_SECRETS_CACHE_KEY", ""))


def fallback_cache(directory: str, key: str) -> FallbackCache | None:
    if not directory:
        return None
    from homelab_secrets.providers.fallback import FallbackCache

    if not key.strip():
        raise UserError(
            "a fallback cache needs its key: HOMELAB_SECRETS_CACHE_KEY (or the "
            "fallback-cache-key input), an age identity kept as a secret",
            ExitCode.USAGE,
        )
    from pathlib import Path

    return FallbackCache(Path(directory), key)


def fetch_values(
    settings: ProviderSettings, environ: Mapping[str, str], cache: FallbackCache | None
) -> Fetched:
    """Open the provider, fetch (with the fallback copy on an outage), close.

    In Actions every credential obtained on the way is masked before anything
    can print; notes and warnings go to stderr (and a warning annotation)."""
    from homelab_secrets.providers import fallback

    in_actions = gha.running_in_actions(environ)
    opened = open_provider(settings, environ)
    try:
        if in_actions:
            gha.mask_all(opened.masks)
        say(opened.notes)
        if opened.provider is None:
            raise RuntimeError("the provider was not opened")

        def warn(message: str) -> None:
            if in_actions:
                gha.warning(message, title="homelab-secrets: fallback copy")
            else:
                sys.stderr.write(f"homelab-secrets: warning: {message}\n")

        return fallback.fetch(opened.provider, cache, warn=warn)
    finally:
        opened.close()
