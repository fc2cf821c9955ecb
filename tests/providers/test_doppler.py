"""The Doppler provider against the fake Doppler, in-process: scoping by token
kind, meta keys, refusals and their hints, faults and retries (on a fake
clock), OIDC login through the GitHub ID-token stand-in, and writes."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest

from fakes import Fault
from fakes.doppler import FakeDoppler
from fakes.github_oidc import ISSUER, FakeGitHubOIDC
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.base import Fetched
from homelab_secrets.providers.doppler import (
    DopplerOptions,
    DopplerProvider,
    TokenKind,
    oidc_login,
    token_kind,
)
from homelab_secrets.providers.github_oidc import request_id_token
from homelab_secrets.providers.http import Clock, ProviderError, RetryPolicy
from support.clock import FakeClock

DOWNLOAD = "/v3/configs/config/secrets/download"
ST = "dp.st.prd.Q2hhbmdlTWVQbGVhc2VUaGlzSXNBRmFrZVRva2Vu"
ST_RW = "dp.st.prd.UmVhZFdyaXRlU2VydmljZVRva2VuRm9yVGVzdHM"
SA = "dp.sa.UmVhZE9ubHlTZXJ2aWNlQWNjb3VudFRva2Vu"
SA_WRITE = "dp.sa.V3JpdGVyU2VydmljZUFjY291bnRUb2tlbg"

PRD = {
    "API_KEY": "s3cr3t-api",
    "DB_PASS": "p@ss:w0rd",
    "DB_URL": "postgres://app:${DB_PASS}@db.lan/app",
    "MULTI": "line1\nline2",
}
PRD_COMPUTED = {**PRD, "DB_URL": "postgres://app:p@ss:w0rd@db.lan/app"}
DEV = {"API_KEY": "dev-api-key", "DEBUG": "1"}


@pytest.fixture
def fake() -> FakeDoppler:
    doppler = FakeDoppler()
    doppler.add_config("iac-conf-mgmt", "prd", PRD)
    doppler.add_config("iac-conf-mgmt", "dev", DEV)
    doppler.add_config("media", "prd", {"PLEX_TOKEN": "plex-value"})
    doppler.add_service_token(ST, "iac-conf-mgmt", "prd")
    doppler.add_service_token(ST_RW, "iac-conf-mgmt", "prd", write=True)
    doppler.add_account_token(SA, {"iac-conf-mgmt": "read"})
    doppler.add_account_token(SA_WRITE, {"iac-conf-mgmt/prd": "write"})
    return doppler


@pytest.fixture
def client(fake: FakeDoppler) -> Iterator[httpx.Client]:
    with fake.client() as c:
        yield c


def provider(
    client: httpx.Client,
    token: str,
    project: str | None = None,
    config: str | None = None,
    *,
    include_meta: bool = False,
    clock: Clock | None = None,
    policy: RetryPolicy | None = None,
) -> DopplerProvider:
    return DopplerProvider(
        client,
        DopplerOptions(token, project, config, include_meta=include_meta),
        clock=clock or FakeClock(),
        policy=policy or RetryPolicy(),
    )


# ------------------------------------------------------------------ scoping by token kind


def test_service_token_ignores_project_and_config_and_names_its_scope_from_meta_keys(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    p = provider(client, ST, "media", "prd")
    assert p.scope_ignored
    assert p.describe() == "doppler, the config the service token is bound to"
    fetched = p.fetch()
    assert dict(fetched.values) == PRD_COMPUTED
    assert fetched.source == "doppler iac-conf-mgmt/prd"
    assert p.describe() == "doppler project iac-conf-mgmt, config prd (service token)"
    (request,) = fake.requests
    assert request.path == DOWNLOAD
    assert request.query == {"format": ["json"], "include_dynamic_secrets": ["false"]}
    assert request.headers["authorization"] == f"Bearer {ST}"


def test_service_account_token_sends_project_and_config(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    p = provider(client, SA, "iac-conf-mgmt", "dev")
    assert p.describe() == "doppler project iac-conf-mgmt, config dev"
    fetched = p.fetch()
    assert dict(fetched.values) == DEV
    assert fetched.source == "doppler iac-conf-mgmt/dev"
    assert fake.requests[0].query == {
        "project": ["iac-conf-mgmt"],
        "config": ["dev"],
        "format": ["json"],
        "include_dynamic_secrets": ["false"],
    }


@pytest.mark.parametrize("token", [SA, "dp.said.abc", "dp.pt.abc", "dp.ct.abc"])
@pytest.mark.parametrize(
    ("project", "config", "missing"),
    [(None, None, "project and config"), ("p", None, "config"), ("", "prd", "project")],
)
def test_tokens_other_than_service_tokens_need_project_and_config_before_any_request(
    fake: FakeDoppler,
    client: httpx.Client,
    token: str,
    project: str | None,
    config: str | None,
    missing: str,
) -> None:
    with pytest.raises(UserError) as caught:
        provider(client, token, project, config)
    assert caught.value.exit_code == ExitCode.USAGE
    assert f"needs both a project and a config; give the {missing} " in caught.value.message
    assert token not in caught.value.message
    assert fake.requests == []


def test_token_kinds_come_from_the_prefix() -> None:
    assert token_kind(ST) is TokenKind.SERVICE
    assert token_kind(SA) is TokenKind.SERVICE_ACCOUNT
    assert token_kind("dp.said.x") is TokenKind.OIDC
    assert token_kind("dp.pt.x") is TokenKind.PERSONAL
    assert token_kind("legacy-token") is TokenKind.UNKNOWN


def test_a_token_without_known_prefix_is_sent_with_the_scope_given_or_none(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    fake.add_service_token("legacy-token", "iac-conf-mgmt", "dev")
    assert dict(provider(client, "legacy-token").fetch().values) == DEV
    assert "project" not in fake.requests[-1].query
    with pytest.raises(UserError, match="give the config"):
        provider(client, "legacy-token", "iac-conf-mgmt")


def test_meta_keys_are_dropped_unless_asked_for(client: httpx.Client) -> None:
    assert "DOPPLER_PROJECT" not in provider(client, ST).fetch().values
    kept = provider(client, ST, include_meta=True).fetch().values
    assert dict(kept) == {
        **PRD_COMPUTED,
        "DOPPLER_CONFIG": "prd",
        "DOPPLER_ENVIRONMENT": "prd",
        "DOPPLER_PROJECT": "iac-conf-mgmt",
    }


def test_cache_key_names_host_and_scope_never_the_token(client: httpx.Client) -> None:
    assert (
        provider(client, SA, "iac-conf-mgmt", "prd").cache_key()
        == "doppler|http://fake.invalid|iac-conf-mgmt/prd"
    )
    key = provider(client, ST).cache_key()
    assert key.startswith("doppler|http://fake.invalid|token-sha256:")
    assert key == provider(client, ST).cache_key()
    assert key != provider(client, ST_RW).cache_key()
    assert ST not in key
    assert ST.rsplit(".", maxsplit=1)[-1][:8] not in key


def test_no_token_or_value_in_reprs(client: httpx.Client) -> None:
    p = provider(client, SA, "iac-conf-mgmt", "prd")
    fetched = p.fetch()
    texts = [repr(p), repr(DopplerOptions(SA, "iac-conf-mgmt", "prd")), repr(fetched)]
    assert repr(p) == (
        "DopplerProvider(host='http://fake.invalid', token=<service account token>, "
        "project='iac-conf-mgmt', config='prd')"
    )
    for text in texts:
        assert SA not in text
        assert all(v not in text for v in PRD_COMPUTED.values())


@pytest.mark.parametrize("token", ["", "   ", "dp.st.a b", "dp.st.\u00e9x", "dp.st.x\ny"])
def test_empty_or_garbled_tokens_are_usage_errors_without_quoting_them(
    fake: FakeDoppler, client: httpx.Client, token: str
) -> None:
    with pytest.raises(UserError) as caught:
        provider(client, token)
    assert caught.value.exit_code == ExitCode.USAGE
    assert (token.strip() or "@@") not in caught.value.message
    assert fake.requests == []


def test_a_token_read_from_a_file_may_end_with_a_newline(client: httpx.Client) -> None:
    assert provider(client, ST + "\n").fetch().values["API_KEY"] == "s3cr3t-api"


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("token", "project", "config", "status", "expected"),
    [
        (
            "dp.sa.revoked",
            "iac-conf-mgmt",
            "prd",
            401,
            "Doppler: could not download the secrets of project iac-conf-mgmt, config prd: "
            "HTTP 401 Unauthorized (the token is invalid, expired or revoked: give a current "
            "one, a service account token)",
        ),
        (
            SA,
            "media",
            "prd",
            403,
            "Doppler: could not download the secrets of project media, config prd: "
            "HTTP 403 Forbidden (the token has no access to project media, config prd: give "
            "the service account or identity a role on that project, or use a service token "
            "of that config)",
        ),
        (
            SA,
            "iac-conf-mgmt",
            "stg",
            404,
            "Doppler: could not download the secrets of project iac-conf-mgmt, config stg: "
            "HTTP 404 Not Found (project iac-conf-mgmt or its config stg does not exist: check "
            "both names in the Doppler dashboard)",
        ),
    ],
)
def test_refusals_fail_at_once_naming_project_and_config_never_the_token(
    fake: FakeDoppler,
    client: httpx.Client,
    token: str,
    project: str,
    config: str,
    status: int,
    expected: str,
) -> None:
    clock = FakeClock()
    with pytest.raises(ProviderError) as caught:
        provider(client, token, project, config, clock=clock).fetch()
    err = caught.value
    assert err.message == expected
    assert err.status == status
    assert not err.outage
    assert token not in err.message
    assert clock.slept == []
    assert len(fake.requests) == 1


def test_a_revoked_service_token_is_named_as_such(fake: FakeDoppler, client: httpx.Client) -> None:
    del fake.tokens[ST]
    with pytest.raises(ProviderError) as caught:
        provider(client, ST).fetch()
    assert caught.value.message == (
        "Doppler: could not download the secrets of the config the service token is bound to: "
        "HTTP 401 Unauthorized (the token is invalid, expired or revoked: give a current one, "
        "a service token)"
    )


def test_a_service_token_refused_its_own_config_is_told_to_make_a_new_one(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    fake.inject(Fault.error(403, {"messages": ["Forbidden"], "success": False}))
    with pytest.raises(ProviderError) as caught:
        provider(client, ST).fetch()
    assert caught.value.message.endswith(
        "HTTP 403 Forbidden (the service token may not read its config: create a new one for it)"
    )


# ------------------------------------------------------------------ faults and retries


def test_429_with_retry_after_waits_exactly_that_long(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    body = {"messages": ["Rate limit exceeded"], "success": False}
    fake.inject(Fault.error(429, body, retry_after=3), path=DOWNLOAD, times=2)
    clock = FakeClock()
    assert dict(provider(client, ST, clock=clock).fetch().values) == PRD_COMPUTED
    assert clock.slept == [3.0, 3.0]
    assert len(fake.requests) == 3


def test_429_without_retry_after_backs_off_then_gives_one_error(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    fake.inject(Fault.error(429, {"messages": ["slow down"], "success": False}), times=None)
    clock = FakeClock()
    with pytest.raises(ProviderError) as caught:
        provider(client, ST, clock=clock, policy=RetryPolicy(attempts=4)).fetch()
    assert clock.slept == [0.5, 1.0, 2.0]
    assert caught.value.message == (
        "Doppler: could not download the secrets of the config the service token is bound to: "
        "HTTP 429 Too Many Requests (after 4 attempts)"
    )
    assert caught.value.outage


def test_5xx_with_an_html_body_is_retried_then_reported_without_the_body(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    fake.inject(Fault.html(502), times=None)
    with pytest.raises(ProviderError) as caught:
        provider(client, SA, "iac-conf-mgmt", "prd", policy=RetryPolicy(attempts=3)).fetch()
    assert caught.value.message == (
        "Doppler: could not download the secrets of project iac-conf-mgmt, config prd: "
        "HTTP 502 Bad Gateway (after 3 attempts)"
    )
    assert caught.value.status == 502
    assert caught.value.outage
    assert len(fake.requests) == 3


def test_a_503_then_success(fake: FakeDoppler, client: httpx.Client) -> None:
    fake.inject(Fault.html(503))
    clock = FakeClock()
    assert provider(client, ST, clock=clock).fetch().values["MULTI"] == "line1\nline2"
    assert clock.slept == [0.5]


def test_a_connection_reset_is_retried(fake: FakeDoppler, client: httpx.Client) -> None:
    fake.inject(Fault.connection_reset(), times=2)
    assert dict(provider(client, ST).fetch().values) == PRD_COMPUTED
    assert len(fake.requests) == 3


def test_malformed_json_is_retried_a_bounded_number_of_times_then_one_error(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    fake.inject(Fault.malformed_json(), times=None)
    clock = FakeClock()
    with pytest.raises(ProviderError) as caught:
        provider(client, ST, clock=clock).fetch()
    assert len(fake.requests) == 5
    assert clock.slept == [0.5, 1.0, 2.0, 4.0]
    assert caught.value.message.endswith(
        ": HTTP 200 OK with a body that is not valid JSON (after 5 attempts)"
    )


def test_values_that_are_not_strings_fail_naming_only_the_names(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    answer = {"GOOD": "text-value", "PORT": 5432, "NESTED": {"inner": "hidden-value"}}
    fake.inject(Fault.error(200, answer))
    with pytest.raises(ProviderError) as caught:
        provider(client, ST).fetch()
    assert caught.value.message == (
        "Doppler: could not download the secrets of the config the service token is bound to: "
        "the value of NESTED, PORT is not a string (expected a flat JSON object of strings)"
    )
    assert "hidden-value" not in caught.value.message
    assert "5432" not in caught.value.message


def test_an_answer_that_is_not_an_object_is_one_error(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    fake.inject(Fault.error(200, ["API_KEY"]))
    with pytest.raises(ProviderError, match="the answer is not a JSON object"):
        provider(client, ST).fetch()


# ------------------------------------------------------------------ writes


def test_set_secrets_needs_write_access(fake: FakeDoppler, client: httpx.Client) -> None:
    with pytest.raises(ProviderError) as caught:
        provider(client, ST).set_secrets({"SOPS_AGE_KEY": "AGE-SECRET-KEY-1QQQ"})
    assert caught.value.status == 403
    assert caught.value.message == (
        "Doppler: could not write SOPS_AGE_KEY to the config the service token is bound to: "
        "HTTP 403 Forbidden (the token may not write to the config the service token is bound "
        "to: use a read/write service token or a service account with a write role on it)"
    )
    assert "AGE-SECRET" not in caught.value.message
    with pytest.raises(ProviderError, match="may not write to project iac-conf-mgmt, config prd"):
        provider(client, SA, "iac-conf-mgmt", "prd").set_secrets({"SOPS_AGE_KEY": "k"})
    assert fake.values("iac-conf-mgmt", "prd") == PRD


def test_set_secrets_writes_with_the_simple_body(fake: FakeDoppler, client: httpx.Client) -> None:
    provider(client, ST_RW).set_secrets({"SOPS_AGE_KEY": "AGE-SECRET-KEY-1QQQ", "API_KEY": "new"})
    assert fake.values("iac-conf-mgmt", "prd") == {
        **PRD,
        "SOPS_AGE_KEY": "AGE-SECRET-KEY-1QQQ",
        "API_KEY": "new",
    }
    provider(client, SA_WRITE, "iac-conf-mgmt", "prd").set_secrets({"ROTATED": "r2"})
    first, second = fake.requests
    assert first.method == "POST"
    assert first.query == {}
    assert first.json() == {"secrets": {"SOPS_AGE_KEY": "AGE-SECRET-KEY-1QQQ", "API_KEY": "new"}}
    assert second.query == {"project": ["iac-conf-mgmt"], "config": ["prd"]}
    fetched = provider(client, ST).fetch()
    assert fetched.values["SOPS_AGE_KEY"] == "AGE-SECRET-KEY-1QQQ"
    assert fetched.values["ROTATED"] == "r2"


@pytest.mark.parametrize(
    "values",
    [{}, {"": "x"}, {"DOPPLER_PROJECT": "x"}, {"A": 1}],
)
def test_set_secrets_refuses_bad_input_before_any_request(
    fake: FakeDoppler, client: httpx.Client, values: dict[str, object]
) -> None:
    with pytest.raises(UserError) as caught:
        provider(client, ST_RW).set_secrets(values)  # type: ignore[arg-type]
    assert caught.value.exit_code == ExitCode.USAGE
    assert fake.requests == []


def test_set_secrets_notices_an_answer_without_the_written_name(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    fake.inject(Fault.error(200, {"success": True, "secrets": {}}))
    with pytest.raises(ProviderError) as caught:
        provider(client, ST_RW).set_secrets({"SOPS_AGE_KEY": "AGE-SECRET-KEY-1QQQ"})
    assert "the answer does not list SOPS_AGE_KEY" in caught.value.message


# ------------------------------------------------------------------ OIDC


@pytest.fixture
def github() -> FakeGitHubOIDC:
    return FakeGitHubOIDC(repository="homelab/terraform-proxmox", ref="refs/heads/main")


AUDIENCE = "https://doppler.example/identity"
IDENTITY = "5e0f3b9e-2f53-4d4e-9a55-6f3bde1c0a11"


def test_oidc_login_through_the_github_stand_in_then_fetch(
    fake: FakeDoppler, client: httpx.Client, github: FakeGitHubOIDC
) -> None:
    fake.add_identity(
        IDENTITY,
        key=github.key,
        audience=AUDIENCE,
        subject="repo:homelab/terraform-proxmox:ref:refs/heads/*",
        access={"iac-conf-mgmt": "read"},
    )
    with github.client() as gh:
        id_token = request_id_token(
            gh, github.request_url("http://runner.invalid"), github.request_token, AUDIENCE
        )
    (asked,) = github.requests
    assert asked.query == {"api-version": ["2.0"], "audience": [AUDIENCE]}
    assert asked.headers["authorization"] == f"Bearer {github.request_token}"
    claims = jwt.decode(id_token, options={"verify_signature": False})
    assert claims["aud"] == AUDIENCE
    assert claims["iss"] == ISSUER
    assert claims["sub"] == "repo:homelab/terraform-proxmox:ref:refs/heads/main"
    assert claims["repository"] == "homelab/terraform-proxmox"

    token = oidc_login(client, IDENTITY, id_token)
    assert token.startswith("dp.said.")
    assert fake.issued == [token]
    (login,) = fake.requests
    assert login.path == "/v3/auth/oidc"
    assert "authorization" not in login.headers
    assert login.json() == {"identity": IDENTITY, "token": id_token}

    fetched = provider(client, token, "iac-conf-mgmt", "prd").fetch()
    assert dict(fetched.values) == PRD_COMPUTED
    with pytest.raises(UserError, match="give the project and config"):
        provider(client, token)


def test_the_default_audience_is_githubs_when_none_is_asked(github: FakeGitHubOIDC) -> None:
    with github.client() as gh:
        id_token = request_id_token(
            gh, github.request_url("http://runner.invalid"), github.request_token, None
        )
    assert github.requests[0].query == {"api-version": ["2.0"]}
    claims = jwt.decode(id_token, options={"verify_signature": False})
    assert claims["aud"] == "https://github.com/homelab"


@pytest.mark.parametrize(
    ("subject", "audience"),
    [
        ("repo:homelab/other-repo:*", AUDIENCE),
        ("repo:homelab/terraform-proxmox:*", "https://github.com/homelab"),
    ],
)
def test_oidc_login_is_refused_when_the_identitys_rules_do_not_match(
    fake: FakeDoppler, client: httpx.Client, github: FakeGitHubOIDC, subject: str, audience: str
) -> None:
    fake.add_identity(IDENTITY, key=github.key, audience=audience, subject=subject)
    id_token = github.mint(AUDIENCE)
    with pytest.raises(ProviderError) as caught:
        oidc_login(client, IDENTITY, id_token, clock=FakeClock())
    assert caught.value.status == 401
    assert caught.value.message == (
        f"Doppler: could not log in as identity {IDENTITY} with the job's OIDC token: "
        "HTTP 401 Unauthorized (the identity's rules do not accept this job's ID token: compare "
        "its audience with the one the token was requested for, and its subject rule with this "
        "repository and ref or environment)"
    )
    assert id_token not in caught.value.message
    assert fake.issued == []


def test_oidc_login_refuses_a_token_signed_by_someone_else_or_expired(
    fake: FakeDoppler, client: httpx.Client, github: FakeGitHubOIDC
) -> None:
    fake.add_identity(IDENTITY, key=github.key, audience=AUDIENCE, subject="repo:homelab/*")
    forged = FakeGitHubOIDC(repository="homelab/terraform-proxmox").mint(AUDIENCE)
    for id_token in (forged, github.mint(AUDIENCE, exp=1)):
        with pytest.raises(ProviderError) as caught:
            oidc_login(client, IDENTITY, id_token)
        assert caught.value.status == 401
    assert fake.issued == []


@pytest.mark.parametrize("identity", ["", "  ", "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"])
def test_oidc_login_refuses_an_identity_id_that_is_no_id_without_quoting_it(
    fake: FakeDoppler, client: httpx.Client, identity: str
) -> None:
    with pytest.raises(UserError) as caught:
        oidc_login(client, identity, "a.b.c")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "eyJ" not in caught.value.message
    assert fake.requests == []


def test_oidc_login_with_an_unknown_identity_says_to_check_it(
    client: httpx.Client, github: FakeGitHubOIDC
) -> None:
    with pytest.raises(ProviderError) as caught:
        oidc_login(client, "no-such-identity", github.mint(AUDIENCE))
    assert caught.value.message.endswith(
        "HTTP 404 Not Found (check the identity ID: Doppler, Team, Service Accounts, the "
        "identity's page)"
    )


def test_an_expired_oidc_token_is_a_401_saying_to_log_in_again(
    fake: FakeDoppler, client: httpx.Client, github: FakeGitHubOIDC
) -> None:
    fake.add_identity(IDENTITY, key=github.key, audience=AUDIENCE, subject="repo:*")
    token = oidc_login(client, IDENTITY, github.mint(AUDIENCE))
    fake.expire(token)
    with pytest.raises(ProviderError) as caught:
        provider(client, token, "iac-conf-mgmt", "prd").fetch()
    assert caught.value.message.endswith(
        "HTTP 401 Unauthorized (the OIDC-issued token expired or was revoked: log in again)"
    )


def test_id_token_request_refused_without_the_permission(github: FakeGitHubOIDC) -> None:
    with github.client() as gh, pytest.raises(ProviderError) as caught:
        request_id_token(
            gh, github.request_url("http://runner.invalid"), "ghs_wrong-request-token", AUDIENCE
        )
    assert caught.value.message == (
        f"GitHub Actions ID token: could not get an ID token for audience {AUDIENCE}: "
        "HTTP 401 Unauthorized (the runner refused the request token: the job needs "
        "`permissions: id-token: write`, and the token is only valid inside the job that "
        "received it)"
    )
    assert "ghs_wrong" not in caught.value.message


@pytest.mark.parametrize(
    ("url", "token"),
    [("", "t"), ("https://runner.example/idtoken?api-version=2.0", ""), ("ftp://x/y", "t")],
)
def test_id_token_request_needs_both_runner_values(url: str, token: str) -> None:
    with httpx.Client() as c, pytest.raises(UserError) as caught:
        request_id_token(c, url, token, AUDIENCE)
    assert caught.value.exit_code == ExitCode.USAGE


# ------------------------------------------------------------------ the fake's contract


def test_the_fake_accepts_bearer_and_basic_auth(fake: FakeDoppler, client: httpx.Client) -> None:
    basic = base64.b64encode(f"{ST}:".encode()).decode()
    answers = [
        client.get(DOWNLOAD, headers={"Authorization": header})
        for header in (f"Bearer {ST}", f"Basic {basic}")
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["DOPPLER_PROJECT"] == "iac-conf-mgmt"
    wrong = base64.b64encode(b"dp.st.nope:").decode()
    for headers in ({"Authorization": f"Basic {wrong}"}, {}):
        refused = client.get(DOWNLOAD, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["success"] is False
        assert isinstance(refused.json()["messages"], list)


def test_the_fake_treats_empty_scope_params_as_absent(client: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {ST}"}
    empty = client.get(DOWNLOAD, params={"project": "", "config": ""}, headers=auth)
    assert empty.status_code == 200
    other = client.get(DOWNLOAD, params={"project": "media", "config": "prd"}, headers=auth)
    assert other.status_code == 403
    sa = {"Authorization": f"Bearer {SA}"}
    missing = client.get(DOWNLOAD, params={"project": "iac-conf-mgmt", "config": ""}, headers=sa)
    assert missing.status_code == 400
    assert missing.json() == {"messages": ["You must specify a config"], "success": False}


def test_the_fake_answers_if_none_match_with_304(fake: FakeDoppler, client: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {ST}"}
    first = client.get(DOWNLOAD, headers=auth)
    etag = first.headers["etag"]
    again = client.get(DOWNLOAD, headers={**auth, "If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    fake.put_secret("iac-conf-mgmt", "prd", "API_KEY", "rotated")
    changed = client.get(DOWNLOAD, headers={**auth, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["API_KEY"] == "rotated"


def test_the_fake_list_names_and_single_secret_shapes(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    fake.put_secret("iac-conf-mgmt", "prd", "HIDDEN", "restricted-value", visibility="restricted")
    auth = {"Authorization": f"Bearer {ST}"}
    listing = client.get("/v3/configs/config/secrets", headers=auth).json()["secrets"]
    assert listing["DB_URL"] == {
        "raw": "postgres://app:${DB_PASS}@db.lan/app",
        "computed": "postgres://app:p@ss:w0rd@db.lan/app",
        "note": "",
        "rawVisibility": "masked",
        "computedVisibility": "masked",
        "rawValueType": {"type": "string"},
        "computedValueType": {"type": "string"},
    }
    assert listing["HIDDEN"]["raw"] is None
    assert listing["DOPPLER_PROJECT"]["computedVisibility"] == "unmasked"
    names = client.get("/v3/configs/config/secrets/names", headers=auth).json()["names"]
    assert names == sorted(
        [*PRD, "HIDDEN", "DOPPLER_CONFIG", "DOPPLER_ENVIRONMENT", "DOPPLER_PROJECT"]
    )
    one = client.get("/v3/configs/config/secret", params={"name": "API_KEY"}, headers=auth)
    assert one.json()["name"] == "API_KEY"
    assert one.json()["value"]["computed"] == "s3cr3t-api"
    gone = client.get("/v3/configs/config/secret", params={"name": "NOPE"}, headers=auth)
    assert gone.status_code == 404


def test_the_fake_resolves_references_in_other_configs_and_projects(
    fake: FakeDoppler, client: httpx.Client
) -> None:
    fake.put_secret("iac-conf-mgmt", "prd", "FROM_DEV", "${dev.API_KEY}")
    fake.put_secret("iac-conf-mgmt", "prd", "FROM_MEDIA", "${media.prd.PLEX_TOKEN}")
    fake.put_secret("iac-conf-mgmt", "prd", "DANGLING", "${NOPE}")
    values = provider(client, ST).fetch().values
    assert values["FROM_DEV"] == "dev-api-key"
    assert values["FROM_MEDIA"] == "plex-value"
    assert values["DANGLING"] == "${NOPE}"


def test_the_fake_download_options(fake: FakeDoppler, client: httpx.Client) -> None:
    fake.add_dynamic_secret("iac-conf-mgmt", "prd", "DB_LEASE")
    auth = {"Authorization": f"Bearer {ST}"}

    def download(**params: str) -> httpx.Response:
        return client.get(DOWNLOAD, params=params, headers=auth)

    assert sorted(download(name_transformer="tf-var").json()) == [
        "TF_VAR_api_key",
        "TF_VAR_db_pass",
        "TF_VAR_db_url",
        "TF_VAR_doppler_config",
        "TF_VAR_doppler_environment",
        "TF_VAR_doppler_project",
        "TF_VAR_multi",
    ]
    assert "ApiKey" in download(name_transformer="upper-camel").json()
    assert "apiKey" in download(name_transformer="camel").json()
    assert "db-pass" in download(name_transformer="lower-kebab").json()
    assert download(name_transformer="dotnet").status_code == 400
    assert download(secrets="API_KEY,MULTI").json() == {
        "API_KEY": "s3cr3t-api",
        "DOPPLER_CONFIG": "prd",
        "DOPPLER_ENVIRONMENT": "prd",
        "DOPPLER_PROJECT": "iac-conf-mgmt",
        "MULTI": "line1\nline2",
    }
    env = download(format="env", secrets="MULTI").text
    assert 'MULTI="line1\\nline2"\n' in env
    assert "DB_LEASE" not in download().json()
    leased = [download(include_dynamic_secrets="true").json()["DB_LEASE"] for _ in range(2)]
    assert leased == ["db_lease-lease-1-ttl-default", "db_lease-lease-2-ttl-default"]


def test_the_fake_change_requests(fake: FakeDoppler, client: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {SA_WRITE}"}
    scope = {"project": "iac-conf-mgmt", "config": "prd"}

    def post(body: object) -> httpx.Response:
        return client.post("/v3/configs/config/secrets", params=scope, json=body, headers=auth)

    done = post(
        {
            "change_requests": [
                {"name": "NEW", "originalName": None, "value": "n1"},
                {"name": "API_KEY", "originalName": None, "value": "upserted"},
                {"name": "DB_PASSWORD", "originalName": "DB_PASS", "value": None},
                {"name": "MULTI", "originalName": "MULTI", "value": None, "shouldDelete": True},
            ]
        }
    )
    assert done.status_code == 200
    assert fake.values("iac-conf-mgmt", "prd") == {
        "API_KEY": "upserted",
        "DB_URL": "postgres://app:${DB_PASS}@db.lan/app",
        "NEW": "n1",
        "DB_PASSWORD": "p@ss:w0rd",
    }
    assert done.json()["secrets"]["NEW"]["computed"] == "n1"
    stale = post(
        {
            "change_requests": [
                {"name": "NEW", "originalName": "NEW", "value": "x", "originalValue": "old"}
            ]
        }
    )
    assert stale.status_code == 400
    reserved = post({"secrets": {"DOPPLER_X": "1", "OK": "1"}})
    assert reserved.status_code == 400
    assert "OK" not in fake.values("iac-conf-mgmt", "prd")  # all or nothing


def test_the_fake_latency_is_per_request() -> None:
    slow = FakeDoppler(latency=0.05)
    slow.add_config("p", "c", {"A": "1"})
    slow.add_service_token(ST, "p", "c")
    with slow.client() as c:
        start = time.monotonic()
        provider(c, ST).fetch()
        assert time.monotonic() - start >= 0.05


def test_fetched_is_the_provider_interface_type(client: httpx.Client) -> None:
    assert isinstance(provider(client, ST).fetch(), Fetched)
