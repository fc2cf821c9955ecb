"""The parts of the fake Infisical's contract that neither the SDK nor our
provider exercise: the official action's form-encoded logins, v4's ETag and
flag spellings, validation errors and all-or-nothing batch writes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fakes.infisical import FakeInfisical, make_jwt

PROJECT_ID = "p-123"


@pytest.fixture
def fake() -> FakeInfisical:
    fake = FakeInfisical()
    fake.add_project(PROJECT_ID, "homelab", environments=("dev", "shared"))
    fake.set_secret(PROJECT_ID, "dev", "/", "API_KEY", "s3cr3t")
    fake.set_secret(PROJECT_ID, "shared", "/", "LOG_LEVEL", "info")
    fake.add_import(PROJECT_ID, "dev", "/", from_env="shared", from_path="/")
    fake.universal_identity("cid-1", "csecret-1")
    return fake


@pytest.fixture
def client(fake: FakeInfisical) -> Iterator[httpx.Client]:
    with fake.client(headers={"Authorization": f"Bearer {fake.access_token()}"}) as c:
        yield c


def test_form_encoded_logins_as_the_official_action_sends_them(fake: FakeInfisical) -> None:
    fake.oidc_identity("identity-1", audience="aud-1", subject="repo:o/r:ref:refs/heads/main")
    with fake.client() as c:
        universal = c.post(
            "/api/v1/auth/universal-auth/login",
            data={"clientId": "cid-1", "clientSecret": "csecret-1"},
        )
        jwt = make_jwt(audience="aud-1", subject="repo:o/r:ref:refs/heads/main")
        oidc = c.post("/api/v1/auth/oidc-auth/login", data={"identityId": "identity-1", "jwt": jwt})
        wrong_subject = c.post(
            "/api/v1/auth/oidc-auth/login",
            data={"identityId": "identity-1", "jwt": make_jwt(audience="aud-1", subject="x")},
        )
    for answer in (universal, oidc):
        assert answer.status_code == 200
        assert set(answer.json()) == {"accessToken", "expiresIn", "accessTokenMaxTTL", "tokenType"}
    assert fake.requests[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert wrong_subject.status_code == 401
    assert wrong_subject.json()["message"] == "Access denied: OIDC subject not allowed."


def test_v4_sends_an_etag_and_answers_304_when_nothing_changed(
    fake: FakeInfisical, client: httpx.Client
) -> None:
    params = {"projectId": PROJECT_ID, "environment": "dev", "includeImports": "true"}
    first = client.get("/api/v4/secrets", params=params)
    etag = first.headers["etag"]
    assert [i["environment"] for i in first.json()["imports"]] == ["shared"]
    same = client.get("/api/v4/secrets", params=params, headers={"If-None-Match": etag})
    assert (same.status_code, same.content) == (304, b"")
    fake.set_secret(PROJECT_ID, "dev", "/", "API_KEY", "rotated")
    changed = client.get("/api/v4/secrets", params=params, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_v4_reads_both_spellings_of_include_imports(client: httpx.Client) -> None:
    base = {"projectId": PROJECT_ID, "environment": "dev"}
    for key in ("include_imports", "includeImports"):
        answer = client.get("/api/v4/secrets", params={**base, key: "true"})
        assert len(answer.json()["imports"]) == 1
    assert client.get("/api/v4/secrets", params=base).json()["imports"] == []


def test_a_flag_that_is_not_true_or_false_is_a_422_with_an_array_message(
    client: httpx.Client,
) -> None:
    answer = client.get(
        "/api/v3/secrets/raw",
        params={"workspaceId": PROJECT_ID, "environment": "dev", "recursive": "yes"},
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "ValidationFailure"
    assert body["message"][0]["path"] == ["recursive"]
    assert set(body) == {"reqId", "statusCode", "message", "error"}


def test_missing_authorization_is_401_and_an_unknown_token_403(fake: FakeInfisical) -> None:
    params = {"workspaceId": PROJECT_ID, "environment": "dev"}
    with fake.client() as c:
        missing = c.get("/api/v3/secrets/raw", params=params)
        unknown = c.get("/api/v3/secrets/raw", params=params, headers={"Authorization": "Bearer x"})
    assert (missing.status_code, missing.json()["error"]) == (401, "UnauthorizedError")
    assert (unknown.status_code, unknown.json()["error"]) == (403, "TokenError")


def test_batch_create_is_all_or_nothing(fake: FakeInfisical, client: httpx.Client) -> None:
    body = {
        "projectId": PROJECT_ID,
        "environment": "dev",
        "secretPath": "/",
        "secrets": [
            {"secretKey": "NEW", "secretValue": "1"},
            {"secretKey": "API_KEY", "secretValue": "2"},
        ],
    }
    answer = client.post("/api/v4/secrets/batch", json=body)
    assert (answer.status_code, answer.json()["message"]) == (400, "Secret already exist")
    assert fake.values(PROJECT_ID, "dev") == {"API_KEY": "s3cr3t"}
    body["secrets"] = body["secrets"][:1]
    assert (
        client.post("/api/v4/secrets/batch", json=body).json()["secrets"][0]["secretKey"] == "NEW"
    )


def test_batch_update_modes(fake: FakeInfisical, client: httpx.Client) -> None:
    body = {
        "projectId": PROJECT_ID,
        "environment": "dev",
        "secrets": [
            {"secretKey": "API_KEY", "secretValue": " rotated "},
            {"secretKey": "ABSENT", "secretValue": "x"},
        ],
    }
    assert client.patch("/api/v4/secrets/batch", json=body).status_code == 404
    assert fake.values(PROJECT_ID, "dev") == {"API_KEY": "s3cr3t"}
    ignored = client.patch("/api/v4/secrets/batch", json={**body, "mode": "ignore"})
    assert [s["secretKey"] for s in ignored.json()["secrets"]] == ["API_KEY"]
    assert fake.values(PROJECT_ID, "dev") == {"API_KEY": "rotated"}
    upserted = client.patch("/api/v4/secrets/batch", json={**body, "mode": "upsert"})
    assert [s["version"] for s in upserted.json()["secrets"]] == [3, 1]
    assert fake.values(PROJECT_ID, "dev") == {"API_KEY": "rotated", "ABSENT": "x"}


def test_unknown_environment_and_folder_are_404_not_found(client: httpx.Client) -> None:
    for env, path in (("qa", "/"), ("dev", "/nope")):
        answer = client.get(
            "/api/v3/secrets/raw",
            params={"workspaceSlug": "homelab", "environment": env, "secretPath": path},
        )
        assert (answer.status_code, answer.json()["error"]) == (404, "NotFound")
