"""SOPS files, recognised by their metadata in every store, never by name.

:func:`recognise` asks the SOPS engine's own stores
(:func:`homelab_secrets.sops.engine.load_encrypted`: YAML, JSON, dotenv, INI,
and the binary store's JSON) whether a file carries a valid ``sops``
section.  For a SOPS file it returns where the metadata sits in the bytes
(to blank it: the ``sops`` block is never a finding) and which of its values
are **not** encrypted although the file's own rules (``unencrypted_suffix``,
``encrypted_regex``, ...) say they must be: exactly sops' decision, made by
walking the tree with :func:`homelab_secrets.sops.tree.decrypt_tree` and a
probe in place of the cipher.  A clear value there was typed in by hand
after encryption (sops would have encrypted it).  Comments are left to the
pattern rules.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from homelab_secrets.scan import envelope
from homelab_secrets.scan.envelope import is_envelope
from homelab_secrets.sops.cipher import Cipher, CipherError
from homelab_secrets.sops.model import Branch, Comment
from homelab_secrets.sops.tree import format_path

_YAML_BLOCK = re.compile(rb"^sops:[ \t]*\r?\n(?:(?:[ \t]+[^\n]*|[ \t]*)(?:\n|\Z))*", re.M)
_DOTENV_LINE = re.compile(rb"^sops_[^\n=]*=[^\n]*$", re.M)
_INI_SECTION = re.compile(rb"^\[sops\][ \t]*\r?\n(?:(?!\[)[^\n]*(?:\n|\Z))*", re.M)
_JSON_KEY = re.compile(rb'"sops"\s*:\s*\{')


@dataclass
class SopsFile:
    store: str  #: yaml, json, dotenv, ini, binary
    metadata_spans: list[tuple[int, int]]  #: byte ranges of the ``sops`` section
    clear_values: list[tuple[str, ...]] = field(default_factory=list)  #: key paths
    #: no value at all is in clear (then only keys and comments are text)
    all_encrypted: bool = False


class _Probe(Cipher):
    """Stands in for the cipher while :func:`decrypt_tree` walks the tree:
    records the key path of each value sops would have encrypted but that is
    not an ``ENC[...]`` envelope, and changes nothing."""

    def __init__(self) -> None:
        super().__init__(bytes(32))
        self.clear: list[tuple[str, ...]] = []

    def decrypt(self, value: str, aad: str) -> Any:
        if isinstance(value, _CommentText):
            return value
        if isinstance(value, _Clear) or (value and not is_envelope(value)):
            self.clear.append(tuple(aad.split(":")[:-1]))
        return value


class _Clear(str):
    """A non-string leaf (int, bool, float, time, bytes) left in clear, as a
    string so the walk goes on (sops encrypts those too)."""


class _CommentText(str):
    """The text of a comment: not judged here (the pattern rules read it)."""


def _mark_clear(node: Any) -> Any:
    if isinstance(node, Branch):
        for i, (key, value) in enumerate(node):
            if isinstance(key, Comment):
                node[i] = (Comment(_CommentText(key.value)), value)
            else:
                node[i] = (key, _mark_clear(value))
        return node
    if isinstance(node, list):
        return [_mark_clear(v) for v in node]
    if isinstance(node, Comment):
        return Comment(_CommentText(node.value))
    if node is None or isinstance(node, str):
        return node
    return _Clear("")


def _store_for(path: str, data: bytes) -> list[str]:
    from homelab_secrets.sops.stores import format_for_path

    fmt = format_for_path(path)
    stores = [fmt]
    if data.lstrip()[:1] == b"{":
        stores += [s for s in ("json", "binary") if s != fmt]
    return stores


def _metadata_only(store: str, data: bytes, spans: list[tuple[int, int]]) -> bytes:
    """The ``sops`` section alone, as a file of ``store`` (small: fast to parse)."""
    start, end = spans[0]
    if store in ("json", "binary"):
        return b"{" + data[start:end] + b"}"
    if store == "dotenv":
        return b"\n".join(data[a:b] for a, b in spans) + b"\n"
    return data[start:end]


#: A value left once the ``sops`` section is cut out and the envelopes are
#: removed, per store: ``key: value`` or a ``- value`` list item (YAML), a
#: string, number or literal (JSON), ``KEY=value`` (dotenv), ``key = value``
#: (INI).  Comments and empty values do not count.
_CLEAR = {
    "yaml": re.compile(
        rb"^[ \t]*(?:-[ \t]+)*[^\s#][^\n]*?:[ \t]+[^\s#]|^[ \t]*-[ \t]+[^\s#\[{-]", re.M
    ),
    "json": re.compile(rb':[ \t]*(?:"[^"\n]|[-0-9tfn])|^[ \t]*"[^"\n]+"[ \t]*,?[ \t]*$', re.M),
    "dotenv": re.compile(rb"^[^#\n=]*=[^\n]", re.M),
    "ini": re.compile(rb"^[ \t]*[^#;\[\s][^=\n]*=[ \t]*[^\s]", re.M),
}


def _no_clear_values(store: str, data: bytes, spans: list[tuple[int, int]]) -> bool:
    """True when, the ``sops`` section cut out and every envelope removed, no
    value is left: then all values are encrypted and the tree need not be
    walked (parsing a whole file is the slow part of a SOPS file)."""
    kept, pos = [], 0
    for start, end in spans:
        kept.append(data[pos:start])
        pos = end
    kept.append(data[pos:])
    rest = envelope.remove(b"".join(kept))
    return _CLEAR["json" if store == "binary" else store].search(rest) is None


def _metadata(store: str, snippet: bytes) -> bool:
    """Is ``snippet`` (the ``sops`` section alone) valid SOPS metadata?  YAML
    and JSON through libyaml / json (fast); dotenv and INI through the SOPS
    engine's own stores."""
    import yaml

    from homelab_secrets.errors import UserError
    from homelab_secrets.sops.metadata import Metadata

    try:
        if store == "yaml":
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            doc = yaml.load(snippet, Loader=loader)  # noqa: S506 - a safe loader
        elif store in ("json", "binary"):
            doc = json.loads(snippet)
        else:
            from homelab_secrets.sops.engine import load_encrypted

            load_encrypted(snippet, store)
            return True
        Metadata.from_raw(doc.get("sops") if isinstance(doc, dict) else None)
    except (UserError, ValueError, RecursionError, yaml.YAMLError):
        return False
    return True


def recognise(path: str, data: bytes) -> SopsFile | None:
    """The SOPS view of ``data`` if it is a SOPS file (any store), else None.

    The metadata alone is validated (it is small); the whole tree is parsed
    and walked only when a value may be in clear."""
    if b"sops" not in data:
        return None
    for store in _store_for(path, data):
        spans = metadata_spans(store, data)
        if not spans or not _metadata(store, _metadata_only(store, data, spans)):
            continue
        if _no_clear_values(store, data, spans):
            return SopsFile(store, spans, [], all_encrypted=True)
        return SopsFile(store, spans, _clear_values(data, store))
    return None


def _clear_values(data: bytes, store: str) -> list[tuple[str, ...]]:
    """Key paths of the values sops would encrypt that are in clear (full parse)."""
    from homelab_secrets.errors import UserError
    from homelab_secrets.sops.engine import load_encrypted
    from homelab_secrets.sops.tree import TreeError, decrypt_tree

    try:
        branches, metadata = load_encrypted(data, store)
    except (UserError, ValueError, RecursionError):
        return []  # the metadata is sops' but the rest does not parse: patterns still run
    probe = _Probe()
    # a tree sops itself cannot walk: nothing more to say about its values
    with contextlib.suppress(TreeError, CipherError):
        decrypt_tree([_mark_clear(b) for b in branches], probe, metadata.rules)
    return probe.clear


def metadata_spans(store: str, data: bytes) -> list[tuple[int, int]]:
    """Byte ranges holding the ``sops`` section of a file in ``store``."""
    if store == "yaml":
        starts = [0] if data.startswith(b"sops:") else []
        pos = data.find(b"\nsops:")
        while pos != -1:
            starts.append(pos + 1)
            pos = data.find(b"\nsops:", pos + 1)
        return [m.span() for m in (_YAML_BLOCK.match(data, at) for at in starts) if m]
    if store == "dotenv":
        return [m.span() for m in _DOTENV_LINE.finditer(data)]
    if store == "ini":
        return [m.span() for m in _INI_SECTION.finditer(data)]
    spans = []
    for m in _JSON_KEY.finditer(data):
        end = _json_object_end(data, m.end() - 1)
        if end is not None:
            spans.append((m.start(), end))
    return spans


def _json_object_end(data: bytes, start: int) -> int | None:
    """The offset after the JSON object starting at ``data[start] == b'{'``."""
    depth = 0
    in_string = escaped = False
    for i in range(start, len(data)):
        c = data[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c == 0x7B:
            depth += 1
        elif c == 0x7D:
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def describe(path: tuple[str, ...]) -> str:
    return format_path(path)


def locate(data: bytes, path: tuple[str, ...]) -> int:
    """The 1-based line where the value at ``path`` is written (best effort:
    each key of the path in turn, in YAML, JSON, INI or dotenv spelling)."""
    pos = 0
    line_start = 0
    for component in path:
        key = re.escape(component.encode("utf-8", "surrogateescape"))
        pattern = re.compile(
            rb"^[ \t-]*[\"']?" + key + rb"[\"']?[ \t]*[:=]|^\[" + key + rb"\][ \t]*$", re.M
        )
        m = pattern.search(data, pos)
        if m is None:
            break
        pos, line_start = m.end(), m.start()
    return data.count(b"\n", 0, line_start) + 1
