"""This repository passes its own plaintext guard: every tracked file, with
its .homelab-secrets-scan.yaml (test corpora excluded, the DEMO-ONLY age key
accepted by fingerprint) and the reviewed baseline of fake secrets in test
code. A new fake secret in a test must be reviewed into the baseline (or
marked `homelab-secrets:allow`); a real one must not be committed at all."""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from homelab_secrets.scan import job
from homelab_secrets.scan.config import ScanConfig

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs the git checkout"
)


def test_the_repository_has_no_secret_in_clear() -> None:
    result = job.run(job.Request(paths=()), ROOT)
    shown = [f"{f.file}:{f.line} {f.rule}" for f in result.findings]
    assert shown == []
    assert result.files_scanned > 200


def test_the_baseline_file_is_a_report_never_scanned() -> None:
    config = ScanConfig(baseline=".homelab-secrets-baseline.json")
    assert config.excluded(".homelab-secrets-baseline.json")
    assert not config.excluded("homelab-secrets-baseline.json")
    assert ScanConfig(baseline="./b.json").excluded("b.json")
