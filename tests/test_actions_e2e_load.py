"""The all-in-one action and actions/fetch-secrets under act, against the fake
Doppler (and the stand-in ID-token endpoint) served on 127.0.0.1: the
roadmap's flow in one step — fetch, decrypt SOPS files with the age key kept
in Doppler, export — and later steps see the values while the log shows only
``***``; with OIDC, a workflow that has no secret at all."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from act_harness import CHECKOUT, assert_never_in_log, make_repo, requires_act, run_act
from fakes import serve
from fakes.doppler import FakeDoppler
from fakes.github_oidc import FakeGitHubOIDC
from support.sops_oracle import AgeKeyPair, requires_sops, run_sops

pytestmark = [
    pytest.mark.e2e,
    requires_act,
    requires_sops,
]

ST = "dp.st.prd.RTJlU2VydmljZVRva2VuRm9yVGhlQWN0VGVzdHMxMjM0"
IDENTITY_ID = "0b6a7c3e-8f3e-4d5f-9a51-3c1d2e4f5a6b"
DOPPLER_VALUES = {
    "PROXMOX_VE_ENDPOINT": "https://pve.lab.example:8006/",
    "PROXMOX_VE_API_TOKEN": "terraform@pve!ci=9d2f-Secret-e2e-Token",
    "SPLUNK_HEC_TOKEN": "hec-Secret-e2e-1234",
    "MULTI_LINE": "first-Secret-line\nsecond-Secret-line\n",
}
SOPS_YAML = "db:\n    password: sops-Secret-e2e-pw\n    port: 5432\n"
SOPS_SECRETS = ["sops-Secret-e2e-pw"]

PRINT_EVERYTHING = r"""
import hashlib, json, os
names = json.loads(os.environ["NAMES"])
print("RESULT names=" + ",".join(sorted(names)))
for name in names:
    value = os.environ.get(name, "<unset>")
    print(f"RESULT sha-{name}={hashlib.sha256(value.encode()).hexdigest()}")
    print(f"env {name}: {value}")
    print(f"json {name}: {json.dumps(value)}")
print("RESULT age-key-exported=" + str("SOPS_AGE_KEY" in os.environ))
"""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else "" for line in text.strip("\n").splitlines())


@pytest.fixture(scope="module")
def age_key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory, age_key: AgeKeyPair) -> str:
    work = tmp_path_factory.mktemp("load-fixture")
    (work / "home").mkdir()
    (work / "tf.yaml").write_text(SOPS_YAML)
    enc = run_sops(["encrypt", "--age", age_key.recipient, "tf.yaml"], cwd=work, home=work / "home")
    assert enc.returncode == 0, enc.stderr
    return enc.stdout.decode()


@pytest.fixture
def doppler(age_key: AgeKeyPair) -> Iterator[tuple[FakeDoppler, FakeGitHubOIDC, str, str]]:
    fake = FakeDoppler()
    fake.add_config("iac-conf-mgmt", "prd", {**DOPPLER_VALUES, "SOPS_AGE_KEY": age_key.identity})
    fake.add_service_token(ST, "iac-conf-mgmt", "prd")
    stand_in = FakeGitHubOIDC(repository="example/homelab-secrets")
    fake.add_identity(
        IDENTITY_ID,
        key=stand_in.key,
        audience="doppler-e2e",
        subject=stand_in.subject,
        access={"iac-conf-mgmt": "read"},
    )
    with serve(fake) as url, serve(stand_in) as oidc_url:
        yield fake, stand_in, url, oidc_url


def _workflow(uses: str, with_lines: str, permissions: str = "contents: read") -> str:
    return f"""
name: load-e2e
on: push
permissions:
  {permissions}
jobs:
  load:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - id: s
        uses: {uses}
        with:
{with_lines}
      - name: a later step prints everything
        env:
          NAMES: ${{{{ steps.s.outputs.names }}}}
        shell: python
        run: |
{_indent(PRINT_EVERYTHING, 10)}
"""


def _check(run_log_results: dict[str, str], expected: dict[str, str]) -> None:
    assert run_log_results["names"] == ",".join(sorted(expected))
    for name, value in expected.items():
        assert run_log_results[f"sha-{name}"] == _sha(value), name
    assert run_log_results["age-key-exported"] == "False"


def test_the_all_in_one_action_fetches_decrypts_and_masks(
    tmp_path: Path,
    action_cache: Path,
    doppler: tuple[FakeDoppler, FakeGitHubOIDC, str, str],
    encrypted: str,
    age_key: AgeKeyPair,
) -> None:
    _, _, url, _ = doppler
    workflow = _workflow(
        "./",
        "          doppler-token: ${{ secrets.DOPPLER_TOKEN }}\n"
        f"          api-host: {url}\n"
        "          sops-files: env/tf.enc.yaml\n",
    )
    repo = make_repo(tmp_path, workflow, files={"env/tf.enc.yaml": encrypted})
    run = run_act(repo, "push", cache=action_cache, secrets={"DOPPLER_TOKEN": ST})
    assert run.returncode == 0, run.log
    _check(
        run.results()["load"],
        {**DOPPLER_VALUES, "DB_PASSWORD": "sops-Secret-e2e-pw", "DB_PORT": "5432"},
    )
    assert_never_in_log(run, [*DOPPLER_VALUES.values(), *SOPS_SECRETS, age_key.identity, ST])
    lines = run.lines("load")
    assert "env PROXMOX_VE_API_TOKEN: ***" in lines
    assert "env DB_PASSWORD: ***" in lines


def test_with_oidc_a_workflow_without_any_secret_decrypts_its_sops_files(
    tmp_path: Path,
    action_cache: Path,
    doppler: tuple[FakeDoppler, FakeGitHubOIDC, str, str],
    encrypted: str,
    age_key: AgeKeyPair,
) -> None:
    fake, stand_in, url, oidc_url = doppler
    workflow = _workflow(
        "./",
        "          auth-method: oidc\n"
        f"          doppler-identity-id: {IDENTITY_ID}\n"
        "          doppler-project: iac-conf-mgmt\n"
        "          doppler-config: prd\n"
        "          oidc-audience: doppler-e2e\n"
        f"          api-host: {url}\n"
        "          sops-files: env/tf.enc.yaml\n",
        permissions="contents: read\n  id-token: write",
    )
    repo = make_repo(tmp_path, workflow, files={"env/tf.enc.yaml": encrypted})
    run = run_act(repo, "push", cache=action_cache, env=stand_in.env(oidc_url))
    assert run.returncode == 0, run.log
    _check(
        run.results()["load"],
        {**DOPPLER_VALUES, "DB_PASSWORD": "sops-Secret-e2e-pw", "DB_PORT": "5432"},
    )
    issued = fake.issued
    assert len(issued) == 1
    assert_never_in_log(run, [*DOPPLER_VALUES.values(), *SOPS_SECRETS, age_key.identity, *issued])
    assert stand_in.request_token not in run.log
    assert not any("authorization" in r.headers for r in fake.requests if r.path == "/v3/auth/oidc")


def test_fetch_secrets_exports_and_writes_a_file_and_masks(
    tmp_path: Path,
    action_cache: Path,
    doppler: tuple[FakeDoppler, FakeGitHubOIDC, str, str],
) -> None:
    _, _, url, _ = doppler
    workflow = _workflow(
        "./actions/fetch-secrets",
        "          doppler-token: ${{ secrets.DOPPLER_TOKEN }}\n"
        f"          api-host: {url}\n"
        "          secrets: PROXMOX_VE_*\n"
        "          required: PROXMOX_VE_API_TOKEN\n"
        "          export-env: true\n"
        "          format: json\n"
        "          output-file: ${{ runner.temp }}/doppler.json\n",
    )
    workflow += """
      - name: the file
        env:
          PATHS: ${{ steps.s.outputs.paths }}
        shell: python
        run: |
          import json, os
          (path,) = json.loads(os.environ["PATHS"])
          print("RESULT mode=" + oct(os.stat(path).st_mode & 0o777))
          print("RESULT keys=" + ",".join(sorted(json.load(open(path)))))
          print(open(path).read())
"""
    repo = make_repo(tmp_path, workflow)
    run = run_act(repo, "push", cache=action_cache, secrets={"DOPPLER_TOKEN": ST})
    assert run.returncode == 0, run.log
    results = run.results()["load"]
    wanted = {k: v for k, v in DOPPLER_VALUES.items() if k.startswith("PROXMOX_VE_")}
    _check(results, wanted)
    assert results["mode"] == "0o600"
    assert results["keys"] == "PROXMOX_VE_API_TOKEN,PROXMOX_VE_ENDPOINT"
    assert_never_in_log(run, [*DOPPLER_VALUES.values(), ST])


def test_a_refused_token_fails_the_step_with_one_annotation_and_no_token(
    tmp_path: Path,
    action_cache: Path,
    doppler: tuple[FakeDoppler, FakeGitHubOIDC, str, str],
) -> None:
    _, _, url, _ = doppler
    bad = "dp.st.prd.Tm90VGhlUmlnaHRUb2tlbkF0QWxsRm9yVGhpc1Rlc3Q"
    workflow = _workflow(
        "./",
        f"          doppler-token: ${{{{ secrets.DOPPLER_TOKEN }}}}\n          api-host: {url}\n",
    )
    repo = make_repo(tmp_path, workflow)
    run = run_act(repo, "push", cache=action_cache, secrets={"DOPPLER_TOKEN": bad})
    assert run.returncode != 0
    assert "::error title=homelab-secrets::Doppler: could not download" in run.log or (
        "Doppler: could not download" in run.log
    )
    assert "HTTP 401" in run.log
    assert_never_in_log(run, [bad])
