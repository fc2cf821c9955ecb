"""``edit``: sops' editor mode, driven by a small script as ``$EDITOR``.

The proof the issue asks for: sops opens every file we edit (and we open
every file sops edits), and ``git diff`` of an edit that changed one value
shows exactly that value's ``ENC[...]`` line plus ``lastmodified`` and
``mac``.  Also: exit 200 for an unchanged save, 201 for an editor that
fails, sops' template for a new file, the private temporary file (0600 in a
0700 folder, named like the file) that never outlives the command, Ctrl-C
and SIGTERM included.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.sops_oracle import AgeKeyPair, isolated_env, requires_sops, run_ours, run_sops

pytestmark = requires_sops

CORPUS = Path(__file__).parent / "corpus"

#: The editor: ``editor.py LOG ACTION [ARG...] FILE``; it records what it saw
#: (path, modes, content) in LOG, then does ACTION to FILE.
EDITOR = r"""
import json, os, sys, time
log, action, *rest = sys.argv[1:]
path = rest.pop()
st, dst = os.stat(path), os.stat(os.path.dirname(path))
with open(log, "a") as fh:
    fh.write(json.dumps({"path": path, "mode": st.st_mode & 0o777,
                         "dir_mode": dst.st_mode & 0o777,
                         "text": open(path, encoding="utf-8", errors="replace").read()}) + "\n")
if action == "replace":
    old, new = rest
    text = open(path).read()
    assert old in text, (old, text)
    open(path, "w").write(text.replace(old, new, 1))
elif action == "write":
    open(path, "w").write(rest[0])
elif action == "bad":
    open(path, "w").write("a: [\n")
elif action == "sleep":
    time.sleep(float(rest[0]))
elif action == "fail":
    sys.exit(3)
"""


@pytest.fixture(scope="module")
def key() -> AgeKeyPair:
    return AgeKeyPair.generate()


class Repo:
    def __init__(self, root: Path, key: AgeKeyPair) -> None:
        self.root = root
        self.work = root / "repo"
        self.home = root / "home"
        self.work.mkdir()
        self.home.mkdir()
        self.key = key
        self.editor = root / "editor.py"
        self.editor.write_text(EDITOR)
        self.log = root / "editor.log"

    def editor_env(self, *action: str, var: str = "EDITOR") -> dict[str, str]:
        command = shlex.join([sys.executable, str(self.editor), str(self.log), *action])
        return {var: command, "SOPS_AGE_KEY": self.key.identity}

    def seen(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def encrypt_with_sops(self, name: str, dest: str) -> Path:
        shutil.copyfile(CORPUS / name, self.work / name)
        out = run_sops(
            ["encrypt", "--age", self.key.recipient, name], cwd=self.work, home=self.home
        )
        assert out.returncode == 0, out.stderr
        (self.work / dest).write_bytes(out.stdout)
        return self.work / dest

    def decrypt_with_sops(self, name: str) -> bytes:
        out = run_sops(
            ["decrypt", name],
            cwd=self.work,
            home=self.home,
            env={"SOPS_AGE_KEY": self.key.identity},
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=self.work,
            capture_output=True,
            text=True,
            check=True,
        ).stdout


@pytest.fixture
def repo(tmp_path: Path, key: AgeKeyPair) -> Repo:
    return Repo(tmp_path, key)


def _changed_lines(diff: str) -> tuple[list[str], list[str]]:
    minus = [ln[1:] for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:] for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return minus, plus


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("nested.yaml", "password: s3cr3t-pass", "password: changed"),
        ("data.json", '"name": "app"', '"name": "other"'),
        ("app.env", "API_TOKEN=tok_1234567890", "API_TOKEN=tok_0"),
        ("settings.ini", "admin", "root"),
    ],
)
def test_one_changed_value_is_one_changed_enc_line_plus_lastmodified_and_mac(
    repo: Repo, name: str, old: str, new: str
) -> None:
    target = repo.encrypt_with_sops(name, f"secrets{Path(name).suffix}")
    if name.endswith(".ini"):  # sops 3.11 writes its [sops] section in random order
        out = run_ours(
            ["rotate", "-i", target.name],
            cwd=repo.work,
            home=repo.home,
            env={"SOPS_AGE_KEY": repo.key.identity},
        )
        assert out.returncode == 0, out.stderr
    plain = repo.decrypt_with_sops(target.name).decode()
    assert old in plain
    repo.git("init", "-q")
    repo.git("add", target.name)
    repo.git("commit", "-qm", "the file before the edit")
    time.sleep(1.05)  # a new lastmodified (seconds) for sure
    env = repo.editor_env("replace", old, new)
    out = run_ours(["edit", target.name], cwd=repo.work, home=repo.home, env=env)
    assert out.returncode == 0, out.stderr
    minus, plus = _changed_lines(repo.git("diff", "--unified=0", target.name))
    assert len(minus) == len(plus) == 3, (minus, plus)
    assert sum("lastmodified" in ln for ln in plus) == 1
    assert sum("mac" in ln and "ENC[AES256_GCM" in ln for ln in plus) == 1
    assert sum("ENC[AES256_GCM" in ln for ln in plus) == 2  # the value and the MAC
    assert repo.decrypt_with_sops(target.name) == plain.replace(old, new, 1).encode()


def test_edits_go_both_ways(repo: Repo) -> None:
    """We edit what sops wrote, sops edits what we wrote: each opens the other's."""
    ours_first = repo.encrypt_with_sops("nested.yaml", "a.yaml")
    env = repo.editor_env("replace", "user: admin", "user: root")
    out = run_ours(["edit", ours_first.name], cwd=repo.work, home=repo.home, env=env)
    assert out.returncode == 0, out.stderr
    env = repo.editor_env("replace", "port: 5432", "port: 6543")
    theirs = run_sops(["edit", ours_first.name], cwd=repo.work, home=repo.home, env=env)
    assert theirs.returncode == 0, theirs.stderr
    env = repo.editor_env("replace", "user: root", "user: again")
    out = run_ours(["edit", ours_first.name], cwd=repo.work, home=repo.home, env=env)
    assert out.returncode == 0, out.stderr
    text = repo.decrypt_with_sops(ours_first.name).decode()
    assert "user: again" in text
    assert "port: 6543" in text


def test_what_the_editor_sees_is_what_sops_shows_it(repo: Repo) -> None:
    target = repo.encrypt_with_sops("comments.yaml", "c.yaml")
    shutil.copyfile(target, repo.work / "d.yaml")
    run_sops(["edit", "c.yaml"], cwd=repo.work, home=repo.home, env=repo.editor_env("keep"))
    run_ours(["edit", "d.yaml"], cwd=repo.work, home=repo.home, env=repo.editor_env("keep"))
    theirs, ours = repo.seen()
    assert ours["text"] == theirs["text"]
    assert Path(str(ours["path"])).name == "d.yaml"  # named like the file
    assert ours["mode"] == 0o600
    assert ours["dir_mode"] == 0o700
    assert not Path(str(ours["path"])).exists()
    assert not Path(str(ours["path"])).parent.exists()


def test_an_unchanged_save_is_exit_200_and_writes_nothing(repo: Repo) -> None:
    target = repo.encrypt_with_sops("nested.yaml", "n.yaml")
    before = target.read_bytes()
    for tool in (run_sops, run_ours):
        out = tool(["edit", "n.yaml"], cwd=repo.work, home=repo.home, env=repo.editor_env("keep"))
        assert out.returncode == 200, out.stderr
        assert target.read_bytes() == before


@pytest.mark.parametrize(
    "editor", [("fail",), ("nonexistent-editor-xyz",), ("'unterminated",)], ids=str
)
def test_an_editor_that_cannot_run_or_fails_is_exit_201(repo: Repo, editor: tuple[str]) -> None:
    target = repo.encrypt_with_sops("nested.yaml", "n.yaml")
    before = target.read_bytes()
    env = repo.editor_env("fail") if editor == ("fail",) else {"EDITOR": editor[0]}
    env["SOPS_AGE_KEY"] = repo.key.identity
    for tool in (run_sops, run_ours):
        out = tool(["edit", "n.yaml"], cwd=repo.work, home=repo.home, env=env)
        assert out.returncode == 201, out.stderr
        assert target.read_bytes() == before


def test_sops_editor_comes_before_editor(repo: Repo) -> None:
    target = repo.encrypt_with_sops("nested.yaml", "n.yaml")
    env = repo.editor_env("replace", "user: admin", "user: chosen", var="SOPS_EDITOR")
    env["EDITOR"] = "false"
    out = run_ours(["edit", target.name], cwd=repo.work, home=repo.home, env=env)
    assert out.returncode == 0, out.stderr
    assert b"user: chosen" in repo.decrypt_with_sops(target.name)


def test_an_edit_that_does_not_parse_fails_without_a_terminal_and_changes_nothing(
    repo: Repo,
) -> None:
    """sops waits for a key press forever there; we fail (exit 2), file untouched."""
    target = repo.encrypt_with_sops("nested.yaml", "n.yaml")
    before = target.read_bytes()
    out = run_ours(["edit", "n.yaml"], cwd=repo.work, home=repo.home, env=repo.editor_env("bad"))
    assert out.returncode == 2, out.stderr
    assert "invalid syntax" in out.stderr
    assert target.read_bytes() == before
    assert not Path(str(repo.seen()[0]["path"])).parent.exists()


@pytest.mark.parametrize("ext", [".yaml", ".json", ".env", ".ini", ".bin"])
def test_a_new_file_starts_from_sops_template(repo: Repo, ext: str) -> None:
    for tool in (run_sops, run_ours):
        out = tool(
            ["edit", "--age", repo.key.recipient, f"new{ext}"],
            cwd=repo.work,
            home=repo.home,
            env=repo.editor_env("keep"),
        )
        assert out.returncode == 200, out.stderr  # saved as it was: nothing written
        assert not (repo.work / f"new{ext}").exists()
    theirs, ours = repo.seen()
    assert ours["text"] == theirs["text"]


def test_a_new_file_follows_the_creation_rule_and_opens_in_sops(repo: Repo) -> None:
    (repo.work / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: .*\n    age: {repo.key.recipient}\n"
        "    encrypted_regex: ^pass\n"
    )
    env = repo.editor_env("write", "user: me\npassword: hidden\n")
    out = run_ours(["edit", "fresh.yaml"], cwd=repo.work, home=repo.home, env=env)
    assert out.returncode == 0, out.stderr
    text = (repo.work / "fresh.yaml").read_text()
    assert "user: me" in text
    assert "encrypted_regex: ^pass" in text
    assert repo.decrypt_with_sops("fresh.yaml") == b"user: me\npassword: hidden\n"


def _default_signals() -> None:
    """In the child, before exec: SIGINT and SIGQUIT as a terminal's shell
    leaves them.  A background job of a shell without job control (a CI
    script run with `&`) ignores them, an ignored signal stays ignored across
    exec, and the editor would then never see the Ctrl-C this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def _ours_in_background(repo: Repo, target: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "homelab_secrets", "edit", target],
        cwd=repo.work,
        env=isolated_env(repo.home, env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_default_signals,  # noqa: PLW1509 (no threads start before exec here)
    )


def _wait_for_editor(repo: Repo) -> Path:
    for _ in range(500):
        seen = repo.seen()
        if seen:
            return Path(str(seen[0]["path"]))
        time.sleep(0.02)
    raise AssertionError("the editor never started")


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_the_temporary_file_never_outlives_the_command(repo: Repo, how: str) -> None:
    target = repo.encrypt_with_sops("nested.yaml", "n.yaml")
    before = target.read_bytes()
    proc = _ours_in_background(repo, target.name, repo.editor_env("sleep", "30"))
    try:
        tmp = _wait_for_editor(repo)
        assert tmp.exists()
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:  # a terminal sends SIGINT to the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if how == "SIGTERM":
        assert proc.returncode == -signal.SIGTERM
    else:
        assert proc.returncode == 130
    assert not tmp.exists()
    assert not tmp.parent.exists()
    assert target.read_bytes() == before
