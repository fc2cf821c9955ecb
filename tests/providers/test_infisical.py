"""The Infisical provider against the fake Infisical, in-process: logins,
scope selection, Infisical's import precedence and reference expansion, what
each refusal says, retries (on a fake clock), and the upsert."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from fakes import Fault
from fakes.infisical import FakeInfisical, make_jwt
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.base import Provider
from homelab_secrets.providers.http import Clock, ProviderError, RetryPolicy
from homelab_secrets.providers.infisical import (
    AccessToken,
    InfisicalProvider,
    OidcAuth,
    UniversalAuth,
    Written,
    normalize_path,
    stored_form,
)
from support.clock import FakeClock

PROJECT_ID = "5f0c7e1a-homelab"
SLUG = "homelab"
CLIENT_ID, CLIENT_SECRET = "cid-1", "csecret-NEVER-SHOWN"
UNIVERSAL = UniversalAuth(CLIENT_ID, CLIENT_SECRET)
AUDIENCE = "https://github.com/homelab"
SUBJECT = "repo:homelab/infra:ref:refs/heads/main"
VALUES = {"API_KEY": "s3cr3t-value", "DB_URL": "postgres://u:p@db/app", "MULTI": "line1\nline2"}


@pytest.fixture
def fake() -> FakeInfisical:
    fake = FakeInfisical()
    fake.add_project(PROJECT_ID, SLUG, environments=("dev", "prod", "shared"))
    for name, value in VALUES.items():
        fake.set_secret(PROJECT_ID, "dev", "/", name, value)
    fake.set_secret(PROJECT_ID, "dev", "/apps/web", "WEB_TOKEN", "web-token-value")
    fake.add_project("other-project", "other")
    fake.universal_identity(CLIENT_ID, CLIENT_SECRET)
    return fake


def make(
    fake: FakeInfisical,
    *,
    auth: UniversalAuth | OidcAuth | AccessToken = UNIVERSAL,
    clock: Clock | None = None,
    client: httpx.Client | None = None,
    **options: Any,
) -> InfisicalProvider:
    if "project_slug" not in options:
        options.setdefault("project_id", PROJECT_ID)
    options.setdefault("environment", "dev")
    return InfisicalProvider(
        client or fake.client(), auth=auth, clock=clock or FakeClock(), **options
    )


def data_requests(fake: FakeInfisical) -> list[Any]:
    return [r for r in fake.requests if not r.path.startswith("/api/v1/auth/")]


def refused(provider: InfisicalProvider, *, write: bool = False) -> ProviderError:
    call = (lambda: provider.set_secrets({"API_KEY": "x"})) if write else provider.fetch
    with pytest.raises(ProviderError) as caught:
        call()
    return caught.value


# ---------------------------------------------------------------------------- logins


def test_universal_auth_logs_in_once_and_lists_the_folder(fake: FakeInfisical) -> None:
    provider = make(fake)
    fetched = provider.fetch()
    assert dict(fetched.values) == VALUES
    assert fetched.origins == {"API_KEY": "/", "DB_URL": "/", "MULTI": "/"}
    assert fetched.source == f"infisical {PROJECT_ID}/dev:/"
    login = fake.requests[0]
    assert login.path == "/api/v1/auth/universal-auth/login"
    assert login.json() == {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}
    assert "authorization" not in login.headers
    provider.fetch()
    provider.set_secrets({"API_KEY": VALUES["API_KEY"]})
    assert fake.logins == 1
    tokens = {r.headers["authorization"] for r in data_requests(fake)}
    assert len(tokens) == 1
    assert tokens.pop().startswith("Bearer ")


def test_oidc_auth_with_a_github_style_id_token(fake: FakeInfisical) -> None:
    fake.oidc_identity("identity-1", audience=AUDIENCE, subject=SUBJECT)
    token = make_jwt(subject=SUBJECT, audience=AUDIENCE)
    fetched = make(fake, auth=OidcAuth("identity-1", token)).fetch()
    assert dict(fetched.values) == VALUES
    login = fake.requests[0]
    assert login.path == "/api/v1/auth/oidc-auth/login"
    assert login.json() == {"identityId": "identity-1", "jwt": token}


def test_oidc_token_for_another_audience_is_refused_saying_what_to_check(
    fake: FakeInfisical,
) -> None:
    fake.oidc_identity("identity-1", audience=AUDIENCE)
    token = make_jwt(audience="https://github.com/someone-else")
    err = refused(make(fake, auth=OidcAuth("identity-1", token)))
    assert err.status == 401
    assert err.message.startswith("Infisical: could not log in (OIDC auth): HTTP 401 Unauthorized")
    assert "bound audience, subject and issuer" in err.message
    assert token not in err.message
    assert not err.outage
    assert data_requests(fake) == []


def test_expired_id_token_is_a_403_asking_for_a_fresh_one(fake: FakeInfisical) -> None:
    fake.oidc_identity("identity-1", audience=AUDIENCE)
    token = make_jwt(audience=AUDIENCE, expires_in=-60)
    err = refused(make(fake, auth=OidcAuth("identity-1", token)))
    assert err.status == 403
    assert err.message.endswith("the ID token is expired or malformed: request a fresh one")


def test_bad_client_secret_is_a_401_naming_no_credential(fake: FakeInfisical) -> None:
    err = refused(make(fake, auth=UniversalAuth(CLIENT_ID, "wrong-secret-value")))
    assert err.status == 401
    assert err.message == (
        "Infisical: could not log in (universal auth): HTTP 401 Unauthorized; check the machine "
        "identity's client id and client secret (and that the secret has not expired or run "
        "out of uses)"
    )
    assert len(fake.requests) == 1  # refusals are not retried


def test_a_ready_access_token_needs_no_login(fake: FakeInfisical) -> None:
    token = fake.access_token()
    fetched = make(fake, auth=AccessToken(token)).fetch()
    assert dict(fetched.values) == VALUES
    assert fake.logins == 0
    assert fake.requests[0].headers["authorization"] == f"Bearer {token}"


def test_login_answer_without_a_token_is_one_clear_error(fake: FakeInfisical) -> None:
    fake.inject(
        Fault(200, b'{"expiresIn": 7200}', (("Content-Type", "application/json"),)),
        path="/api/v1/auth/universal-auth/login",
    )
    err = refused(make(fake))
    assert "the answer has no access token" in err.message
    assert "server root" in err.message


# ---------------------------------------------------------------------------- scope


def test_project_id_lists_with_v4_sending_every_flag(fake: FakeInfisical) -> None:
    make(fake).fetch()
    (listing,) = data_requests(fake)
    assert listing.path == "/api/v4/secrets"
    assert {k: v[0] for k, v in listing.query.items()} == {
        "projectId": PROJECT_ID,
        "environment": "dev",
        "secretPath": "/",
        "recursive": "false",
        "include_imports": "true",
        "includeImports": "true",
        "expandSecretReferences": "true",
        "viewSecretValue": "true",
    }


def test_project_slug_lists_with_v3_raw_and_gets_the_same_values(fake: FakeInfisical) -> None:
    by_slug = make(fake, project_slug=SLUG).fetch()
    (listing,) = data_requests(fake)
    assert listing.path == "/api/v3/secrets/raw"
    assert listing.query["workspaceSlug"] == [SLUG]
    assert "projectId" not in listing.query
    assert listing.query["include_imports"] == ["true"]
    by_id = make(fake).fetch()
    assert dict(by_slug.values) == dict(by_id.values) == VALUES
    assert by_slug.source == f"infisical {SLUG}/dev:/"


def test_secret_path_selects_one_folder(fake: FakeInfisical) -> None:
    fetched = make(fake, secret_path="apps/web/").fetch()
    assert dict(fetched.values) == {"WEB_TOKEN": "web-token-value"}
    assert fetched.origins == {"WEB_TOKEN": "/apps/web"}
    assert data_requests(fake)[0].query["secretPath"] == ["/apps/web"]


def test_recursive_adds_sub_folders_with_their_paths_as_origins(fake: FakeInfisical) -> None:
    fetched = make(fake, recursive=True).fetch()
    assert dict(fetched.values) == {**VALUES, "WEB_TOKEN": "web-token-value"}
    assert fetched.origin("WEB_TOKEN") == "/apps/web"
    assert fetched.origin("API_KEY") == "/"
    assert data_requests(fake)[0].query["recursive"] == ["true"]


def test_recursive_name_in_two_folders_is_an_error_naming_both_paths(fake: FakeInfisical) -> None:
    fake.set_secret(PROJECT_ID, "dev", "/apps/api", "API_KEY", "another-value")
    fake.set_secret(PROJECT_ID, "dev", "/apps/db", "WEB_TOKEN", "third-value")
    err = refused(make(fake, recursive=True))
    assert err.message == (
        f"Infisical: project {PROJECT_ID}, environment dev, path / with its sub-folders defines "
        "a name more than once: API_KEY in / and /apps/api; WEB_TOKEN in /apps/db and "
        "/apps/web; rename one, or fetch those folders one at a time without recursive"
    )
    for value in ("another-value", "third-value", VALUES["API_KEY"]):
        assert value not in err.message


def test_imports_fill_only_missing_names_and_the_last_import_wins(fake: FakeInfisical) -> None:
    fake.set_secret(PROJECT_ID, "shared", "/", "DB_URL", "shared-db")
    fake.set_secret(PROJECT_ID, "shared", "/", "LOG_LEVEL", "info")
    fake.set_secret(PROJECT_ID, "shared", "/", "REGION", "eu-1")
    fake.set_secret(PROJECT_ID, "shared", "/regional", "REGION", "us-2")
    fake.add_import(PROJECT_ID, "dev", "/", from_env="shared", from_path="/")
    fake.add_import(PROJECT_ID, "dev", "/", from_env="shared", from_path="/regional")
    fetched = make(fake).fetch()
    assert dict(fetched.values) == {**VALUES, "REGION": "us-2", "LOG_LEVEL": "info"}
    assert fetched.origins["DB_URL"] == "/"  # a direct secret beats every import
    assert fetched.origins["REGION"] == "shared:/regional"
    assert fetched.origins["LOG_LEVEL"] == "shared:/"


def test_imports_can_be_left_out(fake: FakeInfisical) -> None:
    fake.set_secret(PROJECT_ID, "shared", "/", "LOG_LEVEL", "info")
    fake.add_import(PROJECT_ID, "dev", "/", from_env="shared", from_path="/")
    fetched = make(fake, include_imports=False).fetch()
    assert dict(fetched.values) == VALUES
    assert data_requests(fake)[0].query["includeImports"] == ["false"]


def test_references_are_expanded_by_default_and_kept_on_request(fake: FakeInfisical) -> None:
    fake.set_secret(PROJECT_ID, "dev", "/", "HOST", "vault.lan")
    fake.set_secret(PROJECT_ID, "shared", "/ports", "HTTPS", "8443")
    fake.set_secret(PROJECT_ID, "dev", "/", "URL", "https://${HOST}:${shared.ports.HTTPS}/v1")
    fake.set_secret(PROJECT_ID, "dev", "/", "ALIAS", "${URL}")
    expanded = make(fake).fetch().values
    assert expanded["URL"] == "https://vault.lan:8443/v1"
    assert expanded["ALIAS"] == "https://vault.lan:8443/v1"
    raw = make(fake, expand_references=False).fetch().values
    assert raw["URL"] == "https://${HOST}:${shared.ports.HTTPS}/v1"
    assert raw["ALIAS"] == "${URL}"


def test_a_root_that_already_ends_in_api_is_taken_as_is(fake: FakeInfisical) -> None:
    client = httpx.Client(transport=fake.transport(), base_url="http://fake.invalid/api/")
    assert dict(make(fake, client=client).fetch().values) == VALUES
    assert fake.requests[-1].path == "/api/v4/secrets"


def test_hidden_values_are_an_error_naming_the_names(fake: FakeInfisical) -> None:
    fake.projects[PROJECT_ID].hidden.add("DB_URL")
    err = refused(make(fake))
    assert "the values of DB_URL are hidden from this identity" in err.message


# ---------------------------------------------------------------------------- refusals


def test_revoked_access_token_is_a_401(fake: FakeInfisical) -> None:
    token = fake.access_token()
    fake.revoke(token)
    err = refused(make(fake, auth=AccessToken(token)))
    assert err.status == 401
    assert err.message == (
        f"Infisical: could not list secrets of project {PROJECT_ID}, environment dev, path /: "
        "HTTP 401 Unauthorized; the access token was refused (revoked?): issue a new one"
    )
    assert token not in err.message


@pytest.mark.parametrize("malformed", [False, True])
def test_expired_or_malformed_access_token_is_a_403_token_error(
    fake: FakeInfisical, malformed: bool
) -> None:
    token = "not-a-token-the-server-issued" if malformed else fake.access_token(expired=True)
    err = refused(make(fake, auth=AccessToken(token)))
    assert err.status == 403
    assert "HTTP 403 Forbidden; the access token is expired or malformed (issue a new one)" in (
        err.message
    )
    assert f"project {PROJECT_ID}, environment dev, path /" in err.message
    assert token not in err.message
    assert len(fake.requests) == 1


def test_identity_without_access_to_the_project_is_a_403_naming_the_scope(
    fake: FakeInfisical,
) -> None:
    fake.universal_identity("cid-2", "csecret-2", projects=["other-project"])
    err = refused(make(fake, auth=UniversalAuth("cid-2", "csecret-2")))
    assert err.status == 403
    assert err.message.endswith(
        f"HTTP 403 Forbidden; the identity may not read or write project {PROJECT_ID}, "
        "environment dev, path /: give it a project role that can (or its access token "
        "expired: run again)"
    )


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"project_id": "no-such-project"}, "check the project id no-such-project"),
        ({"project_slug": "nope"}, "check the project slug nope"),
        ({"environment": "qa"}, "has environment qa and folder /"),
        ({"secret_path": "/missing"}, "has environment dev and folder /missing"),
    ],
)
def test_unknown_project_environment_or_folder_is_a_404_naming_it(
    fake: FakeInfisical, options: dict[str, Any], named: str
) -> None:
    err = refused(make(fake, **options))
    assert err.status == 404
    assert "HTTP 404 Not Found; " in err.message
    assert named in err.message
    assert err.message.endswith("and that the URL is the Infisical server root")
    assert not err.outage


def test_422_with_an_array_message_is_reported_without_its_text(fake: FakeInfisical) -> None:
    body = {
        "reqId": "req-1",
        "statusCode": 422,
        "error": "ValidationFailure",
        "message": [{"code": "custom", "path": ["secretPath"], "message": "echo s3cr3t-value"}],
    }
    fake.inject(Fault.error(422, body), path="/api/v4/secrets")
    err = refused(make(fake))
    assert err.status == 422
    assert err.message.endswith(
        f"HTTP 422 Unprocessable Entity; Infisical refused the parameters: check project "
        f"{PROJECT_ID}, environment dev, path / and the secret names"
    )
    assert "s3cr3t" not in err.message


# ---------------------------------------------------------------------------- retries


def test_429_retry_after_is_waited_exactly(fake: FakeInfisical) -> None:
    fake.rate_limit(retry_after=3, times=2, path="/api/v4/secrets")
    clock = FakeClock()
    assert dict(make(fake, clock=clock).fetch().values) == VALUES
    assert clock.slept == [3.0, 3.0]
    assert len(data_requests(fake)) == 3


def test_429_without_retry_after_backs_off(fake: FakeInfisical) -> None:
    fake.rate_limit(retry_after=None, times=2, path="/api/v4/secrets")
    clock = FakeClock()
    policy = RetryPolicy(base_delay=0.5)
    assert dict(make(fake, clock=clock, policy=policy).fetch().values) == VALUES
    assert clock.slept == [0.5, 1.0]


def test_login_is_retried_too(fake: FakeInfisical) -> None:
    fake.rate_limit(retry_after=1, path="/api/v1/auth/universal-auth/login")
    clock = FakeClock()
    assert dict(make(fake, clock=clock).fetch().values) == VALUES
    assert clock.slept == [1.0]
    assert fake.logins == 2


def test_5xx_with_html_is_retried_then_one_error(fake: FakeInfisical) -> None:
    fake.inject(Fault.html(502), path="/api/v4/secrets", times=None)
    err = refused(make(fake, policy=RetryPolicy(attempts=3)))
    assert err.message == (
        f"Infisical: could not list secrets of project {PROJECT_ID}, environment dev, path /: "
        "HTTP 502 Bad Gateway (after 3 attempts)"
    )
    assert err.outage
    assert err.status == 502
    assert len(data_requests(fake)) == 3
    assert fake.logins == 1


def test_a_reset_then_success(fake: FakeInfisical) -> None:
    fake.inject(Fault.connection_reset(), path="/api/v4/secrets")
    assert dict(make(fake).fetch().values) == VALUES


def test_malformed_json_is_retried_boundedly_then_one_error(fake: FakeInfisical) -> None:
    fake.inject(Fault.malformed_json(), path="/api/v4/secrets", times=None)
    clock = FakeClock()
    err = refused(make(fake, clock=clock, policy=RetryPolicy(attempts=4)))
    assert err.message.endswith("HTTP 200 OK with a body that is not valid JSON (after 4 attempts)")
    assert err.outage
    assert len(data_requests(fake)) == 4
    assert clock.slept == [0.5, 1.0, 2.0]


def test_json_that_is_not_a_listing_is_one_error(fake: FakeInfisical) -> None:
    fake.inject(
        Fault(200, b'{"secrets": {"API_KEY": "x"}}', (("Content-Type", "application/json"),)),
        path="/api/v4/secrets",
    )
    err = refused(make(fake))
    assert "the answer is not a list of secrets" in err.message
    assert not err.outage


# ---------------------------------------------------------------------------- upsert


def test_set_secrets_creates_updates_and_skips_unchanged_in_one_request(
    fake: FakeInfisical,
) -> None:
    provider = make(fake)
    written = provider.set_secrets(
        {"API_KEY": VALUES["API_KEY"], "DB_URL": "postgres://new", "AGE_KEY": "AGE-SECRET-KEY-1X"}
    )
    assert written == Written(
        created=("AGE_KEY",), updated=("DB_URL",), unchanged=("API_KEY",), altered=()
    )
    assert fake.values(PROJECT_ID, "dev") == {
        **VALUES,
        "DB_URL": "postgres://new",
        "AGE_KEY": "AGE-SECRET-KEY-1X",
    }
    listing, patch = data_requests(fake)
    assert listing.query["include_imports"] == ["false"]
    assert listing.query["expandSecretReferences"] == ["false"]
    assert (patch.method, patch.path) == ("PATCH", "/api/v4/secrets/batch")
    assert patch.json() == {
        "projectId": PROJECT_ID,
        "environment": "dev",
        "secretPath": "/",
        "mode": "upsert",
        "secrets": [
            {"secretKey": "DB_URL", "secretValue": "postgres://new"},
            {"secretKey": "AGE_KEY", "secretValue": "AGE-SECRET-KEY-1X"},
        ],
    }
    again = provider.set_secrets({"DB_URL": "postgres://new", "AGE_KEY": "AGE-SECRET-KEY-1X"})
    assert again == Written(unchanged=("DB_URL", "AGE_KEY"))
    assert [r.method for r in data_requests(fake)] == ["GET", "PATCH", "GET"]


def test_set_secrets_reports_values_the_server_trims(fake: FakeInfisical) -> None:
    values = {"PEM": "  -----BEGIN-----\nabc\n-----END-----\n\n", "PADDED": " x ", "API_KEY": " "}
    written = make(fake).set_secrets(values)
    assert written.altered == ("PEM", "PADDED", "API_KEY")
    stored = fake.values(PROJECT_ID, "dev")
    assert stored["PEM"] == "-----BEGIN-----\nabc\n-----END-----\n"
    assert stored["PADDED"] == "x"
    assert stored["API_KEY"] == ""
    assert all(stored[name] == stored_form(value) for name, value in values.items())
    # what is stored already counts as unchanged the next time
    assert make(fake).set_secrets(values).unchanged == ("PEM", "PADDED", "API_KEY")


def test_set_secrets_by_slug_uses_the_v3_batch(fake: FakeInfisical) -> None:
    written = make(fake, project_slug=SLUG, secret_path="/apps/web").set_secrets({"NEW": "1"})
    assert written.created == ("NEW",)
    assert fake.values(PROJECT_ID, "dev", "/apps/web") == {
        "WEB_TOKEN": "web-token-value",
        "NEW": "1",
    }
    patch = data_requests(fake)[-1]
    assert patch.path == "/api/v3/secrets/batch/raw"
    assert patch.json()["projectSlug"] == SLUG
    assert patch.json()["secretPath"] == "/apps/web"


def test_set_secrets_under_an_approval_policy_is_a_clear_error_and_writes_nothing(
    fake: FakeInfisical,
) -> None:
    fake.require_approval(PROJECT_ID, "dev")
    with pytest.raises(ProviderError) as caught:
        make(fake).set_secrets({"DB_URL": "changed-value", "NEW": "new-value"})
    assert caught.value.message == (
        f"Infisical: could not write 2 secrets to project {PROJECT_ID}, environment dev, path /: "
        "environment dev is under a change-approval policy, so Infisical opened an approval "
        "request for DB_URL, NEW instead of writing them; approve it in Infisical, or write to "
        "an environment without that policy"
    )
    assert fake.values(PROJECT_ID, "dev") == VALUES


def test_set_secrets_without_write_access_is_a_403(fake: FakeInfisical) -> None:
    fake.universal_identity("cid-2", "csecret-2", projects=["other-project"])
    err = refused(make(fake, auth=UniversalAuth("cid-2", "csecret-2")), write=True)
    assert err.status == 403
    assert "may not read or write" in err.message


def test_set_secrets_checks_names_before_any_request(fake: FakeInfisical) -> None:
    with pytest.raises(UserError) as caught:
        make(fake).set_secrets({"GOOD": "1", "BAD\tNAME": "2", "": "3"})
    assert caught.value.exit_code == ExitCode.USAGE
    assert (
        "2 secrets have names Infisical refuses (empty or with whitespace)" in caught.value.message
    )
    assert make(fake).set_secrets({}) == Written()
    assert fake.requests == []


# ---------------------------------------------------------------------------- the rest


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"project_id": "p", "project_slug": "s"}, "give the project id or the project slug"),
        ({"project_id": " "}, "the project id is empty"),
        ({"environment": ""}, "the environment (slug, e.g. dev) is empty"),
        ({"auth": UniversalAuth("cid", " ")}, "the client secret is empty"),
        ({"auth": OidcAuth("", "")}, "the identity id and the ID token are empty"),
        ({"auth": AccessToken("")}, "the access token is empty"),
    ],
)
def test_bad_options_are_usage_errors(
    fake: FakeInfisical, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError) as caught:
        make(fake, **options)
    assert caught.value.exit_code == ExitCode.USAGE
    assert message in caught.value.message


def test_nothing_secret_in_repr_describe_or_cache_key(fake: FakeInfisical) -> None:
    token = fake.access_token()
    for auth in (UNIVERSAL, OidcAuth("identity-1", make_jwt()), AccessToken(token)):
        provider = make(fake, auth=auth, secret_path="/apps/web", recursive=True)
        shown = " ".join(
            [
                repr(auth),
                repr(provider),
                provider.describe(),
                provider.cache_key(),
                repr(provider.fetch()) if isinstance(auth, AccessToken) else "",
            ]
        )
        for secret in (CLIENT_SECRET, CLIENT_ID, token, "web-token-value", make_jwt()[:20]):
            assert secret not in shown
    assert provider.describe() == (
        f"infisical project {PROJECT_ID}, environment dev, path /apps/web and its sub-folders"
    )
    assert provider.cache_key() == (
        f"infisical http://fake.invalid project-id={PROJECT_ID} env=dev path=/apps/web "
        "recursive=True imports=True expand=True"
    )


def test_it_is_a_provider(fake: FakeInfisical) -> None:
    provider: Provider = make(fake)
    assert provider.kind == "infisical"


@pytest.mark.parametrize(
    ("raw", "path"), [("/", "/"), ("", "/"), ("apps/web/", "/apps/web"), ("//a//b", "/a/b")]
)
def test_normalize_path(raw: str, path: str) -> None:
    assert normalize_path(raw) == path


def test_fetch_over_a_socket_with_latency(fake: FakeInfisical) -> None:
    from fakes import serve

    fake.latency = 0.02
    with serve(fake) as url, httpx.Client(base_url=url, timeout=5) as client:
        fetched = make(fake, client=client).fetch()
    assert dict(fetched.values) == VALUES
    assert json.loads(fake.requests[0].body)["clientId"] == CLIENT_ID
