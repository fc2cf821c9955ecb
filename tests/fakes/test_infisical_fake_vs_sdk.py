"""The fake Infisical against the official Python SDK (``infisicalsdk``), served
on 127.0.0.1: if the real client can log in, list, create and read through the
fake, and fails where the real server refuses, the fake is a fair stand-in
for the server our provider is tested against."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from infisical_sdk import InfisicalSDKClient
from infisical_sdk.infisical_requests import APIError

from fakes import serve
from fakes.infisical import FakeInfisical, make_jwt
from homelab_secrets.providers.http import Clock
from homelab_secrets.providers.infisical import InfisicalProvider, UniversalAuth

PROJECT_ID = "5f0c7e1a-homelab"
SLUG = "homelab"
CLIENT_ID, CLIENT_SECRET = "cid-1", "csecret-1"


@pytest.fixture
def fake() -> FakeInfisical:
    fake = FakeInfisical()
    fake.add_project(PROJECT_ID, SLUG, environments=("dev", "shared"))
    fake.set_secret(PROJECT_ID, "dev", "/", "API_KEY", "s3cr3t")
    fake.set_secret(PROJECT_ID, "dev", "/", "DB_URL", "postgres://u:p@db/app")
    fake.set_secret(PROJECT_ID, "dev", "/", "MULTI", "line1\nline2")
    fake.set_secret(PROJECT_ID, "shared", "/", "DB_URL", "shared-db")
    fake.set_secret(PROJECT_ID, "shared", "/", "REGION", "eu-1")
    fake.set_secret(PROJECT_ID, "shared", "/", "LOG_LEVEL", "info")
    fake.set_secret(PROJECT_ID, "shared", "/regional", "REGION", "us-2")
    fake.add_import(PROJECT_ID, "dev", "/", from_env="shared", from_path="/")
    fake.add_import(PROJECT_ID, "dev", "/", from_env="shared", from_path="/regional")
    fake.universal_identity(CLIENT_ID, CLIENT_SECRET)
    return fake


@pytest.fixture
def url(fake: FakeInfisical) -> Iterator[str]:
    with serve(fake) as base:
        yield base


@pytest.fixture
def sdk(url: str) -> Iterator[InfisicalSDKClient]:
    client = InfisicalSDKClient(host=url, cache_ttl=None)  # no cache: every call is a request
    yield client
    client.close()


def logged_in(sdk: InfisicalSDKClient) -> InfisicalSDKClient:
    sdk.auth.universal_auth.login(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    return sdk


def merged(listing: Any) -> dict[str, str]:
    """What a consumer of the SDK's list makes of it, with Infisical's precedence."""
    values = {s.secretKey: s.secretValue for s in listing.secrets}
    for imported in reversed(listing.imports):
        for secret in imported.secrets:  # plain dicts: the SDK does not parse them
            values.setdefault(secret["secretKey"], secret["secretValue"])
    return values


def test_sdk_universal_login_gets_a_bearer_token(
    fake: FakeInfisical, sdk: InfisicalSDKClient
) -> None:
    answer = sdk.auth.universal_auth.login(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert answer.tokenType == "Bearer"
    assert answer.expiresIn == 7200
    assert answer.accessTokenMaxTTL == 7200
    assert sdk.get_token() == answer.accessToken
    assert fake.requests[0].headers["content-type"] == "application/json"


def test_sdk_oidc_login(fake: FakeInfisical, sdk: InfisicalSDKClient) -> None:
    fake.oidc_identity("identity-1", audience="https://github.com/homelab")
    answer = sdk.auth.oidc_auth.login(identity_id="identity-1", jwt=make_jwt())
    assert answer.accessToken
    listing = sdk.secrets.list_secrets(
        environment_slug="dev", secret_path="/", project_id=PROJECT_ID
    )
    assert {s.secretKey for s in listing.secrets} == {"API_KEY", "DB_URL", "MULTI"}


def test_sdk_list_with_imports_gives_the_values_our_provider_returns(
    fake: FakeInfisical, sdk: InfisicalSDKClient, url: str
) -> None:
    listing = logged_in(sdk).secrets.list_secrets(
        environment_slug="dev", secret_path="/", project_id=PROJECT_ID, include_imports=True
    )
    assert [(i.environment, i.secretPath) for i in listing.imports] == [
        ("shared", "/"),
        ("shared", "/regional"),
    ]
    first = listing.secrets[0]
    assert (first.workspace, first.environment, first.type, first.version) == (
        PROJECT_ID,
        "dev",
        "shared",
        1,
    )
    expected = {
        "API_KEY": "s3cr3t",
        "DB_URL": "postgres://u:p@db/app",
        "MULTI": "line1\nline2",
        "REGION": "us-2",
        "LOG_LEVEL": "info",
    }
    assert merged(listing) == expected
    by_slug = sdk.secrets.list_secrets(environment_slug="dev", secret_path="/", project_slug=SLUG)
    assert merged(by_slug) == expected
    with httpx.Client(base_url=url, timeout=5) as client:
        for project in ({"project_id": PROJECT_ID}, {"project_slug": SLUG}):
            ours = InfisicalProvider(
                client,
                auth=UniversalAuth(CLIENT_ID, CLIENT_SECRET),
                environment="dev",
                clock=Clock(sleep=lambda _: None),
                **project,  # type: ignore[arg-type]
            ).fetch()
            assert dict(ours.values) == expected


def test_sdk_create_trims_then_get_and_update(fake: FakeInfisical, sdk: InfisicalSDKClient) -> None:
    secrets = logged_in(sdk).secrets
    created = secrets.create_secret_by_name(
        secret_name="AGE_KEY",
        secret_path="/",
        environment_slug="dev",
        project_id=PROJECT_ID,
        secret_value="  AGE-SECRET-KEY-1ABC  \n",
    )
    assert created.secretValue == "AGE-SECRET-KEY-1ABC\n"
    assert fake.values(PROJECT_ID, "dev")["AGE_KEY"] == "AGE-SECRET-KEY-1ABC\n"
    got = secrets.get_secret_by_name(
        secret_name="AGE_KEY", environment_slug="dev", secret_path="/", project_slug=SLUG
    )
    assert got.secretValue == "AGE-SECRET-KEY-1ABC\n"
    updated = secrets.update_secret_by_name(
        current_secret_name="AGE_KEY",
        secret_path="/",
        environment_slug="dev",
        project_slug=SLUG,
        secret_value="AGE-SECRET-KEY-1DEF",
    )
    assert (updated.secretValue, updated.version) == ("AGE-SECRET-KEY-1DEF", 2)
    imported = secrets.get_secret_by_name(
        secret_name="REGION", environment_slug="dev", secret_path="/", project_id=PROJECT_ID
    )
    assert imported.secretValue == "us-2"  # the last import wins here too


def test_sdk_duplicate_create_is_a_400(fake: FakeInfisical, sdk: InfisicalSDKClient) -> None:
    with pytest.raises(APIError) as caught:
        logged_in(sdk).secrets.create_secret_by_name(
            secret_name="API_KEY",
            secret_path="/",
            environment_slug="dev",
            project_id=PROJECT_ID,
            secret_value="other",
        )
    assert caught.value.status_code == 400
    assert caught.value.response["error"] == "BadRequest"
    assert fake.values(PROJECT_ID, "dev")["API_KEY"] == "s3cr3t"


@pytest.mark.parametrize("project", [{"project_slug": "nope"}, {"project_id": "nope"}])
def test_sdk_unknown_project_is_a_404(sdk: InfisicalSDKClient, project: dict[str, str]) -> None:
    with pytest.raises(APIError) as caught:
        logged_in(sdk).secrets.list_secrets(environment_slug="dev", secret_path="/", **project)
    assert caught.value.status_code == 404
    assert set(caught.value.response) == {"reqId", "statusCode", "message", "error"}
    assert caught.value.response["error"] == "NotFound"


def test_sdk_bad_client_secret_is_a_401(sdk: InfisicalSDKClient) -> None:
    with pytest.raises(APIError) as caught:
        sdk.auth.universal_auth.login(client_id=CLIENT_ID, client_secret="wrong")
    assert caught.value.status_code == 401
    assert caught.value.response["error"] == "UnauthorizedError"


def test_sdk_sees_429_and_does_not_retry_it(fake: FakeInfisical, sdk: InfisicalSDKClient) -> None:
    logged_in(sdk)
    fake.rate_limit(retry_after=7, path="/api/v3/secrets/raw")
    with pytest.raises(APIError) as caught:
        sdk.secrets.list_secrets(environment_slug="dev", secret_path="/", project_id=PROJECT_ID)
    assert caught.value.status_code == 429
    assert caught.value.response["message"] == "Rate limit exceeded. Please try again in 7 seconds"
    assert len([r for r in fake.requests if r.path == "/api/v3/secrets/raw"]) == 1
    # the next call goes through
    listing = sdk.secrets.list_secrets(
        environment_slug="dev", secret_path="/", project_id=PROJECT_ID
    )
    assert len(listing.secrets) == 3


def test_sdk_expired_token_is_a_403_token_error(
    fake: FakeInfisical, sdk: InfisicalSDKClient
) -> None:
    logged_in(sdk)
    fake.expire(sdk.get_token())
    with pytest.raises(APIError) as caught:
        sdk.secrets.list_secrets(environment_slug="dev", secret_path="/", project_id=PROJECT_ID)
    assert caught.value.status_code == 403
    assert caught.value.response["error"] == "TokenError"
