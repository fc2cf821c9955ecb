"""GitHub's secret stores, through PyGithub, for one target at a time.

:func:`connect` makes the ``Github`` client (``base_url`` for GHES and tests;
its own retry and throttle off: :mod:`~homelab_secrets.sync.ratelimit`
replaces them).  A :class:`TargetClient` speaks to one store: repository,
environment, Dependabot or organization secrets, and the variables that hold
the state.  Every target gets its own client (PyGithub keeps one connection
per client; threads do not share them) and every request goes through
:func:`~homelab_secrets.sync.ratelimit.call`.

Requests, for a target of ``n`` secrets (PyGithub's ``create_secret`` would
fetch the public key again for every secret):

* reading: the state variable (one GET per 40 KB part), the secret list (one
  GET per 100 names) and, for an organization with selected repositories,
  one GET per repository (its id);
* writing: **one** public-key GET (only when something is written), then one
  PUT per added or changed secret, its value sealed **once** (libsodium sealed
  box to that key, :func:`seal`) and re-sent as is on a retry; one DELETE per
  pruned secret; the state: one PATCH (or POST) per part.

Refusals come back as :class:`~homelab_secrets.sync.ratelimit.GitHubError`
whose message :mod:`~homelab_secrets.sync.access` wrote: what the token is and
what it lacks.
"""

from __future__ import annotations

import base64
import email.utils
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from homelab_secrets.providers.http import USER_AGENT
from homelab_secrets.sync import access
from homelab_secrets.sync.config import Target
from homelab_secrets.sync.plan import RemoteSecret
from homelab_secrets.sync.ratelimit import GitHubError, Throttle, call

if TYPE_CHECKING:
    from github import Github

T = TypeVar("T")

DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def connect(api_url: str, token: str, *, timeout: int = 30) -> Github:
    """A PyGithub client for ``api_url`` (``https://api.github.com``, a GHES
    ``https://ghe.lan/api/v3``, a test fake), without PyGithub's own retries
    and pacing (see :mod:`~homelab_secrets.sync.ratelimit`)."""
    from github import Auth, Github

    return Github(
        auth=Auth.Token(token),
        base_url=api_url,
        timeout=timeout,
        per_page=PER_PAGE,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        user_agent=USER_AGENT,
        lazy=True,
    )


@dataclass(frozen=True, repr=False)
class PublicKey:
    """A store's public key: what values are sealed to."""

    key_id: str
    key: bytes

    def __repr__(self) -> str:
        return f"PublicKey(key_id={self.key_id!r})"


@dataclass(frozen=True, repr=False)
class Sealed:
    """A value sealed to one store's key: safe to send, opaque to all but GitHub."""

    key_id: str
    ciphertext: str  #: base64

    def __repr__(self) -> str:
        return f"Sealed(key_id={self.key_id!r})"


def seal(key: PublicKey, value: str) -> Sealed:
    """``value`` in a libsodium sealed box to ``key`` (X25519 + XSalsa20-Poly1305,
    an ephemeral sender key: sealing twice never gives the same bytes)."""
    from nacl.public import PublicKey as BoxKey
    from nacl.public import SealedBox

    box = SealedBox(BoxKey(key.key)).encrypt(value.encode("utf-8"))
    return Sealed(key.key_id, base64.b64encode(box).decode("ascii"))


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _epoch(text: Any) -> float:
    """GitHub's ``2024-05-01T10:00:00Z`` as epoch seconds (0 when unreadable:
    compares as "older than anything", so nothing is skipped by mistake)."""
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class TargetClient:
    """One target's secrets and state variables (see the module docstring)."""

    def __init__(
        self,
        gh: Github,
        target: Target,
        throttle: Throttle,
        token: str,
        *,
        wall: Callable[[], float] | None = None,
    ) -> None:
        self.gh = gh
        self.requester = gh.requester
        self.target = target
        self.throttle = throttle
        self._token = token
        self._wall = wall or throttle.wall
        self._key: PublicKey | None = None
        owner = _q(target.owner)
        if target.scope == "organization":
            self.secrets_url = f"/orgs/{owner}/{target.app}/secrets"
            self.variables_url = f"/orgs/{owner}/actions/variables"
        else:
            repo = f"/repos/{owner}/{_q(target.repository)}"
            if target.scope == "environment":
                self.secrets_url = f"{repo}/environments/{_q(target.environment)}/secrets"
            else:
                self.secrets_url = f"{repo}/{target.app}/secrets"
            self.variables_url = f"{repo}/actions/variables"

    def __repr__(self) -> str:
        return f"TargetClient({self.target.name!r})"

    # ------------------------------------------------------------------ plumbing

    def _call(
        self, fn: Callable[[], T], what: str, *, write: bool = False, missing_ok: bool = False
    ) -> T:
        """One request through the run's retry loop; a refusal comes back
        explained (``missing_ok``: a 404 is the caller's to handle)."""
        try:
            return call(self.throttle, fn, what=what, write=write)
        except GitHubError as exc:
            if exc.kind in ("auth", "permission") or (exc.kind == "not-found" and not missing_ok):
                exc.message = access.explain(
                    exc.status, exc.headers, self._token, self.target, what
                )
            raise

    def _request(
        self, verb: str, url: str, body: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], Any]:
        raw, data = self.requester.requestJsonAndCheck(verb, url, input=body)
        headers = {str(k).lower(): str(v) for k, v in raw.items()}
        reset = headers.get("x-ratelimit-reset", "")
        if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            # the next request would be refused: every target waits for the reset
            wait = max(0.0, float(reset) - self.throttle.wall()) + 1.0
            self.throttle.pause(wait, "primary rate limit used up")
        return headers, data

    def _date(self, headers: dict[str, str]) -> float:
        """GitHub's clock at a write (its ``Date`` header), else ours."""
        try:
            return email.utils.parsedate_to_datetime(headers["date"]).timestamp()
        except (KeyError, TypeError, ValueError, IndexError):
            return self._wall()

    # ------------------------------------------------------------------ reading

    def list_secrets(self) -> dict[str, RemoteSecret]:
        """NAME -> what GitHub lists (every page)."""
        out: dict[str, RemoteSecret] = {}
        url: str | None = f"{self.secrets_url}?per_page={PER_PAGE}"
        page = 1
        while url is not None:
            headers, data = self._call(
                partial(self._request, "GET", url),
                f"list the secrets (page {page})",
            )
            items = data.get("secrets") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise GitHubError("outage", "could not list the secrets: unexpected answer")
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    out[item["name"].upper()] = RemoteSecret(
                        _epoch(item.get("updated_at")), str(item.get("visibility") or "")
                    )
            url = self._next_page(headers) if items else None
            page += 1
        return out

    def _next_page(self, headers: dict[str, str]) -> str | None:
        """The ``rel="next"`` link, relative to the API root (a GHES root has a
        path, ``/api/v3``, that the client adds itself)."""
        match = _NEXT.search(headers.get("link", ""))
        if match is None:
            return None
        base = self.requester.base_url.rstrip("/")
        if not match[1].startswith(base + "/"):
            raise GitHubError("outage", "could not list the secrets: a next page off the API")
        return match[1][len(base) :]

    def scopes_problem(self) -> str | None:
        """For a classic token: the scopes it lacks for this target (known
        after any request, from ``X-OAuth-Scopes``)."""
        return access.missing_scopes(self.requester.oauth_scopes, self.target)

    def repository_ids(self, names: Sequence[str]) -> list[int]:
        """The ids of the organization's repositories ``names``."""
        ids = []
        for name in names:
            url = f"/repos/{_q(self.target.owner)}/{_q(name)}"
            try:
                _, data = self._call(
                    partial(self._request, "GET", url), f"find {name}", missing_ok=True
                )
            except GitHubError as exc:
                if exc.kind == "not-found":
                    exc.message = (
                        f"repositories: {self.target.owner}/{name} was not found, or the token "
                        "cannot see it"
                    )
                raise
            ids.append(int(data["id"]))
        return ids

    def get_variable(self, name: str) -> str | None:
        """A variable's value, None when there is no such variable."""
        url = f"{self.variables_url}/{_q(name)}"
        try:
            _, data = self._call(
                lambda: self._request("GET", url), f"read the state ({name})", missing_ok=True
            )
        except GitHubError as exc:
            if exc.kind == "not-found":
                return None
            raise
        value = data.get("value") if isinstance(data, dict) else None
        return value if isinstance(value, str) else ""

    # ------------------------------------------------------------------ writing

    def public_key(self) -> PublicKey:
        """The store's public key, fetched once."""
        if self._key is None:
            _, data = self._call(
                lambda: self._request("GET", f"{self.secrets_url}/public-key"),
                "get the public key",
            )
            try:
                self._key = PublicKey(str(data["key_id"]), base64.b64decode(data["key"]))
            except (KeyError, TypeError, ValueError):
                raise GitHubError("outage", "could not read the public key GitHub sent") from None
            if len(self._key.key) != 32:
                raise GitHubError("outage", "the public key GitHub sent is not an X25519 key")
        return self._key

    def put_secret(
        self, name: str, sealed: Sealed, *, visibility: str = "", repository_ids: Sequence[int] = ()
    ) -> float:
        """Create or update ``name``; returns GitHub's time of the write."""
        body: dict[str, Any] = {"encrypted_value": sealed.ciphertext, "key_id": sealed.key_id}
        if self.target.scope == "organization":
            body["visibility"] = visibility
            if visibility == "selected":
                as_text = self.target.app == "dependabot"  # what GitHub documents
                body["selected_repository_ids"] = [str(i) if as_text else i for i in repository_ids]
        url = f"{self.secrets_url}/{_q(name)}"
        headers, _ = self._call(
            lambda: self._request("PUT", url, body), f"write {name}", write=True
        )
        return self._date(headers)

    def delete_secret(self, name: str) -> None:
        """Delete ``name`` (already gone is fine)."""
        url = f"{self.secrets_url}/{_q(name)}"
        try:
            self._call(
                lambda: self._request("DELETE", url), f"delete {name}", write=True, missing_ok=True
            )
        except GitHubError as exc:
            if exc.kind != "not-found":
                raise

    def set_variable(self, name: str, value: str, *, exists: bool) -> None:
        """Create or update a state variable (organization ones visible to no repository)."""
        what = f"write the state ({name})"
        one = f"{self.variables_url}/{_q(name)}"
        create: dict[str, Any] = {"name": name, "value": value}
        if self.target.scope == "organization":
            create |= {"visibility": "selected", "selected_repository_ids": []}

        def patch() -> Any:
            return self._request("PATCH", one, {"name": name, "value": value})

        def post() -> Any:
            return self._request("POST", self.variables_url, create)

        first, second = (patch, post) if exists else (post, patch)
        try:
            self._call(first, what, write=True, missing_ok=True)
        except GitHubError as exc:
            # gone (404) or there after all (409): the other verb, once
            if exc.kind not in ("not-found", "rejected") or exc.status not in (404, 409):
                raise
            self._call(second, what, write=True)

    def delete_variable(self, name: str) -> None:
        url = f"{self.variables_url}/{_q(name)}"
        try:
            what = f"delete the state ({name})"
            self._call(lambda: self._request("DELETE", url), what, write=True, missing_ok=True)
        except GitHubError as exc:
            if exc.kind != "not-found":
                raise

    def close(self) -> None:
        self.gh.close()
