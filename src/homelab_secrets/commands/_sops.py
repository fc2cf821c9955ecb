"""Shared plumbing of the sops-compatible commands (decrypt, encrypt, edit,
set/unset, exec-env/exec-file, filestatus, updatekeys, rotate): where the
input comes from (a file or standard input), which stores its name chooses,
``.sops.yaml`` lookup, and writing output (atomically, or to standard output,
ending like sops when the reader goes away).  Imports stay light: this runs
on every start."""

from __future__ import annotations

import os
import sys

from homelab_secrets.errors import ExitCode, UserError

TYPE_CHECKING = False  # (start-up time: neither typing nor argparse on the fast path)
if TYPE_CHECKING:
    import argparse

    from homelab_secrets.sops.config import SopsConfig

FORMATS = ("yaml", "json", "dotenv", "ini", "binary")
#: How messages name standard input.
STDIN_NAME = "<stdin>"


# ---------------------------------------------------------------- options
class Option:
    """One flag of a command, declared once for argparse (``--help``, errors)
    and for :func:`parse_fast` (the common command lines, without argparse:
    importing it costs a third of what ``decrypt`` may take, next to sops)."""

    __slots__ = ("choices", "dest", "flags", "help", "kind", "metavar")

    def __init__(
        self,
        *flags: str,
        kind: str = "text",
        help: str,
        dest: str | None = None,
        choices: tuple[str, ...] | None = None,
        metavar: str | None = None,
    ) -> None:
        self.flags = flags
        self.kind = kind  #: "text", "int" or "switch"
        self.help = help
        self.dest = dest or flags[-1].lstrip("-").replace("-", "_")
        self.choices = choices
        self.metavar = metavar


def add_options(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    for o in options:
        if o.kind == "switch":
            parser.add_argument(*o.flags, dest=o.dest, action="store_true", help=o.help)
        elif o.kind == "int":
            parser.add_argument(*o.flags, dest=o.dest, type=int, metavar=o.metavar, help=o.help)
        else:
            parser.add_argument(
                *o.flags,
                dest=o.dest,
                choices=o.choices,
                metavar=None if o.choices else (o.metavar or "VALUE"),
                help=o.help,
            )


def parse_fast(
    argv: list[str], command: str, options: tuple[Option, ...], positional: str
) -> argparse.Namespace | None:
    """What argparse would make of ``argv`` (``[--debug] COMMAND ...``), for
    the command lines that need no judgement: known flags, ``--flag value``
    or ``--flag=value``, at most one positional.  ``None`` for anything else
    (``--help``, abbreviations, a bad value, ...): argparse then decides."""
    import types

    by_flag = {flag: o for o in options for flag in o.flags}
    values: dict[str, object] = {o.dest: (False if o.kind == "switch" else None) for o in options}
    values.update(debug=False, command=command, **{positional: None})
    i = 0
    while argv[i] != command:  # the global options before the command
        if argv[i] != "--debug":
            return None
        values["debug"] = True
        i += 1
    i += 1
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            if values[positional] is not None:
                return None
            values[positional] = arg
            continue
        name, eq, inline = arg.partition("=")
        o = by_flag.get(name)
        if o is None:
            return None
        if o.kind == "switch":
            if eq:
                return None
            values[o.dest] = True
            continue
        if not eq:
            if i == len(argv) or argv[i].startswith("-"):
                return None  # (argparse: a missing value, or a negative number)
            inline = argv[i]
            i += 1
        if o.choices is not None and inline not in o.choices:
            return None
        if o.kind == "int":
            if not inline.isdigit():
                return None
            values[o.dest] = int(inline)
        else:
            values[o.dest] = inline
    return types.SimpleNamespace(**values)  # type: ignore[return-value]


TYPE_OPTIONS = (
    Option(
        "--input-type",
        choices=FORMATS,
        help="format of the input (default: from the file's extension; unknown → binary)",
    ),
    Option(
        "--output-type",
        choices=FORMATS,
        help="format of the output (default: from the file's extension, like sops; "
        "not from --input-type)",
    ),
)
CONFIG_OPTION = Option(
    "--config",
    metavar="PATH",
    help="the .sops.yaml to use (default: looked up from the current directory upwards)",
)
OUTPUT_OPTIONS = (
    Option("--output", metavar="PATH", help="write to PATH (atomically), not stdout"),
    Option("-i", "--in-place", kind="switch", help="write the result back to FILE (atomically)"),
)


def filename_override(*, stdin_needs_it: bool) -> Option:
    return Option(
        "--filename-override",
        metavar="PATH",
        help="use this file name (not FILE's) to choose the formats and the .sops.yaml "
        + ("rule; required with standard input" if stdin_needs_it else "rule"),
    )


def add_type_options(parser: argparse.ArgumentParser) -> None:
    add_options(parser, TYPE_OPTIONS)


def add_config_option(parser: argparse.ArgumentParser) -> None:
    add_options(parser, (CONFIG_OPTION,))


def add_filename_override(parser: argparse.ArgumentParser, *, stdin_needs_it: bool) -> None:
    add_options(parser, (filename_override(stdin_needs_it=stdin_needs_it),))


# ---------------------------------------------------------------- input
class Source:
    """Where a command's input comes from, and the name that chooses its
    stores and ``.sops.yaml`` rule (sops' ``--filename-override``)."""

    __slots__ = ("name", "path")

    def __init__(self, path: str | None, name: str) -> None:
        self.path = path  #: None: standard input
        self.name = name  #: the path that chooses formats and the creation rule ("" for none)

    @property
    def label(self) -> str:
        """How messages name the input."""
        return self.path if self.path is not None else (self.name or STDIN_NAME)

    def read(self) -> bytes:
        if self.path is None:
            stream = sys.stdin
            if stream is None:
                return b""
            try:
                return stream.buffer.read()
            except OSError as exc:
                raise UserError(
                    f"Error reading from stdin: {exc.strerror}", ExitCode.COULD_NOT_READ_INPUT_FILE
                ) from None
        return read_input(self.path)


def source(args: argparse.Namespace, *, stdin_needs_override: bool) -> Source:
    """sops' checks for ``decrypt``/``encrypt`` in its order: no FILE means
    standard input (not with ``--in-place``; ``encrypt`` also needs
    ``--filename-override``); ``--in-place`` with ``--output`` is exit 8; a
    FILE that does not exist is exit 100."""
    path = args.file
    override = getattr(args, "filename_override", None) or ""
    in_place = getattr(args, "in_place", False)
    if path is None:
        if in_place:
            raise UserError(
                "cannot use --in-place when reading from stdin", ExitCode.CONFLICTING_PARAMETERS
            )
        if stdin_needs_override and not override:
            raise UserError(
                "must specify --filename-override when reading from stdin",
                ExitCode.CONFLICTING_PARAMETERS,
            )
    if in_place and getattr(args, "output", None):
        raise UserError(
            "cannot operate on both --output and --in-place", ExitCode.CONFLICTING_PARAMETERS
        )
    if path is not None:
        require_file(path)
    return Source(path, override or path or "")


def require_file(path: str) -> None:
    """sops' ``os.Stat`` check: exit 100 for a file that does not exist."""
    try:
        os.stat(path)
    except FileNotFoundError:
        raise UserError(
            f'cannot operate on non-existent file "{os.path.abspath(path)}"',
            ExitCode.NO_FILE_SPECIFIED,
        ) from None
    except OSError:
        pass  # reading it will say what is wrong


def read_input(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise UserError(
            f'cannot operate on non-existent file "{os.path.abspath(path)}"',
            ExitCode.NO_FILE_SPECIFIED,
        ) from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory", ExitCode.COULD_NOT_READ_INPUT_FILE) from None
    except OSError as exc:
        raise UserError(
            f"could not read {path}: {exc.strerror}", ExitCode.COULD_NOT_READ_INPUT_FILE
        ) from None


def formats(name: str, args: argparse.Namespace) -> tuple[str, str]:
    """sops' ``inputStore``/``outputStore``: ``--input-type`` and
    ``--output-type``, each defaulting to the format ``name``'s extension
    gives (so ``--input-type yaml`` alone on ``x.enc`` writes binary, as sops
    does)."""
    from homelab_secrets.sops.stores import format_for_path

    by_name = format_for_path(name)
    return (
        getattr(args, "input_type", None) or by_name,
        getattr(args, "output_type", None) or by_name,
    )


class ConfigLookup:
    """The ``.sops.yaml`` found (or given), and a warning about the lookup."""

    __slots__ = ("config", "warning")

    def __init__(self, config: SopsConfig | None, warning: str | None = None) -> None:
        self.config = config
        self.warning = warning


def load_sops_config(explicit: str | None) -> ConfigLookup:
    from homelab_secrets.sops.config import find_config, load_config

    if explicit:
        if not os.path.isfile(explicit):
            raise UserError(f"config file not found: {explicit}", ExitCode.CONFIG_FILE_NOT_FOUND)
        return ConfigLookup(load_config(explicit))
    path, warning = find_config()
    return ConfigLookup(load_config(path) if path else None, warning)


def warn(message: str) -> None:
    sys.stderr.write(f"homelab-secrets: warning: {message}\n")


# ---------------------------------------------------------------- output
def emit(data: bytes, *, output: str | None, in_place_path: str | None, private: bool) -> None:
    """Write ``data`` to stdout, ``--output`` or the input file (atomically).

    ``private``: plaintext (0600: tighter than sops, which keeps the mode of
    the file it overwrites; see README "SOPS compatibility"); otherwise
    encrypted output keeps the target's mode.  Like sops, a symbolic link is
    written through, and a file this process may not write is refused (exit 3).
    """
    target = in_place_path or output
    if target:
        from homelab_secrets.fsutil import write_atomic

        write_atomic(target, data, mode=0o600 if private else None, follow_symlinks=True)
        return
    write_stdout(data)


def write_stdout(data: bytes) -> None:
    """Write to standard output; when its reader is gone (``… | head -1``),
    end the way sops does: killed by SIGPIPE (exit status 141 in a shell),
    never exit 0 with the output cut short."""
    out = sys.stdout
    try:
        out.flush()
        buffer = getattr(out, "buffer", None)
        if buffer is None:  # a text-only stream (an embedding program's)
            out.write(data.decode("utf-8", "replace"))
            out.flush()
            return
        view = memoryview(data)
        while view:
            # (a reader gone mid-write makes one write short, the next fail)
            view = view[buffer.write(view) :]
        buffer.flush()
    except BrokenPipeError:
        die_of_sigpipe()


def die_of_sigpipe() -> None:  # pragma: no cover - kills the process (tested end to end)
    import signal

    # Nothing more may reach the closed pipe at exit (Python would complain).
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    raise SystemExit(128 + signal.SIGPIPE)  # only if the signal did not end us


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--output`` and ``--in-place`` (both at once is sops' exit 8, checked
    by :func:`source`)."""
    add_options(parser, OUTPUT_OPTIONS)
