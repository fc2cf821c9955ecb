"""What to hide, and hiding it in a stream.

:func:`fragments` says which strings would reveal (part of) a value in a log;
GitHub Actions masks them (:func:`homelab_secrets.gha.mask_all`) and
``homelab-secrets run`` replaces them in its child's output
(:class:`Redactor`), so both hide exactly the same things.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable

from homelab_secrets.secrets.model import Mask, MaskForm

REPLACEMENT = b"***"


def _b64(data: bytes) -> set[str]:
    return {base64.b64encode(data).decode("ascii"), base64.urlsafe_b64encode(data).decode("ascii")}


def fragments(value: str, forms: Iterable[MaskForm] = ()) -> set[str]:
    """Every string whose appearance in a log would reveal (part of) ``value``.

    * each line, stripped (a line is what a log shows; stripped, it also matches
      when printed with other indentation or line endings);
    * ``json``: the JSON-escaped form of the whole value and of each line, both
      ASCII-escaped and not (``\\u00e9`` and ``é``);
    * ``base64``: the standard and URL-safe encodings of the value, plus, for
      each of the three byte alignments, the encoding of the longest aligned
      run of whole 3-byte groups (at least 6 bytes): one of those appears
      verbatim whenever the value sits anywhere inside a larger base64 blob
      (e.g. ``user:password`` in a basic-auth header).

    A blank value (or line) has no fragments: masking whitespace, or its JSON
    form ``\\t``, would blank the whole log and protect nothing.
    """
    if not value.strip():
        return set()
    wanted = set(forms)
    lines = [line for line in value.splitlines() if line.strip()]
    found = {line.strip() for line in lines}
    if "json" in wanted:
        for text in (value, *lines):
            for ascii_only in (True, False):
                found.add(json.dumps(text, ensure_ascii=ascii_only)[1:-1].strip())
    if "base64" in wanted:
        data = value.encode("utf-8")
        found |= _b64(data)
        for shift in range(3):
            run = data[shift:]
            run = run[: len(run) - len(run) % 3]
            if len(run) >= 6:
                found |= _b64(run)
    found.discard("")
    return found


class Redactor:
    """Replaces every fragment of ``masks`` with ``***`` in a byte stream.

    Line-buffered: :meth:`feed` returns the complete lines seen so far, with
    every fragment replaced, and keeps the rest; so a value written in
    several pieces (across ``write`` calls, pipe chunks) is still found.
    :meth:`pending` gives what may be shown of an unfinished line (a prompt)
    without revealing the start of a value: it holds back any tail that could
    begin a fragment.  :meth:`flush` gives the rest at the end.  Fragments
    never span lines (each line of a multi-line value is its own fragment).
    """

    def __init__(self, masks: Iterable[Mask]) -> None:
        found: set[bytes] = set()
        for mask in masks:
            found |= {f.encode("utf-8") for f in fragments(mask.value, mask.forms)}
        self._fragments = sorted(found, key=lambda f: (-len(f), f))
        self._pattern = (
            re.compile(b"|".join(re.escape(f) for f in self._fragments))
            if self._fragments
            else None
        )
        self._buffer = b""

    def copy(self) -> Redactor:
        """The same fragments, an empty buffer (one per stream)."""
        twin = Redactor(())
        twin._fragments, twin._pattern = self._fragments, self._pattern
        return twin

    def redact(self, data: bytes) -> bytes:
        """``data`` with every fragment replaced (longest first)."""
        if self._pattern is None:
            return data
        return self._pattern.sub(REPLACEMENT, data)

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        cut = self._buffer.rfind(b"\n") + 1
        if not cut:
            return b""
        done, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return self.redact(done)

    def pending(self) -> bytes:
        """The part of the unfinished line that is safe to show now."""
        if not self._buffer:
            return b""
        redacted = self.redact(self._buffer)
        hold = 0
        for fragment in self._fragments:
            for size in range(min(len(fragment) - 1, len(redacted)), hold, -1):
                if redacted.endswith(fragment[:size]):
                    hold = size
                    break
        if hold == len(redacted):
            return b""
        # whatever is shown is gone from the buffer; what is held stays raw
        shown = redacted[: len(redacted) - hold]
        self._buffer = redacted[len(redacted) - hold :] if hold else b""
        return shown

    def flush(self) -> bytes:
        rest, self._buffer = self._buffer, b""
        return self.redact(rest)
