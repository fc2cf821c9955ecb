"""A plan of changes: each one a title (names only), a diff for text files
(they hold no secret: ``.sops.yaml`` lists public keys), and the work; shown
by ``--dry-run``, made in order by :func:`apply`.  Shared by ``init`` and
``rekey``."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from homelab_secrets.onboard.discover import Skipped
    from homelab_secrets.onboard.seal import Sealed


@dataclass
class Step:
    """One change: what it does, a diff for text files, the work."""

    title: str
    run: Callable[[], None] = field(repr=False)
    diff: str = ""


@dataclass
class Plan:
    root: Path
    kinds: list[str]
    recipient: str
    key_source: str  #: how the key came to be, for the report
    steps: list[Step] = field(default_factory=list)
    sealed: list[Sealed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)  #: left to do by hand
    key_cmd: str = ""  #: the SOPS_AGE_KEY_CMD value, with --local-key keychain


def diff(path: str, old: str | None, new: str) -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=path if old is not None else "/dev/null",
        tofile=path,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def read_text(path: Path) -> str | None:
    """The file's text, None when it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {type(exc).__name__}", ExitCode.ERROR) from None


def writer(path: Path, text: str) -> Callable[[], None]:
    """The work of writing ``text`` to ``path`` (atomically, mode kept)."""

    def run() -> None:
        from homelab_secrets.fsutil import write_atomic

        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(str(path), text.encode("utf-8"), mode=None)

    return run


def text_step(title: str, root: Path, rel: str, old: str | None, new: str) -> Step:
    return Step(title, writer(root / rel, new), diff(rel, old, new))


def apply(steps: list[Step], say: Callable[[str], None]) -> None:
    """Make every change, in order, saying each once it is done."""
    for step in steps:
        step.run()
        say(step.title)
