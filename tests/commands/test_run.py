"""`homelab-secrets run -- CMD`: the secrets reach one command's environment,
and never its output: a child that prints them (whole, in pieces, as JSON,
line by line) shows only `***`; its exit code comes back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest

from fakes import serve
from fakes.doppler import FakeDoppler
from homelab_secrets.secrets.model import Mask
from homelab_secrets.secrets.redact import Redactor
from homelab_secrets.sops import engine
from homelab_secrets.sops.metadata import AgeKey
from homelab_secrets.sops.stores import get_store
from homelab_secrets.sops.tree import Rules

ST = "dp.st.prd.U2VydmljZVRva2VuT2ZQcmRDb25maWdPbmx5MTIzNDU2"
IDENTITY = pyrage.x25519.Identity.generate()
SECRETS = {
    "API_TOKEN": "tok-Secret-4242",
    "PEM": "-----BEGIN KEY-----\nline-Secret-1\nline-Secret-2\n-----END KEY-----\n",
    "QUOTED": 'say "hi-Secret-7"',
}


@pytest.fixture
def doppler() -> Iterator[tuple[FakeDoppler, str]]:
    fake = FakeDoppler()
    fake.add_config("iac", "prd", {**SECRETS, "SOPS_AGE_KEY": str(IDENTITY)})
    fake.add_service_token(ST, "iac", "prd")
    with serve(fake) as url:
        yield fake, url


def run(
    tmp_path: Path, url: str, *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[bytes]:
    base = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DOPPLER_TOKEN": ST,
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    return subprocess.run(
        [sys.executable, "-m", "homelab_secrets", "run", "--api-host", url, *args],
        env={**base, **(env or {})},
        cwd=tmp_path,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def py(code: str) -> list[str]:
    return ["--", sys.executable, "-c", code]


def test_the_child_sees_the_values_exactly(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    code = (
        "import os, json; json.dump({k: os.environ.get(k) for k in "
        "['API_TOKEN', 'PEM', 'QUOTED', 'SOPS_AGE_KEY']}, open('seen.json', 'w'))"
    )
    done = run(tmp_path, url, *py(code))
    assert done.returncode == 0, done.stderr
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {**SECRETS, "SOPS_AGE_KEY": None}  # the age key is never passed on


def test_every_value_printed_by_the_child_is_masked(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    code = (
        "import os, sys, json\n"
        "for k in ('API_TOKEN', 'PEM', 'QUOTED'):\n"
        "    print(k, '=', os.environ[k])\n"
        "    print(json.dumps(os.environ[k]), file=sys.stderr)\n"
    )
    done = run(tmp_path, url, *py(code))
    assert done.returncode == 0
    both = done.stdout + done.stderr
    for value in SECRETS.values():
        for line in value.splitlines():
            if "Secret" in line:
                assert line.encode() not in both
    assert b"Secret" not in both
    assert b"API_TOKEN = ***" in done.stdout
    assert b"PEM = ***\n***\n***\n***\n" in done.stdout  # every line of a multi-line value
    assert b'"say \\"hi-Secret-7\\""' not in done.stderr


def test_a_value_written_in_pieces_is_masked_and_a_prompt_is_shown(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    code = (
        "import os, sys, time\n"
        "v = os.environ['API_TOKEN']\n"
        "sys.stdout.write('token: ' + v[:5]); sys.stdout.flush(); time.sleep(0.4)\n"
        "sys.stdout.write(v[5:] + ' end\\n'); sys.stdout.flush()\n"
        "sys.stdout.write('Password: '); sys.stdout.flush(); time.sleep(0.4)\n"
        "sys.stdout.write('\\n')\n"
    )
    done = run(tmp_path, url, *py(code))
    assert done.stdout == b"token: *** end\nPassword: \n"


def test_the_exit_code_and_signals_come_back(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    assert run(tmp_path, url, *py("raise SystemExit(7)")).returncode == 7
    assert run(tmp_path, url, "--", "no-such-command-xyz").returncode == 127
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "homelab_secrets",
            "run",
            "--api-host",
            url,
            *py("import time; print('ready', flush=True); time.sleep(30)"),
        ],
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "DOPPLER_TOKEN": ST,
            "PYTHONPATH": os.pathsep.join(sys.path),
        },
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    assert time.monotonic() - start < 5


def _encrypt(path: Path, plain: bytes) -> None:
    store = get_store("yaml")
    branches = store.load_plain(plain)
    metadata = engine.encrypt(branches, [[AgeKey(str(IDENTITY.to_public()))]], rules=Rules())
    path.write_bytes(store.emit_encrypted(branches, metadata.to_branch()))


def test_sops_files_are_decrypted_with_the_age_key_from_the_provider(
    doppler: tuple[FakeDoppler, str], tmp_path: Path
) -> None:
    _, url = doppler
    _encrypt(tmp_path / "tf.enc.yaml", b"db:\n    password: db-Secret-9\n")
    code = "import os; print(os.environ['DB_PASSWORD'], os.environ['API_TOKEN'])"
    done = run(tmp_path, url, "--sops-file", "tf.enc.yaml", *py(code))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"*** ***\n"
    code = "import os; open('v', 'w').write(os.environ['DB_PASSWORD'])"
    done = run(
        tmp_path,
        url,
        "--provider",
        "none",
        "--sops-file",
        "tf.enc.yaml",
        *py(code),
        env={"SOPS_AGE_KEY": str(IDENTITY), "DOPPLER_TOKEN": ""},
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "v").read_text() == "db-Secret-9"


def test_redactor_holds_back_only_what_could_start_a_value() -> None:
    redactor = Redactor([Mask("x", "abcdef-Secret")])
    assert redactor.feed(b"one abc") == b""
    assert redactor.pending() == b"one "
    assert redactor.feed(b"def-Sec") == b""
    assert redactor.pending() == b""
    assert redactor.feed(b"ret two\n") == b"*** two\n"
    assert redactor.feed(b"abcdef-Secret") == b""
    assert redactor.flush() == b"***"
