"""What every module of the YAML loader shares: positions, the two kinds of
error, and the regular expressions (compiled on first use).

Follows yaml.v3's ``yamlh.go`` (``yaml_mark_t``: index, line and column, all
0-based) and the error plumbing of ``yaml.go`` / ``parserc.go`` (``failf``,
``yaml_parser_set_*_error``): an error is its Go text, ``yaml: line N: …``,
which sops prints after its own prefix.  Nothing here may quote file content
(it may be a secret): where yaml.v3 shows a scalar, we show ``<redacted>``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (start-up time: re is imported when a pattern is first needed)
if TYPE_CHECKING:
    import re

#: The top-level key of sops' metadata.
SOPS_KEY = "sops"
#: What messages show where yaml.v3 would quote a scalar.
REDACTED = "<redacted>"

Mark = tuple[int, int, int]  # (index, line, column), all 0-based, in characters
ZERO_MARK: Mark = (0, 0, 0)


class YamlFailure(Exception):
    """A yaml.v3 error; ``text`` is the Go error string (``yaml: …``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class StoreFailure(Exception):
    """An error raised by sops' store.go itself (not by yaml.v3)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


SCANNER_ERROR = 1
PARSER_ERROR = 2


def parse_failure(
    kind: int, context_mark: Mark | None, problem: str, problem_mark: Mark
) -> YamlFailure:
    """yaml.v3's ``parser.fail()``: prefer the context line; scanner lines are
    0-based and get +1, parser lines are printed as they are (a yaml.v3 quirk)."""
    line = 0
    if context_mark is not None and context_mark[1] != 0:
        line = context_mark[1] + (1 if kind == SCANNER_ERROR else 0)
    elif problem_mark[1] != 0:
        line = problem_mark[1] + (1 if kind == SCANNER_ERROR else 0)
    where = f"line {line}: " if line else ""
    return YamlFailure(f"yaml: {where}{problem or 'unknown problem parsing YAML content'}")


#: yaml.v3's escapes in double-quoted scalars (scannerc.go), for the scanner
#: and the fast path.
HEX = frozenset("0123456789ABCDEFabcdef")
SIMPLE_ESCAPES = {
    "0": "\0",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}

# Regular expressions are compiled on first use: importing this module must
# stay cheap (``decrypt`` races the Go binary on start-up).
_PATTERN_SOURCES = {
    # yaml.v3's reader: characters outside YAML's printable set.
    "control": "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]",
    "ascii_control": "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
    # scanner runs
    "plain_block": "(?:[^ \t\r\n\x85\u2028\u2029\0:]|:(?![ \t\r\n\x85\u2028\u2029\0]))+",
    "plain_flow": "(?:[^ \t\r\n\x85\u2028\u2029\0:,?\\[\\]{}]|:(?![ \t\r\n\x85\u2028\u2029\0]))+",
    "single_run": "[^' \t\r\n\x85\u2028\u2029\0]+",
    "double_run": '[^"\\\\ \t\r\n\x85\u2028\u2029\0]+',
    "line_end": "[\r\n\x85\u2028\u2029\0]",
    "non_blank": "[^ \t]",
    # fast path: what it leaves to the complete path (tabs, CR, other breaks,
    # BOMs, controls, surrogates)
    "fast_bad": "[\x80-\x9f\u2028\u2029\ufeff\ufffe\uffff]",
    # resolver
    "dot_float": r"\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?",
    "timestamp": (
        r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
        r"(?:(?:([Tt])| )([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})?)?"
    ),
}
_PATTERNS: dict[str, re.Pattern[str]] = {}


def pat(name: str) -> re.Pattern[str]:
    pattern = _PATTERNS.get(name)
    if pattern is None:
        import re

        pattern = _PATTERNS[name] = re.compile(_PATTERN_SOURCES[name])
    return pattern
