"""The fast path: a line-based reader for what sops itself writes.

sops' emitter (yaml.v3's ``emitterc.go`` with ``SetIndent(4)``) writes one
block style: block maps and sequences, compact ``- - x`` and ``- key: v``
items, one-line plain and quoted scalars, ``|`` block scalars, ``{}``/``[]``
and runs of full-line comments.  :class:`_FastReader` reads exactly that,
with the result ``scanner → parser → composer → decoder → treewalk`` would
give (store.go's ``LoadPlainFile``/``LoadEncryptedFile``), and gives up
(:class:`_Bail`) on anything else, so that the complete path decides; the
tests check on generated files that both paths agree.  A 5,000-value
encrypted file (~0.8 MB) loads in ~12 ms this way, ~160 ms the complete way.
"""

from __future__ import annotations

from homelab_secrets.sops.model import Branch, Comment, Uint64
from homelab_secrets.sops.stores import MetadataNotFound
from homelab_secrets.sops.stores.yaml.resolver import (
    BOOL_TAG,
    HINTS,
    INT_TAG,
    NULL_TAG,
    resolve_plain,
)
from homelab_secrets.sops.stores.yaml.sopsfile import (
    METADATA_STRUCTS,
    OUT_METADATA,
    STRING_PTR_MAP,
    YAML11_BOOLS,
    erase_sops,
)
from homelab_secrets.sops.stores.yaml.yamlh import HEX, HEX_ESCAPES, SIMPLE_ESCAPES, SOPS_KEY, pat

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any


class _Bail(Exception):
    """The fast path met something it leaves to the complete path."""


_EXCLUDED_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FAST_NOT_PLAIN = frozenset("'\"|{[")  # what :meth:`_FastReader.value` handles
#: Nesting the fast path leaves to the complete one, which knows where
#: yaml.v3 stops (``exceeded max depth of 10000``, counted on its own stack).
_MAX_FAST_DEPTH = 9_900


def _fast_plain_ok(text: str) -> bool:
    """Whether ``text`` (one line, no tabs) is read by yaml.v3 as exactly this
    plain scalar in block context, with nothing else on the line."""
    if not text or text[-1] == " " or text[-1] == ":" or " #" in text or ": " in text:
        return False
    c = text[0]
    if c in _EXCLUDED_FIRST:
        return (c in {"-", "?", ":"}) and len(text) > 1 and text[1] != " "
    return c != " "


def _quoted_end(text: str) -> int:
    """Where the quoted scalar that starts ``text`` ends (just past its
    closing quote), -1 when it does not end on this line: ``"…"`` with
    backslash escapes, ``'…'`` with ``''`` for a quote.  (By hand: ``re``
    costs start-up time, and every encrypted file has a quoted line.)"""
    quote = text[0]
    i = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == quote:
            if quote == "'" and i + 1 < n and text[i + 1] == "'":
                i += 2
                continue
            return i + 1
        i += 2 if c == "\\" and quote == '"' else 1
    return -1


def _fast_unescape(body: str) -> str:
    """The content of a one-line double-quoted scalar."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        j = body.find("\\", i)
        if j < 0:
            out.append(body[i:])
            break
        out.append(body[i:j])
        esc = body[j + 1]
        simple = SIMPLE_ESCAPES.get(esc)
        if simple is not None:
            out.append(simple)
            i = j + 2
            continue
        length = HEX_ESCAPES.get(esc)
        digits = body[j + 2 : j + 2 + length] if length else ""
        if not length or len(digits) < length or any(d not in HEX for d in digits):
            raise _Bail
        value = int(digits, 16)
        if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
            raise _Bail
        out.append(chr(value))
        i = j + 2 + length
    return "".join(out)


def _fast_meta_scalar(text: str) -> Any:
    tag, value = resolve_plain(text)
    if tag in (NULL_TAG, BOOL_TAG) or (tag == INT_TAG and not isinstance(value, Uint64)):
        return value
    return text


def _fast_meta_ok(value: Any, typ: str) -> bool:
    """Whether ``value`` (the fast path's raw ``sops`` data) decodes into the
    Go type ``typ`` without error (else the complete path reports it)."""
    if value is None:
        return True
    if typ == "string":
        return not isinstance(value, (dict, list))
    if typ == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "bool":
        return isinstance(value, bool) or value in YAML11_BOOLS
    if typ.startswith("[]"):
        return isinstance(value, list) and all(_fast_meta_ok(v, typ[2:]) for v in value)
    if not isinstance(value, dict):
        return False
    if typ == STRING_PTR_MAP:
        return all(_fast_meta_ok(v, "string") for v in value.values())
    fields = METADATA_STRUCTS[typ]
    return all(k not in fields or _fast_meta_ok(v, fields[k]) for k, v in value.items())


def _to_plain_data(value: Any) -> Any:
    if isinstance(value, Branch):
        return {k: _to_plain_data(v) for k, v in value if not isinstance(k, Comment)}
    if isinstance(value, list):
        return [_to_plain_data(v) for v in value if not isinstance(v, Comment)]
    return value


class _FastReader:
    """A line-based reader for the block style sops writes.  Raises
    :class:`_Bail` on anything else; what it returns is what the complete
    path returns."""

    def __init__(self, text: str, want_metadata: bool) -> None:
        lines = text.split("\n")
        self.final_newline = lines[-1] == ""
        if self.final_newline:
            lines.pop()
        self.lines = lines
        self.want_metadata = want_metadata
        self.after_flow = False

    def run(self) -> list[Branch]:
        lines = self.lines
        n = len(lines)
        docs: list[Branch] = []
        i = 0
        while i < n:
            if lines[i] == "---":
                if i:
                    raise _Bail  # an empty document
                i += 1
            root, i = self.document(i, len(docs) == 0)
            docs.append(root)
            if i < n:  # stopped at "---"
                i += 1
                if i == n:
                    raise _Bail  # an empty last document
        if not docs:
            raise _Bail
        return docs

    def document(self, i: int, first: bool) -> tuple[Branch, int]:
        """One document, from line ``i`` to a ``---`` line or the end.

        Comments: a run of full-line comments (no blank lines, one
        indentation ``c``) right after content is, in yaml.v3, the *head* of
        the next node when that node starts at column ``c`` (so it goes just
        before that node), and otherwise a *foot* (see :meth:`feet`).  The
        cases where that is not the whole story (after a ``key:`` with no
        value, after ``{}``/``[]``, before ``---``, ...) go to the complete
        path.
        """
        lines = self.lines
        n = len(lines)
        root = Branch()
        # Open containers: (indent, container, keys seen or None for a
        # sequence, raw metadata mode).
        frames: list[tuple[int, Any, set[str] | None, bool]] = []
        pending: tuple[Branch, Any, int, bool] | None = None  # "key:" awaiting its value
        comments: list[tuple[int, str]] = []
        self.after_flow = False  # the last value was {} or []
        while i < n:
            line = lines[i]
            content = line.lstrip(" ")
            if not content:
                raise _Bail  # blank lines move comments around: complete path
            ind = len(line) - len(content)
            c0 = content[0]
            if c0 == "#":
                comments.append((ind, content[1:]))
                i += 1
                continue
            if ind == 0 and (content.startswith("---") or content.startswith("...")):
                if content != "---" or not frames or comments:
                    raise _Bail
                break
            is_entry = c0 == "-" and (len(content) == 1 or content[1] == " ")
            if comments and comments[0][0] != ind:
                self.feet(comments, ind, frames, pending)
                comments = []
            if not frames:
                if ind or is_entry:
                    raise _Bail
                frames.append((0, root, set(), False))
            elif pending is not None:
                branch, key, col, raw = pending
                pending = None
                if ind > col:
                    child: Any = [] if is_entry else Branch()
                    branch.append((key, child))
                    frames.append((ind, child, None if is_entry else set(), raw))
                    if len(frames) > _MAX_FAST_DEPTH:
                        raise _Bail
                else:
                    branch.append((key, None))
            top = frames[-1][0]
            if ind != top:
                if ind > top:
                    raise _Bail
                while frames[-1][0] > ind:
                    frames.pop()
                if frames[-1][0] != ind:
                    raise _Bail
            frame = frames[-1]
            container = frame[1]
            keys = frame[2]
            if keys is None:
                if not is_entry:
                    raise _Bail
                if comments:
                    for _, text in comments:
                        container.append(Comment(text))
                    comments = []
                pending, i = self.entry(content, i, ind, container, frames=frames, raw=frame[3])
            else:
                if is_entry:
                    raise _Bail
                if comments:
                    for _, text in comments:
                        container.append((Comment(text), None))
                    comments = []
                pending, i = self.map_item(
                    content,
                    i,
                    ind,
                    container,
                    keys=keys,
                    raw=frame[3],
                    top_level_of_first=first and len(frames) == 1,
                )
        if not frames:
            raise _Bail
        if comments:
            if i < n:
                raise _Bail  # comments right before "---"
            self.feet(comments, -1, frames, pending)
        if pending is not None:
            pending[0].append((pending[1], None))
        return root, i

    def feet(
        self,
        comments: list[tuple[int, str]],
        ind: int,
        frames: list[tuple[int, Any, set[str] | None, bool]],
        pending: tuple[Branch, Any, int, bool] | None,
    ) -> None:
        """Comment lines followed by a less indented line (``ind``; -1: the
        end of the file).  yaml.v3 makes them a foot: of the last scalar
        when a line follows (so they end the innermost container), of the
        container at their own indentation at the end of the file."""
        col = comments[0][0]
        if col < ind or not frames or pending is not None or self.after_flow:
            raise _Bail
        for cind, _ in comments:
            if cind != col:
                raise _Bail
        depth = len(frames) - 1
        if ind < 0:
            while depth > 0 and frames[depth][0] > col:
                depth -= 1
            if frames[depth][0] != col:
                raise _Bail
        frame = frames[depth]
        container = frame[1]
        if frame[2] is None:
            if depth != len(frames) - 1:
                raise _Bail  # an outer sequence's end takes no comments
            for _, text in comments:
                container.append(Comment(text))
        else:
            for _, text in comments:
                container.append((Comment(text), None))

    def entry(
        self,
        content: str,
        i: int,
        ind: int,
        seq: list[Any],
        *,
        frames: list[tuple[int, Any, set[str] | None, bool]],
        raw: bool,
    ) -> tuple[tuple[Branch, Any, int, bool] | None, int]:
        """A ``- item`` line of the sequence at ``ind``."""
        if len(content) < 3:
            raise _Bail
        j = 2
        while content[j] == " ":
            j += 1
            if j == len(content):
                raise _Bail
        item = content[j:]
        c0 = item[0]
        if c0 == "#":
            raise _Bail
        if c0 == "-" and (len(item) == 1 or item[1] == " "):
            # A compact nested sequence: "- - x".
            inner: list[Any] = []
            seq.append(inner)
            frames.append((ind + j, inner, None, raw))
            if len(frames) > _MAX_FAST_DEPTH:
                raise _Bail
            return self.entry(item, i, ind + j, inner, frames=frames, raw=raw)
        if self.is_map_item(item):
            child = Branch()
            seq.append(child)
            keys: set[str] = set()
            frames.append((ind + j, child, keys, raw))
            if len(frames) > _MAX_FAST_DEPTH:
                raise _Bail
            return self.map_item(
                item, i, ind + j, child, keys=keys, raw=raw, top_level_of_first=False
            )
        value, i = self.value(item, i, ind, raw)
        seq.append(value)
        return None, i

    @staticmethod
    def is_map_item(item: str) -> bool:
        c0 = item[0]
        if c0 in {'"', "'"}:
            end = _quoted_end(item)
            if end < 0:
                raise _Bail
            rest = item[end:]
            return rest == ":" or rest.startswith(": ")
        return ": " in item or item[-1] == ":"

    def map_item(
        self,
        content: str,
        i: int,
        ind: int,
        branch: Branch,
        *,
        keys: set[str],
        raw: bool,
        top_level_of_first: bool,
    ) -> tuple[tuple[Branch, Any, int, bool] | None, int]:
        """A ``key: value`` (or ``key:``) line of the mapping at ``ind``."""
        c0 = content[0]
        key: Any
        if c0 in {'"', "'"}:
            end = _quoted_end(content)
            if end < 0:
                raise _Bail
            body = content[1 : end - 1]
            text = _fast_unescape(body) if c0 == '"' else body.replace("''", "'")
            key = text
            after = content[end:]
            if after == ":":
                rest = None
            elif after.startswith(": "):
                rest = after[2:]
            else:
                raise _Bail
        else:
            cut = content.find(": ")
            if cut < 0:
                if content[-1] != ":":
                    raise _Bail
                text = content[:-1]
                rest = None
            else:
                text = content[:cut]
                rest = content[cut + 2 :]
            if len(text) > 1000 or text == "<<" or not _fast_plain_ok(text):
                raise _Bail  # (a plain "<<" key is a merge)
            key = text if raw or text[0] not in HINTS else resolve_plain(text)[1]
        if text in keys:
            raise _Bail  # duplicate keys: the complete path decides
        keys.add(text)
        child_raw = raw or (top_level_of_first and self.want_metadata and key == SOPS_KEY)
        if rest is None:
            return (branch, key, ind, child_raw), i + 1
        if child_raw and not raw:
            raise _Bail  # "sops: <scalar>": the complete path has the message
        if rest[:1] == " ":
            rest = rest.lstrip(" ")
        if not rest:
            raise _Bail
        if rest[0] in _FAST_NOT_PLAIN:
            value, i = self.value(rest, i, ind, raw)
            branch.append((key, value))
            return None, i
        # The common case, inline: a plain scalar (sops' ENC[...] values).
        if not _fast_plain_ok(rest):
            raise _Bail
        self.after_flow = False
        if raw:
            branch.append((key, _fast_meta_scalar(rest)))
        elif rest[0] in HINTS:
            branch.append((key, resolve_plain(rest)[1]))
        else:
            branch.append((key, rest))
        return None, i + 1

    def value(self, text: str, i: int, parent_indent: int, raw: bool) -> tuple[Any, int]:
        """A scalar (or ``{}``/``[]``) at the end of line ``i``; a literal
        block scalar also takes the lines below it."""
        c0 = text[0]
        if c0 == '"':
            self.after_flow = False
            if _quoted_end(text) != len(text):
                raise _Bail
            return _fast_unescape(text[1:-1]), i + 1
        if c0 == "'":
            self.after_flow = False
            if _quoted_end(text) != len(text):
                raise _Bail
            return text[1:-1].replace("''", "'"), i + 1
        if c0 == "|":
            self.after_flow = False
            return self.literal(text, i, parent_indent)
        if text in {"{}", "[]"}:
            self.after_flow = True
            return (Branch() if text == "{}" else []), i + 1
        self.after_flow = False
        if not _fast_plain_ok(text):
            raise _Bail
        if raw:
            return _fast_meta_scalar(text), i + 1
        return resolve_plain(text)[1], i + 1

    def check_comments_after_blank_lines(self, k: int) -> None:
        """Blank lines ended a block scalar and line ``k`` follows.  Comments
        there are the head of the next node when it starts at their column
        (what :meth:`document` does with them); otherwise yaml.v3 may give
        them to an outer node (``k:\n  - |\n    v\n\n  # c`` is a foot of
        ``k``, not of the list), so the complete path decides."""
        lines = self.lines
        n = len(lines)
        if k >= n or lines[k].lstrip(" ")[:1] != "#":
            return
        col = len(lines[k]) - len(lines[k].lstrip(" "))
        j = k
        while j < n and lines[j].lstrip(" ")[:1] == "#":
            j += 1
        if j == n or len(lines[j]) - len(lines[j].lstrip(" ")) != col:
            raise _Bail

    def literal(self, header: str, i: int, parent_indent: int) -> tuple[str, int]:
        """A ``|`` block scalar whose header ends line ``i``."""
        chomp = 0
        increment = 0
        for ch in header[1:]:
            if (ch in {"-", "+"}) and not chomp:
                chomp = -1 if ch == "-" else 1
            elif "1" <= ch <= "9" and not increment:
                increment = int(ch)
            else:
                raise _Bail
        lines = self.lines
        n = len(lines)
        k = i + 1
        if increment:
            indent = parent_indent + increment
        else:
            if k >= n:
                raise _Bail
            first = lines[k]
            stripped = first.lstrip(" ")
            indent = len(first) - len(stripped)
            if not stripped or indent <= parent_indent:
                raise _Bail
        body: list[str | None] = []
        last_content = -1
        while k < n:
            line = lines[k]
            stripped = line.lstrip(" ")
            lead = len(line) - len(stripped)
            if lead >= indent and (stripped or lead > indent):
                body.append(line[indent:])
                last_content = len(body) - 1
            elif not stripped:
                body.append(None)  # an empty line: a line break
            else:
                break
            k += 1
        if last_content < 0:
            raise _Bail
        if last_content < len(body) - 1:
            self.check_comments_after_blank_lines(k)
        text = "\n".join("" if piece is None else piece for piece in body[: last_content + 1])
        if chomp != -1:
            last_line = i + 1 + last_content
            if last_line < n - 1 or self.final_newline:
                text += "\n"
                if chomp == 1:
                    trailing = len(body) - last_content - 1
                    if k == n and not self.final_newline:
                        trailing -= 1  # the last line has no break of its own
                    text += "\n" * trailing
        return text, k


# Bytes the fast path takes as they are: LF, printable ASCII and (checked
# below) UTF-8 sequences.  Tabs, CRs and other controls go the complete way.
_FAST_PLAIN_BYTES = bytes([10, *range(32, 127), *range(128, 256)])


def _fast_decode(data: bytes) -> str | None:
    if data[:3] == b"\xef\xbb\xbf" or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None
    if data.translate(None, _FAST_PLAIN_BYTES):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if (b"\xc2" in data or b"\xe2\x80" in data or b"\xef" in data) and pat("fast_bad").search(
        text
    ) is not None:
        return None  # C1 controls, NEL, LS, PS, BOM, non-characters
    return text


def fast_load_plain(data: bytes) -> list[Branch] | None:
    text = _fast_decode(data)
    if text is None:
        return None
    try:
        return _FastReader(text, False).run()
    except _Bail:
        return None


def fast_load_encrypted(data: bytes) -> tuple[list[Branch], dict[str, Any]] | None:
    text = _fast_decode(data)
    if text is None:
        return None
    reader = _FastReader(text, True)
    try:
        docs = reader.run()
    except _Bail:
        return None
    raw: Any = None
    found = False
    for key, value in docs[0]:
        if isinstance(key, str) and key == SOPS_KEY:
            raw, found = value, True
    if not found:
        raise MetadataNotFound()
    if not isinstance(raw, Branch):
        return None  # null or not a mapping: the complete path has the message
    metadata = _to_plain_data(raw)
    if not _fast_meta_ok(metadata, OUT_METADATA):
        return None
    return [erase_sops(doc) for doc in docs], metadata
