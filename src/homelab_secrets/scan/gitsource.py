"""What git says to scan: tracked files, the files and lines a range or the
index changes, and file contents at a revision (or staged), read in one
``git cat-file --batch`` process.

Ranges have pull-request meaning: ``BASE..HEAD`` is compared from the merge
base of the two (what a pull request's "files changed" shows), so commits
that landed on the base branch meanwhile are not the change's.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from homelab_secrets.errors import ExitCode, UserError

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)
_ZEROS = re.compile(r"^0+$")


def _git(root: Path, *args: str, ok_codes: tuple[int, ...] = (0,)) -> bytes:
    proc = subprocess.run(
        ["git", "-c", "core.quotepath=off", *args],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if proc.returncode not in ok_codes:
        first = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = first[0] if first else f"exit {proc.returncode}"
        raise UserError(f"git {args[0]} failed in {root}: {reason}", ExitCode.USAGE)
    return proc.stdout


def repo_root(start: Path) -> Path:
    try:
        out = _git(start, "rev-parse", "--show-toplevel")
    except FileNotFoundError:
        raise UserError("git is not installed: give PATHs to scan", ExitCode.USAGE) from None
    except UserError:
        raise UserError(
            f"{start} is not inside a git repository: give PATHs to scan", ExitCode.USAGE
        ) from None
    return Path(out.decode().strip())


def tracked_files(root: Path) -> list[str]:
    out = _git(root, "ls-files", "-z", "--cached")
    return sorted({p for p in out.decode("utf-8", "surrogateescape").split("\0") if p})


@dataclass
class Change:
    """A changed file: its path after the change, and the new-side lines
    added or modified (empty for a rename, mode change or binary file)."""

    path: str
    lines: set[int]


def _parse_diff(out: bytes) -> list[Change]:
    changes: list[Change] = []
    current: Change | None = None
    for block in re.split(rb"^diff --git ", out, flags=re.M)[1:]:
        m = re.search(rb"^\+\+\+ b/(.*)$", block, re.M)
        if m is None:
            m = re.search(rb"^rename to (.*)$", block, re.M) or re.search(
                rb"^ b/(.*)$", block.split(b"\n", 1)[0], re.M
            )
        header = block.split(b"\n", 1)[0]
        name = header.rsplit(b" b/", 1)[-1] if m is None else m.group(1)
        current = Change(_unquote(name.decode("utf-8", "surrogateescape")), set())
        for hunk in _HUNK.finditer(block):
            start, count = int(hunk[1]), int(hunk[2]) if hunk[2] is not None else 1
            current.lines.update(range(start, start + count))
        changes.append(current)
    return changes


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    return name


def _diff_args() -> list[str]:
    return [
        "diff",
        "--unified=0",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--find-renames",
        "--diff-filter=ACMRT",
        "--src-prefix=a/",
        "--dst-prefix=b/",
    ]


def resolve_range(root: Path, spec: str) -> tuple[str, str] | None:
    """``BASE[..HEAD]`` to (merge base, head) commit ids; None when BASE is
    the all-zeros id of a new branch (nothing to compare against)."""
    base, _, head = spec.partition("..")
    head = head.lstrip(".") or "HEAD"
    if not base or _ZEROS.match(base):
        return None
    ids = []
    for rev in (base, head):
        try:
            ids.append(_git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"))
        except UserError:
            raise UserError(
                f"--diff {spec}: {rev} is not a commit here (fetch it: a shallow clone needs "
                "fetch-depth: 0, or the base branch fetched)",
                ExitCode.USAGE,
            ) from None
    base_id, head_id = (i.decode().strip() for i in ids)
    out = _git(root, "merge-base", base_id, head_id, ok_codes=(0, 1))
    merge_base = out.decode().strip() or base_id
    return merge_base, head_id


def changed_between(root: Path, base: str, head: str) -> list[Change]:
    return _parse_diff(_git(root, *_diff_args(), base, head, "--"))


def changed_staged(root: Path) -> list[Change]:
    return _parse_diff(_git(root, *_diff_args(), "--cached", "--"))


def read_blobs(root: Path, specs: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
    """``(spec, content)`` for each ``rev:path`` (or ``:path`` for the index);
    None when git has no such blob."""
    wanted = list(specs)
    if not wanted:
        return
    proc = subprocess.Popen(
        ["git", "cat-file", "--batch"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    stdin, stdout = proc.stdin, proc.stdout
    if stdin is None or stdout is None:  # pragma: no cover - PIPE always gives both
        raise RuntimeError("git cat-file: no pipes")
    try:
        for spec in wanted:
            stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
            stdin.flush()
            header = stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                yield spec, None
                continue
            size = int(header[2])
            data = stdout.read(size)
            stdout.read(1)  # the newline after the content
            yield spec, data
    finally:
        stdin.close()
        proc.wait()
