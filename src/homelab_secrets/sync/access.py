"""Which kind of GitHub token the sync was given, and why GitHub refused it, in words.

The sync needs a token that may write Actions secrets.  The workflow's own
``GITHUB_TOKEN`` never can (``permissions:`` has no ``secrets`` scope), and a
classic personal access token needs broad scopes.  What works:

* a **GitHub App installation token** (``ghs_``; preferred: short-lived,
  limited to the App's repositories), or a **fine-grained personal access
  token** (``github_pat_``), with repository permissions *Secrets: Read and
  write* and *Variables: Read and write* (the state), *Dependabot secrets* for
  Dependabot targets, *Environments: Read* for environment targets, and the
  organization permissions *Secrets* / *Variables* (or *Dependabot secrets*)
  for organization targets;
* a classic token (``ghp_``) with ``repo`` (and ``admin:org`` for
  organization targets) also works.

GitHub tells which it wanted: ``X-Accepted-GitHub-Permissions`` (App and
fine-grained tokens) and ``X-OAuth-Scopes`` / ``X-Accepted-OAuth-Scopes``
(classic tokens); the explanations use them, and never GitHub's message text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from homelab_secrets.sync.config import Target

PREFIXES = (
    ("github_pat_", "fine-grained"),
    ("ghp_", "classic"),
    ("ghs_", "installation"),
    ("ghu_", "app-user"),
    ("gho_", "oauth"),
)


def token_kind(token: str) -> str:
    """``fine-grained``, ``classic``, ``installation``, ``app-user``, ``oauth``,
    or ``unknown`` (a GHES or test token without a known prefix)."""
    for prefix, kind in PREFIXES:
        if token.startswith(prefix):
            return kind
    return "unknown"


def permissions(target: Target) -> str:
    """The fine-grained permissions ``target`` needs, in GitHub's words."""
    if target.scope == "organization":
        secrets = "Dependabot secrets" if target.app == "dependabot" else "Secrets"
        return (
            f"organization permissions '{secrets}: Read and write' and 'Variables: Read and "
            "write' (the sync state)"
        )
    secrets = "Dependabot secrets" if target.app == "dependabot" else "Secrets"
    extra = ", 'Environments: Read'" if target.scope == "environment" else ""
    return (
        f"repository permissions '{secrets}: Read and write', 'Variables: Read and write' "
        f"(the sync state){extra}, with {target.full_repository} in its repository access"
    )


def classic_scopes(target: Target) -> tuple[str, ...]:
    return ("repo", "admin:org") if target.scope == "organization" else ("repo",)


def missing_scopes(scopes: Sequence[str] | None, target: Target) -> str | None:
    """For a classic token (GitHub listed its scopes): a problem when it
    cannot do ``target``, found before anything is written."""
    if scopes is None:
        return None
    have = {s.strip() for s in scopes if s.strip()}
    missing = [s for s in classic_scopes(target) if s not in have]
    if not missing:
        return None
    shown = ", ".join(sorted(have)) or "none"
    return (
        f"GITHUB_TOKEN is a classic token with scopes [{shown}]; {target.name} needs "
        f"{' and '.join(missing)}. Better: a GitHub App installation token or a fine-grained "
        f"token with {permissions(target)}"
    )


def explain(
    status: int | None, headers: Mapping[str, str], token: str, target: Target, doing: str
) -> str:
    """Why GitHub refused ``doing`` (``list the secrets``, ``write NAME``, ...)
    in ``target``, and what to do about it."""
    kind = token_kind(token)
    wanted = headers.get("x-accepted-github-permissions", "").strip()
    asked = f" (GitHub asks for: {wanted})" if wanted else ""
    if status == 401:
        return (
            f"could not {doing}: HTTP 401: GitHub does not accept GITHUB_TOKEN (invalid, "
            "expired or revoked; an App installation token lives one hour)"
        )
    if kind == "classic" or "x-oauth-scopes" in headers:
        scopes = [s for s in headers.get("x-oauth-scopes", "").split(",") if s.strip()]
        missing = missing_scopes(scopes, target)
        if missing:
            return f"could not {doing}: HTTP {status}: {missing}"
        return (
            f"could not {doing}: HTTP {status}: the classic token has the scopes, so the "
            f"account behind it lacks access to {_where(target)} (it must be an admin of the "
            "repository, or an owner of the organization)"
        )
    if status == 404:
        return (
            f"could not {doing}: HTTP 404: {_where(target)} was not found, or the token "
            f"cannot see it{_env_hint(target)}"
        )
    if kind == "installation":
        return (
            f"could not {doing}: HTTP 403: the token is a GitHub App installation token "
            f"without the permission{asked}. If it is the workflow's own GITHUB_TOKEN: that "
            "token can never write secrets (permissions: has no secrets scope); use a GitHub "
            f"App's installation token or a fine-grained token with {permissions(target)}"
        )
    return (
        f"could not {doing}: HTTP 403: the token lacks a permission{asked}; give it "
        f"{permissions(target)}"
    )


def _where(target: Target) -> str:
    if target.scope == "organization":
        return f"organization {target.owner}"
    if target.scope == "environment":
        return f"environment {target.environment} of {target.full_repository}"
    return f"repository {target.full_repository}"


def _env_hint(target: Target) -> str:
    if target.scope == "environment":
        return " (the sync does not create environments: add it under Settings > Environments)"
    return ""
