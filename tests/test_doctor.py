"""`homelab-secrets doctor`: text, --json and --gha; names and locations, never values."""

from __future__ import annotations

import json
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

from conftest import ROOT, RunnerFiles
from homelab_secrets.cli import main
from homelab_secrets.commands import doctor
from runner_files import masks, parse_commands

KEY = "AGE-SECRET-KEY-1DOCTORMUSTNEVERSHOWTHISVALUEXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"


def test_runtime_dependencies_are_pyprojects() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0] for dep in project["dependencies"]]
    assert sorted(doctor.RUNTIME_DEPENDENCIES, key=str.lower) == sorted(names, key=str.lower)


def test_text_report(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("homelab-secrets 0.1.0\n")
    assert f"python    {'.'.join(map(str, sys.version_info[:3]))} ({sys.executable})" in out
    for name in doctor.RUNTIME_DEPENDENCIES:
        assert re.search(rf"^  {re.escape(name)} +{re.escape(metadata.version(name))}$", out, re.M)
    names = [
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_KEY_CMD",
        "keys.txt",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        "id_ed25519",
        "id_rsa",
    ]
    source_lines = out.split("never values)\n", 1)[1].splitlines()
    assert [line.split()[0] for line in source_lines] == names
    assert all("not found" in line for line in source_lines)


def test_sources_are_named_never_read_or_run(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "keys.txt"
    key_file.write_text(KEY + "\n")
    marker = tmp_path / "cmd-ran"
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("not a real key")
    monkeypatch.setenv("SOPS_AGE_KEY", KEY)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    monkeypatch.setenv("SOPS_AGE_KEY_CMD", f"touch {marker}")
    assert main(["doctor", "--json"]) == 0
    out = capsys.readouterr().out
    assert KEY not in out
    assert not marker.exists(), "SOPS_AGE_KEY_CMD must not be run"
    report = json.loads(out)
    available = {s["name"]: s["available"] for s in report["age_identity_sources"]}
    assert available == {
        "SOPS_AGE_KEY": True,
        "SOPS_AGE_KEY_FILE": True,
        "SOPS_AGE_KEY_CMD": True,
        "keys.txt": False,
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE": False,
        "id_ed25519": True,
        "id_rsa": False,
    }
    assert report["healthy"] is True
    assert report["missing"] == []
    locations = {s["name"]: s["location"] for s in report["age_identity_sources"]}
    assert locations["SOPS_AGE_KEY_FILE"] == str(key_file)
    assert locations["keys.txt"] == str(home / ".config" / "sops" / "age" / "keys.txt")


def test_xdg_config_home_moves_keys_txt(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "xdg"
    (config / "sops" / "age").mkdir(parents=True)
    (config / "sops" / "age" / "keys.txt").write_text(KEY)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    sources = {s["name"]: s for s in doctor.collect().age_identity_sources}
    assert sources["keys.txt"] == {
        "name": "keys.txt",
        "location": str(config / "sops" / "age" / "keys.txt"),
        "available": True,
    }


def _without(missing: str, real: object) -> object:
    def version(name: str) -> str:
        if name == missing:
            raise metadata.PackageNotFoundError(name)
        return real(name)  # type: ignore[operator, no-any-return]

    return version


def test_a_missing_dependency_fails_with_one_clear_line(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(metadata, "version", _without("pyrage", metadata.version))
    assert main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert re.search(r"^  pyrage +MISSING$", captured.out, re.M)
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("homelab-secrets: error: missing runtime dependencies: pyrage")


def test_gha_mode_masks_first_and_writes_outputs_and_summary(
    home: Path,
    runner_files: RunnerFiles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INPUT_AGE-KEY", f"# created: today\n{KEY}\nq7Z\n")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(home / "nope.txt"))
    assert main(["doctor", "--gha"]) == 0
    out = capsys.readouterr().out
    assert not [line for line in out.splitlines() if KEY in line and "::add-mask::" not in line]
    commands = parse_commands(out)
    first_other = next(i for i, c in enumerate(commands) if c.name != "add-mask")
    assert first_other > 0
    assert {c.name for c in commands[:first_other]} == {"add-mask"}
    assert {KEY, "q7Z", "# created: today"} <= set(masks(out))
    assert any(c.name == "warning" and "'age-key'" in c.data for c in commands)
    assert "age-key input: provided" in out
    assert "::group::homelab-secrets doctor" in out
    outputs = runner_files.outputs()
    assert outputs == {
        "version": "0.1.0",
        "python-version": ".".join(map(str, sys.version_info[:3])),
        "age-key-sources": "[]",
        "age-key-provided": "true",
        "healthy": "true",
    }
    summary = runner_files.summary_text()
    assert summary.startswith("### homelab-secrets doctor")
    assert "`age-key` input: provided" in summary
    assert KEY not in summary


def test_gha_mode_reports_available_source_names(
    home: Path, runner_files: RunnerFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY", KEY)
    assert main(["doctor", "--gha"]) == 0
    outputs = runner_files.outputs()
    assert json.loads(outputs["age-key-sources"]) == ["SOPS_AGE_KEY"]
    assert outputs["age-key-provided"] == "false"
    assert KEY not in runner_files.output.read_text() + runner_files.summary_text()


def test_gha_mode_annotates_a_missing_dependency(
    home: Path,
    runner_files: RunnerFiles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(metadata, "version", _without("httpx", metadata.version))
    assert main(["doctor", "--gha"]) == 1
    captured = capsys.readouterr()
    errors = [c for c in parse_commands(captured.out) if c.name == "error"]
    assert [e.data.split(" (")[0] for e in errors] == ["missing runtime dependencies: httpx"]
    assert runner_files.outputs()["healthy"] == "false"
    assert "homelab-secrets: error: missing runtime dependencies: httpx" in captured.err


def test_gha_mode_outside_actions_is_a_usage_error(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--gha"]) == 2
    assert "$GITHUB_OUTPUT is not set" in capsys.readouterr().err


def test_json_and_gha_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json", "--gha"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
