"""`homelab-secrets migrate --from doppler --to infisical` against the fake
Doppler and the fake Infisical served on 127.0.0.1 (issue 13's proof: 200
secrets across 3 configs, a 429 storm and a failure half-way, a rerun that
converges with identical fingerprints), plus the dry run, meta keys, values
Infisical would trim, change approvals, references and the mapping file."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakes import Fault, serve
from fakes.base import Request, Response, json_response, route
from fakes.doppler import FakeDoppler
from fakes.infisical import FakeInfisical
from homelab_secrets.errors import UserError
from homelab_secrets.migrate import mapping
from support.sops_oracle import Result, run_ours

SA = "dp.sa.TWlncmF0aW9uQWNjb3VudFRva2VuRm9yVGVzdHMxMjM0NTY"
PROJECT = "5f0a1b2c-0000-4000-8000-0000000000aa"
CLIENT_ID, CLIENT_SECRET = "cid-migrate", "csecret-migrate-0123456789"
KEY = "fingerprint-key-for-tests-only"
CONFIGS = {"dev": ("dev", 70), "stg": ("staging", 70), "prd": ("prod", 60)}  # 200 in all
BREAK_ON = "STG_SECRET_061"  # in the second batch of the stg mapping


def values_of(config: str, count: int) -> dict[str, str]:
    """Values with what makes migrations hard: newlines, JSON, quotes, unicode."""
    out = {}
    for i in range(count):
        name = f"{config.upper()}_SECRET_{i:03d}"
        kind = i % 5
        out[name] = [
            f"{config}-value-{i}-Zx9",
            f"line one {i}\nline two\n",
            json.dumps({"user": f"svc{i}", "key": f"k-{i}"}),
            f'it\'s "quoted" $HOME `x` {i} ü€',
            f"-----BEGIN KEY-----\nMII{i:04d}\n-----END KEY-----\n",
        ][kind]
    return out


class BreakableInfisical(FakeInfisical):
    """Fails (503, Retry-After 0, every retry) any batch write naming BREAK_ON
    while ``broken``: a failure half-way through one mapping."""

    broken = False

    @route("PATCH", "/api/v4/secrets/{name}")
    def update_v4(self, request: Request, name: str) -> Response:
        if self.broken and name == "batch" and BREAK_ON.encode() in request.body:
            return json_response(
                {"statusCode": 503, "message": "Service Unavailable", "error": "Unavailable"},
                503,
                {"Retry-After": "0"},
            )
        return super().update_v4(request, name)


@dataclass
class World:
    tmp: Path
    doppler: FakeDoppler
    infisical: BreakableInfisical
    doppler_url: str
    infisical_url: str

    def write_mapping(self, text: str | None = None) -> Path:
        path = self.tmp / "migrate.yaml"
        path.write_text(
            text
            or textwrap.dedent(
                f"""\
                from:
                  project: iac-conf-mgmt
                  api-host: {self.doppler_url}
                to:
                  api-url: {self.infisical_url}
                  project-id: {PROJECT}
                mappings:
                  - from: {{config: dev}}
                    to: {{environment: dev}}
                  - from: {{config: stg}}
                    to: {{environment: staging}}
                  - from: {{config: prd}}
                    to: {{environment: prod, path: /}}
                """
            )
        )
        return path

    def migrate(self, *args: str, **env: str) -> Result:
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        return run_ours(
            ["migrate", "--from", "doppler", "--to", "infisical", *args],
            cwd=self.tmp,
            home=home,
            env={
                "DOPPLER_TOKEN": SA,
                "INFISICAL_CLIENT_ID": CLIENT_ID,
                "INFISICAL_CLIENT_SECRET": CLIENT_SECRET,
                "HOMELAB_SECRETS_FINGERPRINT_KEY": KEY,
                **env,
            },
        )

    def expected(self, config: str) -> dict[str, str]:
        return self.doppler.values("iac-conf-mgmt", config)

    def writes(self) -> int:
        """Secret writes (logins are POSTs too, but change nothing)."""
        return sum(
            1
            for r in self.infisical.requests
            if r.method in ("POST", "PATCH", "DELETE") and "/secrets" in r.path
        )


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    doppler = FakeDoppler()
    for config, (_env, count) in CONFIGS.items():
        doppler.add_config("iac-conf-mgmt", config, values_of(config, count))
    doppler.add_account_token(SA)
    infisical = BreakableInfisical()
    infisical.add_project(PROJECT, "infra", environments=("dev", "staging", "prod"))
    infisical.universal_identity(CLIENT_ID, CLIENT_SECRET)
    with serve(doppler) as d_url, serve(infisical) as i_url:
        yield World(tmp_path, doppler, infisical, d_url, i_url)


def report(out: Result) -> dict[str, object]:
    data: dict[str, object] = json.loads(out.stdout)
    return data


def test_200_secrets_3_configs_429_storm_and_a_failure_half_way_converge_on_rerun(
    w: World,
) -> None:
    # the target already holds one equal value, one stale value, one of its own
    w.infisical.set_secret(PROJECT, "dev", "/", "DEV_SECRET_000", "dev-value-0-Zx9")
    w.infisical.set_secret(PROJECT, "dev", "/", "DEV_SECRET_005", "stale")
    w.infisical.set_secret(PROJECT, "prod", "/", "ONLY_IN_INFISICAL", "keep me")
    # the storm: every kind of request is answered 429 a few times first
    w.infisical.rate_limit(retry_after=0, times=3, path="/api/v4/secrets")
    w.infisical.rate_limit(retry_after=0, times=4, path="/api/v4/secrets/{name}")
    w.infisical.rate_limit(retry_after=0, times=2, path="/api/v1/auth/universal-auth/login")
    w.doppler.inject(
        Fault.error(429, {"messages": ["slow down"], "success": False}, retry_after=0),
        path="/v3/configs/config/secrets/download",
        times=4,
    )
    w.infisical.broken = True
    mapping_file = str(w.write_mapping())

    first = w.migrate("--mapping", mapping_file, "--batch-size", "50", "--json")
    assert first.returncode == 1, first.stderr
    assert not w.infisical._injections  # every 429 was served, and retried through
    downloads = [r for r in w.doppler.requests if r.path.endswith("/download")]
    assert len(downloads) == 3 + 4
    one = report(first)
    dev, stg, prd = one["mappings"]  # type: ignore[misc]
    assert dev["verified"]
    assert prd["verified"]
    assert not stg["verified"]  # type: ignore[index]
    assert "HTTP 503" in stg["error"]  # type: ignore[index]
    assert len(stg["written"]) == 50  # type: ignore[index]  # half-way: the first batch only
    assert sorted(dev["update"]) == ["DEV_SECRET_005"]  # type: ignore[index]
    assert dev["unchanged"] == 1  # type: ignore[index]
    assert prd["only_in_target"] == ["ONLY_IN_INFISICAL"]  # type: ignore[index]
    assert len(w.infisical.values(PROJECT, "staging")) == 50

    w.infisical.broken = False
    second = w.migrate("--mapping", mapping_file, "--batch-size", "50", "--json")
    assert second.returncode == 0, second.stderr
    two = report(second)
    assert two["complete"]
    for item, (config, (env, count)) in zip(two["mappings"], CONFIGS.items(), strict=True):  # type: ignore[call-overload]
        assert item["verified"], item
        assert item["source_fingerprint"] == item["target_fingerprint"]
        stored = w.infisical.values(PROJECT, env)
        assert {k: v for k, v in stored.items() if k != "ONLY_IN_INFISICAL"} == w.expected(config)
        assert len(w.expected(config)) == count
    _, stg2, _ = two["mappings"]  # type: ignore[misc]
    assert len(stg2["written"]) == 20  # only what the failed run left  # type: ignore[index]
    assert w.infisical.values(PROJECT, "prod")["ONLY_IN_INFISICAL"] == "keep me"

    # a third run writes nothing and prints the same fingerprints
    writes = w.writes()
    third = w.migrate("--mapping", mapping_file, "--json")
    assert third.returncode == 0, third.stderr
    assert w.writes() == writes
    fingerprints = [
        (m["source_fingerprint"], m["target_fingerprint"]) for m in report(third)["mappings"]
    ]  # type: ignore[index, union-attr]
    assert fingerprints == [
        (m["source_fingerprint"], m["target_fingerprint"]) for m in two["mappings"]
    ]  # type: ignore[index, union-attr]
    # the source was only ever read
    assert {r.method for r in w.doppler.requests} == {"GET"}


def test_dry_run_is_a_names_only_diff_and_writes_nothing(w: World) -> None:
    w.infisical.set_secret(PROJECT, "staging", "/", "STG_SECRET_001", "stale")
    out = w.migrate("--mapping", str(w.write_mapping()), "--dry-run")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert w.writes() == 0
    assert "would create 70: DEV_SECRET_000, DEV_SECRET_001" in text
    assert "would update 1: STG_SECRET_001" in text
    assert "dry run, nothing written" in text
    for config, (_env, count) in CONFIGS.items():
        for value in values_of(config, count).values():
            assert value.splitlines()[0] not in text


def test_flags_give_one_mapping_and_meta_keys_are_dropped(w: World) -> None:
    out = w.migrate(
        "--doppler-project", "iac-conf-mgmt", "--doppler-config", "prd",
        "--doppler-api-host", w.doppler_url,
        "--infisical-api-url", w.infisical_url, "--infisical-project-id", PROJECT,
        "--infisical-environment", "prod",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    stored = w.infisical.values(PROJECT, "prod")
    assert stored == w.expected("prd")
    assert not any(name.startswith("DOPPLER_") for name in stored)
    assert "verified by reading back" in out.stdout.decode()


def prd_flags(w: World) -> list[str]:
    return [
        "--doppler-project", "iac-conf-mgmt", "--doppler-config", "prd",
        "--doppler-api-host", w.doppler_url,
        "--infisical-api-url", w.infisical_url, "--infisical-project-id", PROJECT,
        "--infisical-environment", "prod",
    ]  # fmt: skip


def test_values_infisical_would_trim_are_reported_not_changed(w: World) -> None:
    w.doppler.put_secret("iac-conf-mgmt", "prd", "PADDED", "  secret with spaces  ")
    out = w.migrate(*prd_flags(w))
    assert out.returncode == 1
    text = out.stdout.decode()
    assert "Infisical would trim their whitespace (1; fix them in Doppler, or" in text
    assert "--accept-trimmed): PADDED" in text
    assert "secret with spaces" not in text + out.stderr
    assert "PADDED" not in w.infisical.values(PROJECT, "prod")
    accepted = w.migrate(*prd_flags(w), "--accept-trimmed")
    assert accepted.returncode == 0, accepted.stderr
    assert w.infisical.values(PROJECT, "prod")["PADDED"] == "secret with spaces"


def test_a_change_approval_reply_is_detected_and_the_others_go_on(w: World) -> None:
    w.infisical.require_approval(PROJECT, "staging")
    out = w.migrate("--mapping", str(w.write_mapping()), "--json")
    assert out.returncode == 1
    dev, stg, prd = report(out)["mappings"]  # type: ignore[misc]
    assert "change-approval policy" in stg["error"]  # type: ignore[index]
    assert stg["written"] == []  # type: ignore[index]
    assert dev["verified"]
    assert prd["verified"]
    assert w.infisical.values(PROJECT, "staging") == {}


def test_references_are_reported(w: World) -> None:
    w.doppler.put_secret("iac-conf-mgmt", "prd", "URL", "https://${HOST}/")
    out = w.migrate(*prd_flags(w))
    assert (
        "hold ${...}, which Infisical expands when read with expansion (1): URL"
        in out.stdout.decode()
    )


def test_mapping_file_problems_are_all_reported_with_lines(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        to: {project-id: p1, colour: red}
        mappings:
          - from: {project: a, config: dev}
            to: {environment: dev}
          - from: {project: a}
            to: {environment: dev}
        """
    )
    with pytest.raises(UserError) as info:
        mapping.parse(text, "migrate.yaml")
    message = info.value.message
    assert "migrate.yaml:1: to: unknown key 'colour'" in message
    assert "migrate.yaml:5: mappings[1]: give the Doppler project and config together" in message
    assert "goes to the same Infisical folder as line 3" in message
