"""The one error type users see, and the one place that renders it.

Every failure a user can cause or fix (bad input, wrong key, tampered file, an
HTTP error from a provider) is raised as :class:`UserError` with a message that
says *what* went wrong, *where* (file, key path, HTTP status, secret name) and,
where it helps, how to fix it.  Messages never contain a secret value: callers
name things, they never quote them.

Exit codes are part of the contract (scripts written for sops keep working);
the table lives in README.md, "Exit codes".
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # (start-up time: this module loads on every run)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType
    from typing import TextIO


class ExitCode:
    """Exit codes. The SOPS ones are sops' own (`cmd/sops/codes/codes.go`), so
    scripts written for `sops` keep working when they call us instead.  Only
    codes some command can exit with are listed (a test checks each is used);
    sops' others arrive with the commands that need them."""

    OK = 0
    # --- sops ---
    ERROR_GENERIC = 1
    COULD_NOT_READ_INPUT_FILE = 2
    COULD_NOT_WRITE_OUTPUT_FILE = 3
    ERROR_DUMPING_TREE = 4
    #: ``set``/``unset``: a malformed index or a value that is not JSON
    INVALID_SET_FORMAT = 7
    #: e.g. more than one encryption rule on the command line, ``--in-place``
    #: with standard input
    CONFLICTING_PARAMETERS = 8
    ERROR_ENCRYPTING_TREE = 23  # also "Cannot walk value" / non-string keys
    ERROR_DECRYPTING_TREE = 25
    MAC_MISMATCH = 51
    CONFIG_FILE_NOT_FOUND = 61
    INVALID_TREE_PATH_FORMAT = 91
    NEED_AT_LEAST_ONE_DOCUMENT = 92
    NO_FILE_SPECIFIED = 100  # also "cannot operate on non-existent file"
    NO_ENCRYPTION_KEY_FOUND = 111
    COULD_NOT_RETRIEVE_KEY = 128
    #: ``edit``: the file was saved unchanged (nothing written)
    FILE_HAS_NOT_BEEN_MODIFIED = 200
    #: ``edit``: no editor could be run
    NO_EDITOR_FOUND = 201
    FILE_ALREADY_ENCRYPTED = 203
    # --- ours ---
    ERROR = 1  # alias of ERROR_GENERIC for non-sops commands
    USAGE = 2  # bad command line (argparse's own code)
    INTERNAL = 70  # a bug in homelab-secrets (EX_SOFTWARE); please report it
    INTERRUPTED = 130


class UserError(Exception):
    """A failure the user can understand and act on.

    ``message`` is one line (newlines are folded when rendered) and must never
    contain a secret value.
    """

    def __init__(
        self, message: str, exit_code: int = ExitCode.ERROR, *, path: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        #: the file the failure is about, when there is one (for annotations)
        self.path = path

    def __repr__(self) -> str:
        return f"UserError({self.message!r}, exit_code={self.exit_code})"


PROG = "homelab-secrets"


def one_line(message: str) -> str:
    """Fold a message to a single line (multi-line text would break log parsers)."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def render(exc: BaseException, *, debug: bool = False, stream: TextIO | None = None) -> int:
    """Print ``exc`` for a human and return the process exit code.

    * :class:`UserError`: its message, one line, on stderr.
    * :class:`KeyboardInterrupt`: "interrupted", exit 130.
    * anything else is a bug: its *type* and where it happened, never its
      message (third-party messages can quote input, e.g. a YAML parser
      echoing the offending line, which may hold a secret).

    With ``debug`` a traceback follows, made of code locations and exception
    type names only, for the same reason.
    """
    out = stream if stream is not None else sys.stderr
    if isinstance(exc, UserError):
        text, code = exc.message, exc.exit_code
    elif isinstance(exc, KeyboardInterrupt):
        text, code = "interrupted", ExitCode.INTERRUPTED
    else:
        where = ""
        import traceback

        tb = traceback.extract_tb(exc.__traceback__)
        if tb:
            last = tb[-1]
            where = f" at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
        text = (
            f"internal error ({type(exc).__name__}{where}); this is a bug in {PROG}, "
            "please report it (run with --debug for the code locations)"
        )
        code = ExitCode.INTERNAL
    if debug:
        out.write(safe_traceback(exc))
    out.write(f"{PROG}: error: {one_line(text)}\n")
    out.flush()
    return code


def safe_traceback(exc: BaseException) -> str:
    """A traceback without exception messages (only types and code locations).

    UserError messages are ours and secret-free, so they are kept.
    """
    import traceback

    lines = ["Traceback (debug; exception messages other than ours are omitted):\n"]
    seen: set[int] = set()
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for item in reversed(chain):
        lines.extend(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        label = type(item).__name__
        if isinstance(item, UserError):
            label += f": {one_line(item.message)}"
        lines.append(label + "\n")
    return "".join(lines)


class about:
    """Make a :class:`UserError` raised inside name the file it is about
    (message prefix, and ``path`` for annotations); ``hint`` may add advice
    for its exit code.  (A class, not ``contextlib.contextmanager``: contextlib
    costs start-up time.)"""

    __slots__ = ("hint", "path")

    def __init__(self, path: str, hint: Callable[[int], str] | None = None) -> None:
        self.path = path
        self.hint = hint

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, UserError):
            if self.path not in exc.message:
                exc.message = f"{self.path}: {exc.message}"
            if self.hint is not None:
                exc.message += self.hint(exc.exit_code)
            if exc.path is None:
                exc.path = self.path
