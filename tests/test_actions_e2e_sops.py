"""actions/sops-decrypt, sops-encrypt and sops-cleanup under act, on files the
real sops encrypted: values arrive intact (checked by hash), and whatever a
later step prints of them, the log shows only ``***``."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from act_harness import CHECKOUT, assert_never_in_log, make_repo, requires_act, run_act
from support.sops_oracle import AgeKeyPair, requires_sops, run_sops

pytestmark = [
    pytest.mark.e2e,
    requires_act,
    requires_sops,
]

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7e2eTestOnly\n"
    "q1w2e3r4t5y6u7i8o9p0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789e2eTest\n"
    "-----END PRIVATE KEY-----\n"
)
# Adversarial values: JSON, quotes, %, a value containing another secret
# (the longer one must not be half-masked), a 3-character value.
INNER = "inner-Secret-77"
SECRETS = {
    "password": "p@ss w0rd 'quoted' \"double\" 100%",
    "api_token": f"prefix-{INNER}-suffix",
    "inner": INNER,
    "json_blob": '{"user": "svc", "key": "k3y-in-json-e2e"}',
    "tiny": "Q7x",
    # "%" must survive the workflow-command escaping of ::add-mask::.  (A value
    # holding a literal "%0A" or "%25" cannot be masked under act at all: act
    # unescapes %25 before %0A, so no escaping reaches it intact; GitHub's
    # runner unescapes in one pass, as gha.escape_data expects.)
    "percent": "100% of %s and %d%%",
}
APP_YAML = (
    "db:\n"
    "    host: db.lab.example\n"
    f"    password: '{SECRETS['password'].replace(chr(39), chr(39) * 2)}'\n"
    "    port: 5432\n"
    f"api_token: {SECRETS['api_token']}\n"
    f"inner: {SECRETS['inner']}\n"
    f"json_blob: '{SECRETS['json_blob']}'\n"
    f"tiny: {SECRETS['tiny']}\n"
    f"percent: '{SECRETS['percent']}'\n"
    "tls_key: |\n"
    + "".join(f"    {line}\n" for line in PEM.splitlines())
    + "region_unencrypted: homelab\n"
)
DATA_JSON = '{\n\t"service": "json-svc-Secret-91",\n\t"replicas": 31337\n}\n'
DOT_ENV = "PROXMOX_VE_USERNAME=terraform@pve\nPROXMOX_VE_PASSWORD=dotenv-Pass-Secret-42\n"
BLOB = "binary blob Secret-blob-55\nsecond line Secret-blob-66\n"
ALL_SECRETS = [
    *SECRETS.values(),
    PEM,
    "json-svc-Secret-91",
    "dotenv-Pass-Secret-42",
    "Secret-blob-55",
    "Secret-blob-66",
]


@pytest.fixture(scope="module")
def age_key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture(scope="module")
def fixtures(
    tmp_path_factory: pytest.TempPathFactory, age_key: AgeKeyPair
) -> dict[str, tuple[str, bytes]]:
    """{workspace path: (encrypted text, what sops decrypts it to)}, all made by sops."""
    work = tmp_path_factory.mktemp("sops-fixtures")
    home = work / "home"
    home.mkdir()
    plain = {
        "app.yaml": APP_YAML,
        "data.json": DATA_JSON,
        "dot.env": DOT_ENV,
        "blob.bin": BLOB,
    }
    out: dict[str, tuple[str, bytes]] = {}
    env = {"SOPS_AGE_KEY": age_key.identity}
    for name, text in plain.items():
        (work / name).write_text(text)
        enc = run_sops(["encrypt", "--age", age_key.recipient, name], cwd=work, home=home)
        assert enc.returncode == 0, enc.stderr
        stem, ext = name.rsplit(".", 1)
        enc_name = f"fixtures/{stem}.enc.{ext}"
        (work / f"{stem}.enc.{ext}").write_bytes(enc.stdout)
        dec = run_sops(["decrypt", f"{stem}.enc.{ext}"], cwd=work, home=home, env=env)
        assert dec.returncode == 0, dec.stderr
        out[enc_name] = (enc.stdout.decode(), dec.stdout)
    return out


def _files(fixtures: dict[str, tuple[str, bytes]]) -> dict[str, str]:
    return {path: text for path, (text, _) in fixtures.items()}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# A later step that checks each decrypted file by hash, then prints every
# value in every way a careless workflow might: env vars, file contents, JSON.
CHECK_AND_PRINT = r"""
import hashlib, json, os, pathlib
for path in json.loads(os.environ["PATHS"]):
    p = pathlib.Path(path)
    print(f"RESULT sha-{p.name}={hashlib.sha256(p.read_bytes()).hexdigest()}")
    print(f"RESULT mode-{p.name}={oct(p.stat().st_mode & 0o777)}")
    print("content:", p.read_text(errors="replace"))
names = json.loads(os.environ["NAMES"])
print("RESULT names=" + ",".join(sorted(names)))
for name in names:
    value = os.environ.get(name, "<unset>")
    print(f"env {name}: {value}")
    print(f"json {name}: {json.dumps(value)}")
    for line in value.splitlines():
        print(f"line {name}: {line}")
"""


def _workflow(with_lines: str, extra_steps: str = "") -> str:
    return f"""
name: sops-e2e
on: push
permissions: {{}}
jobs:
  decrypt:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - id: d
        uses: ./actions/sops-decrypt
        with:
          age-key: ${{{{ secrets.AGE_KEY }}}}
{with_lines}
      - name: check by hash, then print everything
        env:
          PATHS: ${{{{ steps.d.outputs.paths }}}}
          NAMES: ${{{{ steps.d.outputs.names }}}}
        shell: python
        run: |
{_indent(CHECK_AND_PRINT, 10)}
{extra_steps}
"""


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else "" for line in text.strip("\n").splitlines())


def test_decrypt_to_output_dir_with_export_env_masks_every_value(
    tmp_path: Path, action_cache: Path, fixtures: dict[str, tuple[str, bytes]], age_key: AgeKeyPair
) -> None:
    workflow = _workflow(
        "          files: |\n            fixtures/*.enc.yaml\n            fixtures/data.enc.json\n"
        "            fixtures/dot.enc.env\n            fixtures/blob.enc.bin\n"
        "          export-env: true\n"
    )
    repo = make_repo(tmp_path, workflow, files=_files(fixtures))
    run = run_act(repo, "push", cache=action_cache, secrets={"AGE_KEY": age_key.identity})
    assert run.returncode == 0, run.log
    results = run.results()["decrypt"]
    for path, (_, plain) in fixtures.items():
        name = path.rsplit("/", 1)[-1]
        assert results[f"sha-{name}"] == _sha(plain), name
        assert results[f"mode-{name}"] == "0o600"
    assert results["names"] == ",".join(
        sorted(
            [
                "API_TOKEN", "BLOB", "DB_HOST", "DB_PASSWORD", "DB_PORT", "INNER", "JSON_BLOB",
                "PERCENT", "PROXMOX_VE_PASSWORD", "PROXMOX_VE_USERNAME", "REGION_UNENCRYPTED",
                "REPLICAS", "SERVICE", "TINY", "TLS_KEY",
            ]
        )
    )  # fmt: skip
    assert_never_in_log(run, [*ALL_SECRETS, age_key.identity])
    lines = run.lines("decrypt")
    assert "env DB_PASSWORD: ***" in lines
    assert "env API_TOKEN: ***" in lines  # not "prefix-***-suffix": longest masked first
    assert "env TINY: ***" in lines
    assert "env REGION_UNENCRYPTED: homelab" in lines  # kept in clear by sops' rule: public
    assert lines.count("line TLS_KEY: ***") == 4
    assert "secret 'fixtures/app.enc.yaml:tiny' is (or has a line) shorter" in run.log
    assert "### homelab-secrets sops-decrypt" in run.log  # summary: names and files only


def test_decrypt_in_place_then_cleanup_restores_the_encrypted_files(
    tmp_path: Path, action_cache: Path, fixtures: dict[str, tuple[str, bytes]], age_key: AgeKeyPair
) -> None:
    after = """
      - name: after cleanup
        if: always()
        uses: ./actions/sops-cleanup
        id: c
      - name: report
        if: always()
        env:
          REMOVED: ${{ steps.c.outputs.removed }}
          RESTORED: ${{ steps.c.outputs.restored }}
        shell: python
        run: |
          import hashlib, os, pathlib
          for p in sorted(pathlib.Path("fixtures").iterdir()):
              print(f"RESULT after-{p.name}={hashlib.sha256(p.read_bytes()).hexdigest()}")
          print("RESULT removed=" + os.environ["REMOVED"])
          print("RESULT restored=" + os.environ["RESTORED"])
          print("RESULT tfvars=" + str(pathlib.Path("app.auto.tfvars.json").exists()))
"""
    workflow = _workflow(
        "          files: fixtures/app.enc.yaml\n"
        "          in-place: true\n"
        "          format: tfvars-json\n",
        after,
    )
    repo = make_repo(tmp_path, workflow, files=_files(fixtures))
    run = run_act(repo, "push", cache=action_cache, secrets={"AGE_KEY": age_key.identity})
    assert run.returncode == 0, run.log
    results = run.results()["decrypt"]
    encrypted, plain = fixtures["fixtures/app.enc.yaml"]
    assert results["sha-app.enc.yaml"] == _sha(plain)  # decrypted in place
    assert results["mode-app.auto.tfvars.json"] == "0o600"  # next to the Terraform root
    assert results["after-app.enc.yaml"] == _sha(encrypted.encode())  # restored
    assert results["restored"] == "1"
    assert results["removed"] == "1"  # the tfvars file
    assert results["tfvars"] == "False"
    assert_never_in_log(run, [*SECRETS.values(), PEM, age_key.identity])


@pytest.mark.parametrize(
    ("case", "files", "key", "message"),
    [
        ("wrong key", "fixtures/app.enc.yaml", "other", "file=fixtures/data.enc.json::"),
        (
            "tampered",
            "fixtures/tampered.enc.yaml",
            "right",
            "file=fixtures/tampered.enc.yaml::",
        ),
        ("missing file", "fixtures/nope.enc.yaml", "right", "matches no file"),
        ("glob matching nothing", "fixtures/*.nothing", "right", "matches no file"),
    ],
)
def test_failures_annotate_and_leave_nothing_behind(
    tmp_path: Path,
    action_cache: Path,
    fixtures: dict[str, tuple[str, bytes]],
    age_key: AgeKeyPair,
    case: str,
    files: str,
    key: str,
    message: str,
) -> None:
    report = """
      - name: what is left
        if: always()
        shell: python
        run: |
          import os, pathlib
          out = pathlib.Path(os.environ["RUNNER_TEMP"]) / "homelab-secrets"
          left = [str(p) for p in out.rglob("*") if p.is_file()] if out.exists() else []
          print(f"RESULT left={len(left)}")
"""
    workflow = _workflow(
        f"          files: |\n            fixtures/data.enc.json\n            {files}\n", report
    )
    extra = dict(_files(fixtures))
    text = fixtures["fixtures/app.enc.yaml"][0]
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("api_token:"))
    data = line.split("data:", 1)[1]
    flipped = ("A" if data[0] != "A" else "B") + data[1:]
    extra["fixtures/tampered.enc.yaml"] = text.replace(line, line.replace(data, flipped))
    identity = age_key.identity if key == "right" else AgeKeyPair.generate().identity
    repo = make_repo(tmp_path, workflow, files=extra)
    run = run_act(repo, "push", cache=action_cache, secrets={"AGE_KEY": identity})
    assert run.returncode == 1, case
    errors = [ln for ln in run.log.splitlines() if "::error" in ln]
    assert errors, run.log
    assert message in errors[0], errors
    assert run.results()["decrypt"]["left"] == "0"  # not even the good file
    assert "RESULT sha-" not in run.log
    assert_never_in_log(run, [*ALL_SECRETS, identity])


def test_encrypt_in_place_gives_a_file_sops_decrypts(
    tmp_path: Path, action_cache: Path, age_key: AgeKeyPair
) -> None:
    workflow = f"""
name: sops-encrypt-e2e
on: push
permissions: {{}}
jobs:
  encrypt:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - id: e
        uses: ./actions/sops-encrypt
        with:
          files: generated/*.yaml
          in-place: true
      - name: show
        env:
          PATHS: ${{{{ steps.e.outputs.paths }}}}
        run: |
          echo "RESULT paths=$PATHS"
          echo "BEGIN-FILE"
          cat generated/token.yaml
          echo "END-FILE"
"""
    config = (
        "creation_rules:\n"
        f"  - path_regex: ^generated/.*\\.yaml$\n    age: {age_key.recipient}\n"
        "    encrypted_regex: ^(token|password)$\n"
    )
    files = {
        ".sops.yaml": config,
        "generated/token.yaml": "token: rotated-Token-Secret-31\nuser: svc\n",
    }
    repo = make_repo(tmp_path, workflow, files=files)
    run = run_act(repo, "push", cache=action_cache)
    assert run.returncode == 0, run.log
    lines = run.lines("encrypt")
    body = "\n".join(lines[lines.index("BEGIN-FILE") + 1 : lines.index("END-FILE")]) + "\n"
    assert "rotated-Token-Secret-31" not in body
    assert "user: svc" in body  # encrypted_regex from .sops.yaml kept it clear
    work = tmp_path / "check"
    (work / "home").mkdir(parents=True)
    (work / "token.yaml").write_text(body)
    dec = run_sops(
        ["decrypt", "token.yaml"],
        cwd=work,
        home=work / "home",
        env={"SOPS_AGE_KEY": age_key.identity},
    )
    assert dec.returncode == 0, dec.stderr
    assert dec.stdout == b"token: rotated-Token-Secret-31\nuser: svc\n"
    assert json.loads(run.results()["encrypt"]["paths"])[0].endswith("generated/token.yaml")


def test_sops_is_not_needed_on_the_runner(tmp_path: Path) -> None:
    """The actions never call a sops binary: the bootstrap's venv has none on PATH."""
    assert shutil.which("sops", path="/usr/bin:/bin") is None
