"""`homelab-secrets scan`: the command line contract (issue 10).

JSON fields, exit codes 0/1/2, stdout only the report, PATHs on disk (also
outside git), the repository's tracked files, --diff (changed lines only;
merge-base semantics; --whole-files), --staged (the index, not the working
tree), baselines by fingerprint, the config file, --gha (annotations,
summary, outputs, SARIF); and no value ever printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RunnerFiles
from homelab_secrets.cli import main

SECRET = "Zq7-Unique-Pw!93"
NEW_SECRET = "Kx4-Second-Pw!58"
GIT = [
    "git",
    "-c",
    "user.name=t",
    "-c",
    "user.email=t@example.invalid",
    "-c",
    "init.defaultBranch=main",
]


def git(repo: Path, *args: str) -> str:
    out = subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "app.env").write_text(f"DB_USER=app\nDB_PASSWORD={SECRET}\n")
    (root / "README.md").write_text("# demo\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def scan(
    capsys: pytest.CaptureFixture[str], cwd: Path, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    code = main(["scan", *args])
    out, err = capsys.readouterr()
    for text in (out, err):
        assert SECRET not in text
        assert NEW_SECRET not in text
    return code, out, err


def test_json_report_fields_and_exit_1(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = scan(capsys, repo, monkeypatch, "--format", "json")
    assert code == 1
    findings = json.loads(out)  # stdout is the report and nothing else
    assert len(findings) == 1
    f = findings[0]
    assert {"file", "line", "rule", "fingerprint"} <= set(f)
    assert (f["file"], f["line"], f["rule"], f["key"]) == (
        "app.env",
        2,
        "generic-password",
        "DB_PASSWORD",
    )
    assert len(f["value_prefix"]) <= 4
    assert SECRET.startswith(f["value_prefix"])
    assert len(f["fingerprint"]) == 32


def test_clean_tree_exits_0(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = scan(capsys, repo, monkeypatch, "README.md")
    assert code == 0
    assert out == "no findings in 1 files scanned\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--diff", "main", "--staged"],
        ["--whole-files"],
        ["no-such-file"],
        ["--baseline", "missing.json"],
        ["--diff", "no-such-rev"],
        ["--format", "xml"],
        ["--config", "missing.yaml"],
    ],
)
def test_usage_errors_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    code, out, err = scan(capsys, repo, monkeypatch, *args)
    assert code == 2
    assert out == ""
    assert err


def test_paths_outside_git_and_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "db.ini").write_text(f"[db]\npassword = {SECRET}\n")
    code, out, _ = scan(capsys, tmp_path, monkeypatch, "--format", "json", "conf")
    assert code == 1
    assert [(f["file"], f["line"]) for f in json.loads(out)] == [("conf/db.ini", 2)]
    code, _, err = scan(capsys, tmp_path, monkeypatch)  # no PATH and no git: usage error
    assert code == 2
    assert "git repository" in err


def test_stdout_is_only_the_report_in_a_real_process(repo: Path) -> None:
    (repo / ".homelab-secrets-scan.yaml").write_text("exclude: [README.md]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "homelab_secrets", "scan", "--format", "sarif"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads(proc.stdout)
    result = sarif["runs"][0]["results"][0]
    assert result["ruleId"] == "generic-password"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert SECRET not in proc.stdout + proc.stderr


def _diff_repo(repo: Path) -> str:
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-qb", "feature")
    (repo / "app.env").write_text(f"DB_USER=app\nDB_PASSWORD={SECRET}\nAPI_PASSWORD={NEW_SECRET}\n")
    (repo / "notes.md").write_text("nothing here\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "feature")
    return base


def test_diff_reports_changed_lines_only(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _diff_repo(repo)
    (repo / "app.env").write_text("DB_PASSWORD=working-tree-only-Pw9\n")  # HEAD is read, not this
    for spec in (base, f"{base}..HEAD", "main", "main..feature"):
        code, out, _ = scan(capsys, repo, monkeypatch, "--diff", spec, "--format", "json")
        assert code == 1
        assert [(f["file"], f["line"], f["key"]) for f in json.loads(out)] == [
            ("app.env", 3, "API_PASSWORD")
        ]
    code, out, _ = scan(
        capsys, repo, monkeypatch, "--diff", "main", "--whole-files", "--format", "json"
    )
    assert [f["line"] for f in json.loads(out)] == [2, 3]


def test_diff_uses_the_merge_base(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _diff_repo(repo)
    git(repo, "checkout", "-q", "main")
    (repo / "main-only.env").write_text("TOKEN_PASSWORD=Main-Branch-Pw77\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main moved on")
    git(repo, "checkout", "-q", "feature")
    code, out, _ = scan(capsys, repo, monkeypatch, "--diff", "main", "--format", "json")
    assert {f["file"] for f in json.loads(out)} == {"app.env"}  # not main's own change
    assert code == 1


def test_diff_file_level_findings_and_clean_changes(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = git(repo, "rev-parse", "HEAD")
    (repo / "terraform.tfstate").write_text('{\n  "version": 4\n}\n')
    (repo / "docs.md").write_text("hello\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "state")
    code, out, _ = scan(capsys, repo, monkeypatch, "--diff", base, "--format", "json")
    assert [(f["file"], f["line"], f["rule"]) for f in json.loads(out)] == [
        ("terraform.tfstate", 1, "forbidden-file")
    ]
    code, out, _ = scan(capsys, repo, monkeypatch, "--diff", "HEAD", "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_staged_scans_the_index(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "new.yaml").write_text(f"db_password: {NEW_SECRET}\n")
    git(repo, "add", "new.yaml")
    (repo / "new.yaml").write_text("db_password: '{{ vault_db_password }}'\n")  # unstaged fix
    code, out, _ = scan(capsys, repo, monkeypatch, "--staged", "--format", "json")
    assert code == 1
    assert [(f["file"], f["line"]) for f in json.loads(out)] == [("new.yaml", 1)]
    git(repo, "add", "new.yaml")
    code, out, _ = scan(capsys, repo, monkeypatch, "--staged")
    assert code == 0
    code, out, _ = scan(capsys, repo, monkeypatch, "--staged", "other.yaml")  # PATHs filter
    assert code == 0


def test_baseline_by_fingerprint_survives_moves(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, _ = scan(capsys, repo, monkeypatch, "--format", "json", "--output", "baseline.json")
    assert code == 1
    assert json.loads((repo / "baseline.json").read_text())[0]["line"] == 2
    (repo / "app.env").write_text(f"# moved\n\nDB_USER=app\nDB_PASSWORD={SECRET}\n")
    code, out, err = scan(capsys, repo, monkeypatch, "--baseline", "baseline.json", "app.env")
    assert code == 0
    assert "1 known finding in the baseline" in err
    (repo / "app.env").write_text(f"DB_PASSWORD={SECRET}\nNEW_PASSWORD={NEW_SECRET}\n")
    code, out, _ = scan(
        capsys, repo, monkeypatch, "--baseline", "baseline.json", "--format", "json", "app.env"
    )
    assert code == 1
    assert [f["line"] for f in json.loads(out)] == [2]


def test_config_exclude_and_allow(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out, _ = scan(capsys, repo, monkeypatch, "--format", "json")
    fingerprint = json.loads(out)[0]["fingerprint"]
    (repo / ".homelab-secrets-scan.yaml").write_text(
        f"allow:\n  - fingerprint: {fingerprint}\n    reason: test value of the CLI tests\n"
        "    paths: [app.env]\n"
    )
    code, out, err = scan(capsys, repo, monkeypatch)
    assert code == 0
    assert "accepted app.env:2:13 generic-password: test value of the CLI tests" in err
    (repo / "other.env").write_text(f"DB_PASSWORD={SECRET}\n")  # same value elsewhere: not allowed
    code, out, _ = scan(capsys, repo, monkeypatch, "--format", "json", "other.env")
    assert code == 1
    (repo / ".homelab-secrets-scan.yaml").write_text("exclude: ['*.env']\n")
    code, _, _ = scan(capsys, repo, monkeypatch, "app.env", "other.env")
    assert code == 0
    (repo / ".homelab-secrets-scan.yaml").write_text("allow:\n  - fingerprint: nope\n")
    code, _, err = scan(capsys, repo, monkeypatch)
    assert code == 2
    assert "fingerprint" in err


def test_gha_mode(
    repo: Path,
    runner_files: RunnerFiles,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = _diff_repo(repo)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(repo))
    monkeypatch.setenv("RUNNER_TEMP", str(runner_files.output.parent))
    monkeypatch.setenv("INPUT_BASE", base)
    code, out, _ = scan(capsys, repo, monkeypatch, "--gha")
    assert code == 1
    assert "::error title=homelab-secrets%3A generic-password,file=app.env,line=3," in out
    outputs = runner_files.outputs()
    assert outputs["findings"] == "1"
    sarif = json.loads(Path(outputs["sarif-file"]).read_text())
    assert (
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
        == 3
    )
    summary = runner_files.summary_text()
    assert "| app.env | 3 | generic-password | API\\_PASSWORD |" in summary
    for text in (summary, Path(outputs["sarif-file"]).read_text()):
        assert NEW_SECRET not in text
        assert SECRET not in text
    monkeypatch.setenv("INPUT_FAIL-ON-FINDINGS", "false")
    code, _, _ = scan(capsys, repo, monkeypatch, "--gha")
    assert code == 0
