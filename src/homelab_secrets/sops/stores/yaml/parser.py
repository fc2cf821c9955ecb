"""Tokens → events: yaml.v3's parser state machine.

Follows ``parserc.go``: the states of ``yaml_parser_state_machine``, tag
directives, implicit documents, indentless sequences, and how comments
travel from tokens to events (head, line and foot comments, the "stem"
comment split of yaml.v3).
"""

from __future__ import annotations

from homelab_secrets.sops.stores.yaml.scanner import (
    PLAIN,
    T_ALIAS,
    T_ANCHOR,
    T_BLOCK_END,
    T_BLOCK_ENTRY,
    T_BLOCK_MAPPING_START,
    T_BLOCK_SEQUENCE_START,
    T_DOCUMENT_END,
    T_DOCUMENT_START,
    T_FLOW_ENTRY,
    T_FLOW_MAPPING_END,
    T_FLOW_MAPPING_START,
    T_FLOW_SEQUENCE_END,
    T_FLOW_SEQUENCE_START,
    T_KEY,
    T_SCALAR,
    T_STREAM_END,
    T_STREAM_START,
    T_TAG,
    T_TAG_DIRECTIVE,
    T_VALUE,
    T_VERSION_DIRECTIVE,
    Scanner,
    Token,
)
from homelab_secrets.sops.stores.yaml.yamlh import (
    PARSER_ERROR,
    ZERO_MARK,
    Mark,
    YamlFailure,
    parse_failure,
)

# Event types.
E_STREAM_START = 1
E_STREAM_END = 2
E_DOCUMENT_START = 3
E_DOCUMENT_END = 4
E_ALIAS = 5
E_SCALAR = 6
E_SEQUENCE_START = 7
E_SEQUENCE_END = 8
E_MAPPING_START = 9
E_MAPPING_END = 10

# Parser states.
_S_STREAM_START = 0
_S_IMPLICIT_DOCUMENT_START = 1
_S_DOCUMENT_START = 2
_S_DOCUMENT_CONTENT = 3
_S_DOCUMENT_END = 4
_S_BLOCK_NODE = 5
_S_BLOCK_NODE_OR_INDENTLESS_SEQUENCE = 6
_S_FLOW_NODE = 7
_S_BLOCK_SEQUENCE_FIRST_ENTRY = 8
_S_BLOCK_SEQUENCE_ENTRY = 9
_S_INDENTLESS_SEQUENCE_ENTRY = 10
_S_BLOCK_MAPPING_FIRST_KEY = 11
_S_BLOCK_MAPPING_KEY = 12
_S_BLOCK_MAPPING_VALUE = 13
_S_FLOW_SEQUENCE_FIRST_ENTRY = 14
_S_FLOW_SEQUENCE_ENTRY = 15
_S_FLOW_SEQUENCE_ENTRY_MAPPING_KEY = 16
_S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE = 17
_S_FLOW_SEQUENCE_ENTRY_MAPPING_END = 18
_S_FLOW_MAPPING_FIRST_KEY = 19
_S_FLOW_MAPPING_KEY = 20
_S_FLOW_MAPPING_VALUE = 21
_S_FLOW_MAPPING_EMPTY_VALUE = 22
_S_END = 23

FLOW_STYLE = 2  # sequence/mapping style: block = 1, flow = 2


class Event:
    __slots__ = (
        "anchor",
        "end",
        "foot",
        "head",
        "line",
        "start",
        "style",
        "tag",
        "typ",
        "value",
    )

    def __init__(self, typ: int, start: Mark, end: Mark) -> None:
        self.typ = typ
        self.start = start
        self.end = end
        self.anchor = ""
        self.tag = ""
        self.value = ""
        self.style = 0
        self.head = ""
        self.line = ""
        self.foot = ""


_DEFAULT_TAG_DIRECTIVES = (("!", "!"), ("!!", "tag:yaml.org,2002:"))


class Parser:
    """yaml.v3's parserc.go: tokens → events, with comments attached."""

    def __init__(self, text: str) -> None:
        self.scanner = Scanner(text)
        self.state = _S_STREAM_START
        self.states: list[int] = []
        self.marks: list[Mark] = []
        self.tag_directives: list[tuple[str, str]] = []
        self.head_comment = ""
        self.line_comment = ""
        self.foot_comment = ""
        self.stem_comment: str | None = None
        self.done = False

    def error(
        self, problem: str, problem_mark: Mark, context_mark: Mark | None = None
    ) -> YamlFailure:
        return parse_failure(PARSER_ERROR, context_mark, problem, problem_mark)

    # ------------------------------------------------------------ tokens
    def peek_token(self) -> Token:
        sc = self.scanner
        if not sc.token_available:
            sc.fetch_more_tokens()
        token = sc.tokens[sc.tokens_head]
        if sc.comments_head < len(sc.comments):
            self.unfold_comments(token)
        return token

    def unfold_comments(self, token: Token) -> None:
        sc = self.scanner
        comments = sc.comments
        while (
            sc.comments_head < len(comments)
            and token.start[0] >= comments[sc.comments_head].token_mark[0]
        ):
            comment = comments[sc.comments_head]
            if comment.head:
                if token.typ == T_BLOCK_END:
                    break  # no heads on ends: keep it for a later token
                self.head_comment = (
                    self.head_comment + "\n" + comment.head if self.head_comment else comment.head
                )
            if comment.foot:
                self.foot_comment = (
                    self.foot_comment + "\n" + comment.foot if self.foot_comment else comment.foot
                )
            if comment.line:
                self.line_comment = (
                    self.line_comment + "\n" + comment.line if self.line_comment else comment.line
                )
            comment.clear()
            sc.comments_head += 1

    def skip_token(self) -> None:
        sc = self.scanner
        sc.token_available = False
        sc.tokens_parsed += 1
        sc.stream_end_produced = sc.tokens[sc.tokens_head].typ == T_STREAM_END
        sc.tokens_head += 1
        if sc.tokens_head > 4096:  # drop consumed tokens now and then
            del sc.tokens[: sc.tokens_head]
            sc.tokens_head = 0

    def set_event_comments(self, event: Event) -> None:
        event.head = self.head_comment
        event.line = self.line_comment
        event.foot = self.foot_comment
        self.head_comment = self.line_comment = self.foot_comment = ""
        self.stem_comment = None

    # ------------------------------------------------------------ events
    def parse(self) -> Event | None:
        """The next event, or ``None`` once the stream has ended."""
        if self.scanner.stream_end_produced or self.state == _S_END:
            return None
        state = self.state
        if state == _S_BLOCK_MAPPING_KEY:
            return self.parse_block_mapping_key(False)
        if state == _S_BLOCK_MAPPING_VALUE:
            return self.parse_block_mapping_value()
        if state in (_S_BLOCK_NODE, _S_BLOCK_NODE_OR_INDENTLESS_SEQUENCE, _S_FLOW_NODE):
            return self.parse_node(
                state != _S_FLOW_NODE, state == _S_BLOCK_NODE_OR_INDENTLESS_SEQUENCE
            )
        if state == _S_BLOCK_SEQUENCE_ENTRY:
            return self.parse_block_sequence_entry(False)
        if state == _S_BLOCK_MAPPING_FIRST_KEY:
            return self.parse_block_mapping_key(True)
        if state == _S_BLOCK_SEQUENCE_FIRST_ENTRY:
            return self.parse_block_sequence_entry(True)
        if state == _S_INDENTLESS_SEQUENCE_ENTRY:
            return self.parse_indentless_sequence_entry()
        if state == _S_STREAM_START:
            return self.parse_stream_start()
        if state == _S_IMPLICIT_DOCUMENT_START:
            return self.parse_document_start(True)
        if state == _S_DOCUMENT_START:
            return self.parse_document_start(False)
        if state == _S_DOCUMENT_CONTENT:
            return self.parse_document_content()
        if state == _S_DOCUMENT_END:
            return self.parse_document_end()
        if state == _S_FLOW_SEQUENCE_FIRST_ENTRY:
            return self.parse_flow_sequence_entry(True)
        if state == _S_FLOW_SEQUENCE_ENTRY:
            return self.parse_flow_sequence_entry(False)
        if state == _S_FLOW_SEQUENCE_ENTRY_MAPPING_KEY:
            return self.parse_flow_sequence_entry_mapping_key()
        if state == _S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE:
            return self.parse_flow_sequence_entry_mapping_value()
        if state == _S_FLOW_SEQUENCE_ENTRY_MAPPING_END:
            return self.parse_flow_sequence_entry_mapping_end()
        if state == _S_FLOW_MAPPING_FIRST_KEY:
            return self.parse_flow_mapping_key(True)
        if state == _S_FLOW_MAPPING_KEY:
            return self.parse_flow_mapping_key(False)
        if state == _S_FLOW_MAPPING_VALUE:
            return self.parse_flow_mapping_value(False)
        return self.parse_flow_mapping_value(True)

    def pop_state(self) -> None:
        self.state = self.states.pop()

    def parse_stream_start(self) -> Event:
        token = self.peek_token()
        if token.typ != T_STREAM_START:
            raise self.error("did not find expected <stream-start>", token.start)
        self.state = _S_IMPLICIT_DOCUMENT_START
        event = Event(E_STREAM_START, token.start, token.end)
        self.skip_token()
        return event

    def parse_document_start(self, implicit: bool) -> Event:
        token = self.peek_token()
        if not implicit:
            while token.typ == T_DOCUMENT_END:
                self.skip_token()
                token = self.peek_token()
        if implicit and token.typ not in (
            T_VERSION_DIRECTIVE,
            T_TAG_DIRECTIVE,
            T_DOCUMENT_START,
            T_STREAM_END,
        ):
            self.process_directives()
            self.states.append(_S_DOCUMENT_END)
            self.state = _S_BLOCK_NODE
            head_comment = ""
            hc = self.head_comment
            if hc:
                # The part of the head comment before its last empty line
                # belongs to the document; the rest to what follows.
                for i in range(len(hc) - 1, 0, -1):
                    if hc[i] == "\n":
                        if i == len(hc) - 1:
                            head_comment = hc[:i]
                            self.head_comment = hc[i + 1 :]
                            break
                        if hc[i - 1] == "\n":
                            head_comment = hc[: i - 1]
                            self.head_comment = hc[i + 1 :]
                            break
            event = Event(E_DOCUMENT_START, token.start, token.end)
            event.head = head_comment
            return event
        if token.typ != T_STREAM_END:
            start = token.start
            self.process_directives()
            token = self.peek_token()
            if token.typ != T_DOCUMENT_START:
                raise self.error("did not find expected <document start>", token.start)
            self.states.append(_S_DOCUMENT_END)
            self.state = _S_DOCUMENT_CONTENT
            event = Event(E_DOCUMENT_START, start, token.end)
            self.skip_token()
            return event
        self.state = _S_END
        event = Event(E_STREAM_END, token.start, token.end)
        self.skip_token()
        return event

    def parse_document_content(self) -> Event:
        token = self.peek_token()
        if token.typ in (
            T_VERSION_DIRECTIVE,
            T_TAG_DIRECTIVE,
            T_DOCUMENT_START,
            T_DOCUMENT_END,
            T_STREAM_END,
        ):
            self.pop_state()
            return self.empty_scalar(token.start)
        return self.parse_node(True, False)

    def parse_document_end(self) -> Event:
        token = self.peek_token()
        start = token.start
        end = token.start
        if token.typ == T_DOCUMENT_END:
            end = token.end
            self.skip_token()
        self.tag_directives = []
        self.state = _S_DOCUMENT_START
        event = Event(E_DOCUMENT_END, start, end)
        self.set_event_comments(event)
        if event.head and not event.foot:
            event.foot = event.head
            event.head = ""
        return event

    def parse_node(self, block: bool, indentless_sequence: bool) -> Event:
        token = self.peek_token()
        if token.typ == T_ALIAS:
            self.pop_state()
            event = Event(E_ALIAS, token.start, token.end)
            event.anchor = token.value
            self.set_event_comments(event)
            self.skip_token()
            return event
        start = end = token.start
        tag_token = False
        tag_handle = tag_suffix = anchor = ""
        tag_mark = ZERO_MARK
        if token.typ == T_ANCHOR:
            anchor = token.value
            start = token.start
            end = token.end
            self.skip_token()
            token = self.peek_token()
            if token.typ == T_TAG:
                tag_token = True
                tag_handle = token.value
                tag_suffix = token.suffix
                tag_mark = token.start
                end = token.end
                self.skip_token()
                token = self.peek_token()
        elif token.typ == T_TAG:
            tag_token = True
            tag_handle = token.value
            tag_suffix = token.suffix
            start = tag_mark = token.start
            end = token.end
            self.skip_token()
            token = self.peek_token()
            if token.typ == T_ANCHOR:
                anchor = token.value
                end = token.end
                self.skip_token()
                token = self.peek_token()
        tag = ""
        if tag_token:
            if not tag_handle:
                tag = tag_suffix
            else:
                for handle, prefix in self.tag_directives:
                    if handle == tag_handle:
                        tag = prefix + tag_suffix
                        break
                if not tag:
                    raise self.error("found undefined tag handle", tag_mark, start)
        typ = token.typ
        if indentless_sequence and typ == T_BLOCK_ENTRY:
            self.state = _S_INDENTLESS_SEQUENCE_ENTRY
            event = Event(E_SEQUENCE_START, start, token.end)
            event.anchor = anchor
            event.tag = tag
            event.style = 1
            return event
        if typ == T_SCALAR:
            self.pop_state()
            event = Event(E_SCALAR, start, token.end)
            event.anchor = anchor
            event.tag = tag
            event.value = token.value
            event.style = token.style
            self.set_event_comments(event)
            self.skip_token()
            return event
        if typ in (T_FLOW_SEQUENCE_START, T_FLOW_MAPPING_START):
            seq = typ == T_FLOW_SEQUENCE_START
            self.state = _S_FLOW_SEQUENCE_FIRST_ENTRY if seq else _S_FLOW_MAPPING_FIRST_KEY
            event = Event(E_SEQUENCE_START if seq else E_MAPPING_START, start, token.end)
            event.anchor = anchor
            event.tag = tag
            event.style = FLOW_STYLE
            self.set_event_comments(event)
            return event
        if block and (typ in (T_BLOCK_SEQUENCE_START, T_BLOCK_MAPPING_START)):
            seq = typ == T_BLOCK_SEQUENCE_START
            self.state = _S_BLOCK_SEQUENCE_FIRST_ENTRY if seq else _S_BLOCK_MAPPING_FIRST_KEY
            event = Event(E_SEQUENCE_START if seq else E_MAPPING_START, start, token.end)
            event.anchor = anchor
            event.tag = tag
            event.style = 1
            if self.stem_comment is not None:
                event.head = self.stem_comment
                self.stem_comment = None
            return event
        if anchor or tag:
            self.pop_state()
            event = Event(E_SCALAR, start, end)
            event.anchor = anchor
            event.tag = tag
            event.style = PLAIN
            return event
        # (yaml.v3's context, "while parsing a block/flow node", is not printed)
        raise self.error("did not find expected node content", token.start, start)

    def split_stem_comment(self, stem_len: int) -> None:
        if stem_len == 0:
            return
        token = self.peek_token()
        if token.typ not in (T_BLOCK_SEQUENCE_START, T_BLOCK_MAPPING_START):
            return
        self.stem_comment = self.head_comment[:stem_len]
        if len(self.head_comment) == stem_len:
            self.head_comment = ""
        else:
            self.head_comment = self.head_comment[stem_len + 1 :]

    def parse_block_sequence_entry(self, first: bool) -> Event:
        if first:
            token = self.peek_token()
            self.marks.append(token.start)
            self.skip_token()
        token = self.peek_token()
        if token.typ == T_BLOCK_ENTRY:
            mark = token.end
            prior_head_len = len(self.head_comment)
            self.skip_token()
            self.split_stem_comment(prior_head_len)
            token = self.peek_token()
            if token.typ not in (T_BLOCK_ENTRY, T_BLOCK_END):
                self.states.append(_S_BLOCK_SEQUENCE_ENTRY)
                return self.parse_node(True, False)
            self.state = _S_BLOCK_SEQUENCE_ENTRY
            return self.empty_scalar(mark)
        if token.typ == T_BLOCK_END:
            self.pop_state()
            self.marks.pop()
            event = Event(E_SEQUENCE_END, token.start, token.end)
            self.skip_token()
            return event
        context_mark = self.marks.pop()
        raise self.error("did not find expected '-' indicator", token.start, context_mark)

    def parse_indentless_sequence_entry(self) -> Event:
        token = self.peek_token()
        if token.typ == T_BLOCK_ENTRY:
            mark = token.end
            prior_head_len = len(self.head_comment)
            self.skip_token()
            self.split_stem_comment(prior_head_len)
            token = self.peek_token()
            if token.typ not in (T_BLOCK_ENTRY, T_KEY, T_VALUE, T_BLOCK_END):
                self.states.append(_S_INDENTLESS_SEQUENCE_ENTRY)
                return self.parse_node(True, False)
            self.state = _S_INDENTLESS_SEQUENCE_ENTRY
            return self.empty_scalar(mark)
        self.pop_state()
        return Event(E_SEQUENCE_END, token.start, token.start)

    def parse_block_mapping_key(self, first: bool) -> Event:
        if first:
            token = self.peek_token()
            self.marks.append(token.start)
            self.skip_token()
        token = self.peek_token()
        if token.typ == T_KEY:
            mark = token.end
            self.skip_token()
            token = self.peek_token()
            if token.typ not in (T_KEY, T_VALUE, T_BLOCK_END):
                self.states.append(_S_BLOCK_MAPPING_VALUE)
                return self.parse_node(True, True)
            self.state = _S_BLOCK_MAPPING_VALUE
            return self.empty_scalar(mark)
        if token.typ == T_BLOCK_END:
            self.pop_state()
            self.marks.pop()
            event = Event(E_MAPPING_END, token.start, token.end)
            self.set_event_comments(event)
            self.skip_token()
            return event
        context_mark = self.marks.pop()
        raise self.error("did not find expected key", token.start, context_mark)

    def parse_block_mapping_value(self) -> Event:
        token = self.peek_token()
        if token.typ == T_VALUE:
            mark = token.end
            self.skip_token()
            token = self.peek_token()
            if token.typ not in (T_KEY, T_VALUE, T_BLOCK_END):
                self.states.append(_S_BLOCK_MAPPING_KEY)
                return self.parse_node(True, True)
            self.state = _S_BLOCK_MAPPING_KEY
            return self.empty_scalar(mark)
        self.state = _S_BLOCK_MAPPING_KEY
        return self.empty_scalar(token.start)

    def parse_flow_sequence_entry(self, first: bool) -> Event:
        if first:
            token = self.peek_token()
            self.marks.append(token.start)
            self.skip_token()
        token = self.peek_token()
        if token.typ != T_FLOW_SEQUENCE_END:
            if not first:
                if token.typ == T_FLOW_ENTRY:
                    self.skip_token()
                    token = self.peek_token()
                else:
                    context_mark = self.marks.pop()
                    raise self.error("did not find expected ',' or ']'", token.start, context_mark)
            if token.typ == T_KEY:
                self.state = _S_FLOW_SEQUENCE_ENTRY_MAPPING_KEY
                event = Event(E_MAPPING_START, token.start, token.end)
                event.style = FLOW_STYLE
                self.skip_token()
                return event
            if token.typ != T_FLOW_SEQUENCE_END:
                self.states.append(_S_FLOW_SEQUENCE_ENTRY)
                return self.parse_node(False, False)
        self.pop_state()
        self.marks.pop()
        event = Event(E_SEQUENCE_END, token.start, token.end)
        self.set_event_comments(event)
        self.skip_token()
        return event

    def parse_flow_sequence_entry_mapping_key(self) -> Event:
        token = self.peek_token()
        if token.typ not in (T_VALUE, T_FLOW_ENTRY, T_FLOW_SEQUENCE_END):
            self.states.append(_S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE)
            return self.parse_node(False, False)
        mark = token.end
        self.skip_token()
        self.state = _S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE
        return self.empty_scalar(mark)

    def parse_flow_sequence_entry_mapping_value(self) -> Event:
        token = self.peek_token()
        if token.typ == T_VALUE:
            self.skip_token()
            token = self.peek_token()
            if token.typ not in (T_FLOW_ENTRY, T_FLOW_SEQUENCE_END):
                self.states.append(_S_FLOW_SEQUENCE_ENTRY_MAPPING_END)
                return self.parse_node(False, False)
        self.state = _S_FLOW_SEQUENCE_ENTRY_MAPPING_END
        return self.empty_scalar(token.start)

    def parse_flow_sequence_entry_mapping_end(self) -> Event:
        token = self.peek_token()
        self.state = _S_FLOW_SEQUENCE_ENTRY
        return Event(E_MAPPING_END, token.start, token.start)

    def parse_flow_mapping_key(self, first: bool) -> Event:
        if first:
            token = self.peek_token()
            self.marks.append(token.start)
            self.skip_token()
        token = self.peek_token()
        if token.typ != T_FLOW_MAPPING_END:
            if not first:
                if token.typ == T_FLOW_ENTRY:
                    self.skip_token()
                    token = self.peek_token()
                else:
                    context_mark = self.marks.pop()
                    raise self.error("did not find expected ',' or '}'", token.start, context_mark)
            if token.typ == T_KEY:
                self.skip_token()
                token = self.peek_token()
                if token.typ not in (T_VALUE, T_FLOW_ENTRY, T_FLOW_MAPPING_END):
                    self.states.append(_S_FLOW_MAPPING_VALUE)
                    return self.parse_node(False, False)
                self.state = _S_FLOW_MAPPING_VALUE
                return self.empty_scalar(token.start)
            if token.typ != T_FLOW_MAPPING_END:
                self.states.append(_S_FLOW_MAPPING_EMPTY_VALUE)
                return self.parse_node(False, False)
        self.pop_state()
        self.marks.pop()
        event = Event(E_MAPPING_END, token.start, token.end)
        self.set_event_comments(event)
        self.skip_token()
        return event

    def parse_flow_mapping_value(self, empty: bool) -> Event:
        token = self.peek_token()
        if empty:
            self.state = _S_FLOW_MAPPING_KEY
            return self.empty_scalar(token.start)
        if token.typ == T_VALUE:
            self.skip_token()
            token = self.peek_token()
            if token.typ not in (T_FLOW_ENTRY, T_FLOW_MAPPING_END):
                self.states.append(_S_FLOW_MAPPING_KEY)
                return self.parse_node(False, False)
        self.state = _S_FLOW_MAPPING_KEY
        return self.empty_scalar(token.start)

    def empty_scalar(self, mark: Mark) -> Event:
        event = Event(E_SCALAR, mark, mark)
        event.style = PLAIN
        return event

    def process_directives(self) -> None:
        token = self.peek_token()
        version_seen = False
        while token.typ in (T_VERSION_DIRECTIVE, T_TAG_DIRECTIVE):
            if token.typ == T_VERSION_DIRECTIVE:
                if version_seen:
                    raise self.error("found duplicate %YAML directive", token.start)
                if token.value != (1, 1):
                    raise self.error("found incompatible YAML document", token.start)
                version_seen = True
            else:
                self.append_tag_directive(token.value, token.suffix, False, token.start)
            self.skip_token()
            token = self.peek_token()
        for handle, prefix in _DEFAULT_TAG_DIRECTIVES:
            self.append_tag_directive(handle, prefix, True, token.start)

    def append_tag_directive(
        self, handle: str, prefix: str, allow_duplicates: bool, mark: Mark
    ) -> None:
        for existing, _ in self.tag_directives:
            if existing == handle:
                if allow_duplicates:
                    return
                raise self.error("found duplicate %TAG directive", mark)
        self.tag_directives.append((handle, prefix))
