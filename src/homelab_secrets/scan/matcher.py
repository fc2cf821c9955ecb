"""The keyword prefilter: every detector keyword, found in one pass per file.

Detectors declare lower-case ASCII keywords (``ghp_``, ``password``,
``-----begin``...); a detector only ever looks at the lines where one of its
keywords occurs, so most of a file is read once, here, and never again.

Two interchangeable backends, same answers (a test checks it):

* **Hyperscan** (the ``hyperscan`` package: Intel Hyperscan / Vectorscan):
  all keywords compiled into one automaton, matched case-insensitively at
  hundreds of MB/s.  This is the runtime dependency the scanner adds.
* **Python** (``bytes.lower`` + ``bytes.find`` per keyword), used when
  ``hyperscan`` cannot be imported, or on request (``backend="python"``).

Both report every occurrence, overlapping ones included, as
``(keyword index, end offset)`` over the raw bytes (ASCII lower-casing
keeps offsets).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

Backend = Literal["auto", "hyperscan", "python"]


class KeywordMatcher:
    """Finds every occurrence of a fixed set of keywords in bytes."""

    def __init__(self, keywords: Sequence[str], backend: Backend = "auto") -> None:
        for word in keywords:
            if not word or word != word.lower() or not word.isascii():
                raise ValueError(f"keyword {word!r} must be non-empty lower-case ASCII")
        self.keywords = tuple(keywords)
        self._encoded = [w.encode("ascii") for w in self.keywords]
        self._db: Any = None
        self.backend: Literal["hyperscan", "python"] = "python"
        if backend in ("auto", "hyperscan"):
            try:
                self._db = _compile_hyperscan(self._encoded)
                self.backend = "hyperscan"
            except ImportError:
                if backend == "hyperscan":
                    raise

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        """``(keyword index, end offset)`` for every occurrence, in no set order."""
        if not data:
            return []
        if self._db is not None:
            hits: list[tuple[int, int]] = []

            def on_match(ident: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
                hits.append((ident, end))

            self._db.scan(data, match_event_handler=on_match)
            return hits
        return self._scan_python(data)

    def _scan_python(self, data: bytes) -> list[tuple[int, int]]:
        lowered = data.lower()
        hits = []
        for index, word in enumerate(self._encoded):
            find = lowered.find
            size = len(word)
            pos = find(word)
            while pos != -1:
                hits.append((index, pos + size))
                pos = find(word, pos + 1)
        return hits


def _compile_hyperscan(words: list[bytes]) -> Any:
    import hyperscan

    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=[re.escape(w) for w in words],
        ids=list(range(len(words))),
        elements=len(words),
        flags=[hyperscan.HS_FLAG_CASELESS] * len(words),
    )
    return db
