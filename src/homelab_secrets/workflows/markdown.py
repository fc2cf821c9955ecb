"""Markdown we publish (job summaries, PR comments) from text we do not control
(resource addresses, task names, file diffs), and fitting it into a size limit.

Rules:

* text from a plan or a playbook goes into code spans (:func:`code`), fenced
  blocks (:func:`fenced`) or escaped HTML (:func:`html_code`): it can never
  start markup, end a table row, or mention (``@user``) anyone;
* sizes are counted in UTF-8 bytes (:func:`size`), which is never less than
  GitHub's character count: a PR comment takes at most 65,536 characters
  (:data:`COMMENT_LIMIT`), a step's summary 1 MiB (:data:`SUMMARY_LIMIT`);
* :func:`fit` keeps a document under a limit by dropping rows (table rows,
  diff blocks) from the end, section by section in the order given, and says
  how many were left out; the head of the document (counts) always stays.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: GitHub refuses a comment body longer than this ("Body is too long").
COMMENT_LIMIT = 65_536
#: What one step may append to the job summary ("up to 1024k"); we stay below.
SUMMARY_LIMIT = 1_000_000

_BACKTICKS = re.compile(r"`+")


def size(text: str) -> int:
    """The size that counts against a limit: UTF-8 bytes (>= characters)."""
    return len(text.encode("utf-8"))


def _longest_run(text: str) -> int:
    return max((len(m) for m in _BACKTICKS.findall(text)), default=0)


def code(text: str) -> str:
    """``text`` as an inline code span that is safe in a table cell: one line,
    ``|`` escaped (GitHub tables need it even inside code), a backtick run
    longer than any inside."""
    one_line = " ".join(text.splitlines()) or " "
    ticks = "`" * (_longest_run(one_line) + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{ticks}{pad}{one_line.replace('|', chr(92) + '|')}{pad}{ticks}"


def html_code(text: str) -> str:
    """``text`` as ``<code>`` HTML (for ``<summary>`` lines, where Markdown is
    not rendered): escaped, one line."""
    return "<code>" + html.escape(" ".join(text.splitlines()), quote=True) + "</code>"


def fenced(text: str, info: str = "") -> str:
    """A fenced code block holding ``text`` verbatim (a fence longer than any
    backtick run inside, so the text cannot close it)."""
    fence = "`" * max(3, _longest_run(text) + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{info}\n{body}{fence}\n"


def clip_lines(text: str, *, max_lines: int, max_bytes: int) -> tuple[str, bool]:
    """The first lines of ``text`` within both limits; whether any was cut."""
    out: list[str] = []
    used = 0
    lines = text.splitlines()
    for line in lines:
        cost = size(line) + 1
        if len(out) >= max_lines or used + cost > max_bytes:
            return "\n".join(out) + ("\n" if out else ""), True
        out.append(line)
        used += cost
    return text, False


@dataclass
class Section:
    """A part of a document whose rows may be dropped to fit.

    ``head`` and ``tail`` are shown only with at least one row (a heading and
    a table header; a closing ``</details>``); rows are complete Markdown
    lines or blocks, each ending with a newline."""

    head: str
    rows: list[str] = field(default_factory=list)
    tail: str = ""


def fit(
    top: str,
    sections: Sequence[Section],
    bottom: str,
    limit: int,
    *,
    left_out: Callable[[int], str],
) -> str:
    """``top``, as many rows of ``sections`` as fit (in order), the note
    ``left_out(count)`` when some were dropped, then ``bottom``; never more
    than ``limit`` (see the module docstring)."""
    total_rows = sum(len(s.rows) for s in sections)
    reserve = size(left_out(total_rows)) + 2 if total_rows else 0
    budget = limit - size(top) - size(bottom) - reserve
    if budget < 0:
        return truncate(top + bottom, limit)
    parts: list[str] = []
    hidden = 0
    for section in sections:
        if not section.rows:
            continue
        frame = size(section.head) + size(section.tail)
        shown: list[str] = []
        for row in section.rows:
            cost = size(row) + (frame if not shown else 0)
            if hidden or cost > budget:
                hidden += 1
                continue
            shown.append(row)
            budget -= cost
        if shown:
            parts.append(section.head + "".join(shown) + section.tail)
    note = "\n" + left_out(hidden) + "\n" if hidden else ""
    return top + "".join(parts) + note + bottom


def truncate(text: str, limit: int, note: str = "\n\n*(truncated)*\n") -> str:
    """``text`` cut at a line boundary to fit ``limit`` with ``note``; an open
    code fence is closed first."""
    if size(text) <= limit:
        return text
    keep = limit - size(note) - 16
    cut = text.encode("utf-8")[: max(keep, 0)].decode("utf-8", "ignore")
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else ""
    fence_open = None
    for line in cut.splitlines():
        match = re.match(r"^(`{3,})", line)
        if match:
            fence_open = None if fence_open and line.strip() == fence_open else match[1]
    if fence_open:
        cut += fence_open + "\n"
    return cut + note
