"""GitHub Actions, in one place: inputs, masks, outputs, env, summary, annotations.

This is the only module that knows it may be running inside a GitHub Actions
step.  An action's Python side is always the same shape::

    with gha.annotate_failures("decrypt"):         # a UserError becomes ::error too
        inputs = gha.read_inputs(DecryptInputs)    # typed; secret inputs masked first
        result = core(...)                         # pure: knows nothing of Actions
        gha.mask_all(...)                          # every value, before anything prints
        gha.set_output("paths", [...], secret=False)
        gha.append_summary(...)

The command module exposes its inputs dataclass as ``GHA_INPUTS``; a test
checks it against the action's action.yml.

Rules it enforces (see README.md, "Actions"):

* **Inputs** come from ``INPUT_<NAME>`` (the runner's spelling: upper-cased,
  spaces to ``_``, ``-`` kept; composite actions set these in ``env:``) into one
  frozen dataclass per action, declared once with :func:`text`,
  :func:`boolean`, :func:`lines`, :func:`choice` and :func:`integer`.
  Booleans accept only YAML 1.2 core ``true|True|TRUE|false|False|FALSE``.
  A bad input is a :class:`~homelab_secrets.errors.UserError` naming the input
  (never quoting a secret one).
* **Masking** happens before anything else prints: every line of a value
  (stripped), plus the JSON-escaped and base64 forms where the value is used
  in that form; longest first, so that a secret containing another is never
  half-masked by a runner that replaces masks in order (act does); all in one
  batch per call.  Fragments shorter than 4 characters are still masked, and a
  warning names the secret (never the value).
* **Outputs and env** go to ``$GITHUB_OUTPUT`` / ``$GITHUB_ENV`` as heredoc
  records with a random delimiter that is checked against the value, so no
  value can end its record early and forge another.  Env names that would let
  a value run code in later steps (``BASH_ENV``, ``LD_PRELOAD``,
  ``NODE_OPTIONS``, ``GITHUB_*``, ...) are refused.
* **Workflow commands** (``::add-mask::``, ``::error file=..::``, ``::group::``)
  are escaped per the runner's rules: data escapes ``%``, CR, LF; properties
  also ``:`` and ``,``.  So no message, title or path can end a command early or
  start a new one.

github-action-utils
-------------------
The wire format is written here, not by github-action-utils, which was checked
and falls short where it matters for secrets:

* every version writes ``::add-mask ::VALUE`` (a space before the second
  ``::``).  GitHub's runner accepts that, but act does not parse it: it prints
  the line, secret included, as plain output and masks nothing (measured with
  act 0.2.89).  Our e2e tests run under act, and so may our users;
* on Python 3.10 the newest release that installs is 1.1.0 (2.x needs Python
  >= 3.11), whose ``set_output``/``set_env`` use the fixed delimiter
  ``__ENV_DELIMITER__`` (a value containing that line forges records) and
  %-escape the value (multi-line values arrive mangled); whose
  ``error``/``warning``/``notice`` do not escape the message and whose
  ``start_group`` does not escape the title (a newline ends the command and
  the rest is read as a new line, which may itself be a workflow command); and
  whose ``append_job_summary`` rewrites ``%25``/``%0A`` in the Markdown.

So nothing here imports it.  The tests use github-action-utils 2.x (Python >=
3.11), which gets the escaping and the heredoc records right, as an oracle for
ours.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal, TypeVar, cast

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.secrets.model import Mask, MaskForm
from homelab_secrets.secrets.redact import fragments

T = TypeVar("T")


#: Fragments shorter than this are still masked, but a warning names the secret:
#: masking them hides every occurrence of those characters in the rest of the log.
SHORT_SECRET: Final = 4

#: The YAML 1.2 core schema booleans, which GitHub accepts for boolean inputs.
_TRUE: Final = frozenset({"true", "True", "TRUE"})
_FALSE: Final = frozenset({"false", "False", "FALSE"})

_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")

# --------------------------------------------------------------------------- wire format


def escape_data(text: str) -> str:
    """Escape the data part of a workflow command (after the second ``::``).

    ``%`` first, so that text that already looks escaped decodes to itself.
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=``, ``title=``): data rules plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _emit(line: str) -> None:
    """Write one line to stdout, where the runner reads workflow commands.

    As UTF-8 bytes when the stream has a buffer: the runner reads UTF-8, and a
    console whose encoding cannot hold a character must not crash us mid-way.
    """
    stream = sys.stdout
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write((line + "\n").encode("utf-8"))
        buffer.flush()
    else:
        stream.write(line + "\n")
        stream.flush()


def _command(name: str, message: str, **properties: str | int | None) -> None:
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None
    )
    _emit(f"::{name}{' ' + props if props else ''}::{escape_data(message)}")


def running_in_actions(environ: Mapping[str, str] | None = None) -> bool:
    """True inside a GitHub Actions (or act) step."""
    env = os.environ if environ is None else environ
    return env.get("GITHUB_ACTIONS") == "true"


# --------------------------------------------------------------------------- masking


#: A value to mask, with the name warnings use for it (see the class).
Secret = Mask


_masked: set[str] = set()


def mask_all(items: Iterable[Secret]) -> None:
    """Register every fragment of every secret with the runner, longest first.

    Call it once with everything a command knows, *before* printing anything
    else: masks apply only to log lines written after them.  Fragments already
    registered by this process are not sent again.
    """
    batch: dict[str, str] = {}  # new fragment -> name of (one) secret it came from
    for item in items:
        for frag in fragments(item.value, item.forms):
            if frag not in _masked:
                batch.setdefault(frag, item.name)
    for frag in sorted(batch, key=lambda f: (-len(f), f)):
        _register_mask(frag)
        _masked.add(frag)
    short = dict.fromkeys(name for frag, name in batch.items() if len(frag) < SHORT_SECRET)
    for name in short:
        warning(
            f"secret {name!r} is (or has a line) shorter than {SHORT_SECRET} characters: "
            "it is masked, but such a short mask also hides every other occurrence of those "
            "characters in this job's log, and the value is easy to guess",
            title="homelab-secrets: short secret",
        )


def mask(name: str, value: str, *, forms: Iterable[MaskForm] = ("json",)) -> None:
    """Mask one value (see :func:`mask_all`; prefer one batch for many values)."""
    mask_all([Secret(name, value, frozenset(forms))])


def _register_mask(fragment: str) -> None:
    # Exactly "::add-mask::" (no space before the second "::": act ignores that
    # form and prints the value); the fragment is escaped as command data.
    _command("add-mask", fragment)


def _reset_masks_for_tests() -> None:
    _masked.clear()


# --------------------------------------------------------------------------- inputs

_META_KEY: Final = "homelab_secrets.gha.input"


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """How one action input is read: the declaration behind each dataclass field."""

    name: str  #: as in action.yml, e.g. ``age-key``
    kind: Literal["text", "boolean", "lines", "choice", "integer"]
    required: bool = False
    secret: bool = False
    strip: bool = True
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    mask_forms: frozenset[MaskForm] = frozenset({"json"})

    @property
    def env_name(self) -> str:
        """The variable the runner (or our composite ``env:``) sets."""
        return env_name_for_input(self.name)


def env_name_for_input(name: str) -> str:
    """``age-key`` -> ``INPUT_AGE-KEY``: upper-cased, spaces to ``_``, ``-`` kept."""
    return "INPUT_" + name.replace(" ", "_").upper()


def _declare(spec: InputSpec, default: object = dataclasses.MISSING) -> Any:
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata={_META_KEY: spec})
    return dataclasses.field(default=default, metadata={_META_KEY: spec})


def text(
    name: str,
    *,
    required: bool = False,
    default: str = "",
    secret: bool = False,
    strip: bool = True,
    mask_forms: Iterable[MaskForm] = ("json",),
) -> str:
    """A string input; ``""`` when not given.  ``secret=True`` masks it on read."""
    spec = InputSpec(
        name,
        "text",
        required=required,
        secret=secret,
        strip=strip,
        mask_forms=frozenset(mask_forms),
    )
    return cast(str, _declare(spec) if required else _declare(spec, default))


def boolean(name: str, *, default: bool) -> bool:
    """``true``/``false`` (YAML 1.2 core spellings); empty means ``default``."""
    return cast(bool, _declare(InputSpec(name, "boolean"), default))


def lines(name: str, *, required: bool = False) -> tuple[str, ...]:
    """A list, one item per line, or comma-separated when it is one line.

    Items are stripped; empty items are dropped.  When the value has several
    lines, commas are kept inside items (paths and globs may contain them).
    """
    spec = InputSpec(name, "lines", required=required)
    return cast("tuple[str, ...]", _declare(spec) if required else _declare(spec, ()))


def choice(name: str, choices: Sequence[str], *, default: str) -> str:
    """One of ``choices`` (exact, case-sensitive); empty means ``default``."""
    if default not in choices:
        raise ValueError(f"default {default!r} of input {name!r} is not one of {choices!r}")
    return cast(str, _declare(InputSpec(name, "choice", choices=tuple(choices)), default))


def integer(
    name: str, *, default: int, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A decimal integer within ``[minimum, maximum]``; empty means ``default``."""
    spec = InputSpec(name, "integer", minimum=minimum, maximum=maximum)
    return cast(int, _declare(spec, default))


def input_specs(cls: type[Any]) -> tuple[InputSpec, ...]:
    """The declared inputs of an inputs dataclass, in field order."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    specs = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(_META_KEY)
        if not isinstance(spec, InputSpec):
            raise TypeError(f"{cls.__name__}.{f.name} is not declared with homelab_secrets.gha")
        specs.append(spec)
    return tuple(specs)


def _split_list(raw: str) -> tuple[str, ...]:
    parts = raw.splitlines() if ("\n" in raw or "\r" in raw) else raw.split(",")
    return tuple(item for item in (p.strip() for p in parts) if item)


def _describe(raw: str) -> str:
    """A non-secret value for an error message: short, on one line."""
    shown = raw if len(raw) <= 40 else raw[:37] + "..."
    return json.dumps(shown, ensure_ascii=False)


def _parse(spec: InputSpec, raw: str | None) -> tuple[object, str | None]:
    """(value, error) for one input; ``raw`` is None when the variable is unset."""
    value = "" if raw is None else raw
    if spec.strip or spec.kind != "text":
        value = value.strip()
    if not value:
        if spec.required:
            return None, f"input '{spec.name}' is required"
        return dataclasses.MISSING, None  # take the field's default
    if spec.kind == "text":
        return value, None
    if spec.kind == "lines":
        items = _split_list(value)
        if spec.required and not items:
            return None, f"input '{spec.name}' is required"
        return items, None
    # Non-secret kinds from here on: the value may be quoted in the message.
    if spec.kind == "boolean":
        if value in _TRUE:
            return True, None
        if value in _FALSE:
            return False, None
        return None, f"input '{spec.name}' must be true or false, not {_describe(value)}"
    if spec.kind == "choice":
        if value in spec.choices:
            return value, None
        return None, (
            f"input '{spec.name}' must be one of {', '.join(spec.choices)}, not {_describe(value)}"
        )
    if spec.kind == "integer":
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            return None, f"input '{spec.name}' must be a whole number, not {_describe(value)}"
        number = int(value)
        if (spec.minimum is not None and number < spec.minimum) or (
            spec.maximum is not None and number > spec.maximum
        ):
            low = "" if spec.minimum is None else f" >= {spec.minimum}"
            high = "" if spec.maximum is None else f" <= {spec.maximum}"
            sep = " and" if low and high else ""
            return None, f"input '{spec.name}' must be{low}{sep}{high}, not {number}"
        return number, None
    raise AssertionError(spec.kind)  # pragma: no cover


def read_inputs(cls: type[T], environ: Mapping[str, str] | None = None) -> T:
    """Read an action's inputs into ``cls``, masking its secret inputs first.

    All problems are reported at once, in one :class:`UserError` (exit code
    :data:`ExitCode.USAGE`) that names each input and never quotes a secret.
    """
    env = os.environ if environ is None else environ
    specs = input_specs(cls)
    raws = {spec.name: env.get(spec.env_name) for spec in specs}
    mask_all(
        Secret(spec.name, raws[spec.name] or "", spec.mask_forms)
        for spec in specs
        if spec.secret and raws[spec.name]
    )
    values: dict[str, object] = {}
    problems: list[str] = []
    for f, spec in zip(dataclasses.fields(cast(Any, cls)), specs, strict=True):
        value, problem = _parse(spec, raws[spec.name])
        if problem is not None:
            problems.append(problem)
        elif value is not dataclasses.MISSING:
            values[f.name] = value
    if problems:
        raise UserError("; ".join(problems), ExitCode.USAGE)
    return cast(Any, cls)(**values)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- outputs and env

OutputValue = str | int | bool | Sequence[Any] | Mapping[str, Any]


def output_text(value: OutputValue) -> str:
    """How a value is written as an output/env value.

    Booleans are ``true``/``false`` (what ``if:`` and ``fromJSON`` expect),
    lists and mappings JSON (read them with ``fromJSON(...)``).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, Mapping):
        return json.dumps(dict(value))
    return json.dumps(list(value))


def _delimiter(name: str, value: str) -> str:
    while True:
        candidate = f"ghadelimiter_{secrets.token_hex(16)}"
        if candidate not in value and candidate not in name:
            return candidate


def _append_record(file_var: str, name: str, value: str) -> None:
    path = os.environ.get(file_var)
    if not path:
        raise UserError(
            f"${file_var} is not set: --gha works only inside a GitHub Actions step",
            ExitCode.USAGE,
        )
    if "\0" in value:
        raise UserError(f"value of {name!r} contains a NUL byte, which {file_var} cannot hold")
    newline = os.linesep  # the runner's file-command parser splits on the platform's newline
    delimiter = _delimiter(name, value)
    record = f"{name}<<{delimiter}{newline}{value}{newline}{delimiter}{newline}"
    data = record.encode("utf-8")  # encode first: a bad value must not leave half a record
    with open(path, "ab") as handle:
        handle.write(data)


def set_output(name: str, value: OutputValue, *, secret: bool) -> None:
    """Append a step output (``steps.<id>.outputs.<name>``).

    ``secret=True`` masks it first.  A composite action publishes only the
    outputs its action.yml declares; never put several secret values into one
    structured output (substrings of it escape masking).
    """
    if not _OUTPUT_NAME.match(name):
        raise UserError(f"invalid output name {name!r}: use letters, digits, '_' and '-'")
    text_value = output_text(value)
    if secret:
        mask(name, text_value)
    _append_record("GITHUB_OUTPUT", name, text_value)


def check_env_name(name: str) -> None:
    """Raise :class:`UserError` unless ``name`` is safe to set for later steps
    (the rule lives in :func:`homelab_secrets.secrets.env.check_name`)."""
    from homelab_secrets.secrets.env import check_name

    check_name(name)


def set_env(name: str, value: str, *, secret: bool) -> None:
    """Export ``name=value`` to the job's later steps via ``$GITHUB_ENV``.

    ``secret=True`` masks the value (each line and its JSON form) first.
    """
    check_env_name(name)
    if secret:
        mask(name, value)
    _append_record("GITHUB_ENV", name, value)


# --------------------------------------------------------------------------- summary


def append_summary(markdown: str) -> bool:
    """Append Markdown to the step summary; returns False outside Actions.

    The summary is kept with the run and shown to anyone who can read it:
    names and paths only, never values.
    """
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    data = (markdown if markdown.endswith("\n") else markdown + "\n").encode("utf-8")
    with open(path, "ab") as handle:
        handle.write(data)
    return True


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(text_value: str) -> str:
    """Escape text for a Markdown table cell or line (no markup, no line breaks)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text_value.splitlines()))


def md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table; every cell is escaped."""
    out = ["| " + " | ".join(md_escape(h) for h in headers) + " |"]
    out.append("|" + "|".join(" --- " for _ in headers) + "|")
    out.extend("| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- annotations, groups


def workspace_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to ``$GITHUB_WORKSPACE`` when inside it (what annotations want)."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    resolved = Path(path)
    if workspace:
        try:
            return resolved.resolve().relative_to(Path(workspace).resolve()).as_posix()
        except ValueError:
            pass
    return resolved.as_posix()


@dataclasses.dataclass(frozen=True)
class Location:
    """Where an annotation points: a file (made workspace-relative), and
    optionally a line/column range in it."""

    file: str | os.PathLike[str]
    line: int | None = None
    col: int | None = None
    end_line: int | None = None
    end_column: int | None = None


def _annotation(kind: str, message: str, title: str | None, at: Location | None) -> None:
    where: dict[str, str | int | None] = {}
    if at is not None:
        where = {
            "file": workspace_path(at.file),
            "line": at.line,
            "endLine": at.end_line,
            "col": at.col,
            "endColumn": at.end_column,
        }
    _command(kind, message, title=title, **where)


def error(message: str, *, title: str | None = None, at: Location | None = None) -> None:
    """An error annotation, shown on the run (and, ``at`` a file, on that file)."""
    _annotation("error", message, title, at)


def warning(message: str, *, title: str | None = None, at: Location | None = None) -> None:
    """A warning annotation."""
    _annotation("warning", message, title, at)


def notice(message: str, *, title: str | None = None, at: Location | None = None) -> None:
    """A notice annotation."""
    _annotation("notice", message, title, at)


@contextmanager
def group(title: str) -> Iterator[None]:
    """A collapsible log group; closed even when the body raises."""
    _command("group", title)
    try:
        yield
    finally:
        _emit("::endgroup::")


@contextmanager
def annotate_failures(title: str) -> Iterator[None]:
    """Turn a failure inside the block into an ``::error`` annotation, then re-raise.

    :class:`UserError` messages are shown as they are (they are written never to
    hold a value); any other exception only by its type, like
    :func:`homelab_secrets.errors.render`, which still prints the one stderr line.
    """
    try:
        yield
    except UserError as exc:
        error(exc.message, title=title, at=Location(exc.path) if exc.path else None)
        raise
    except Exception as exc:
        error(f"internal error ({type(exc).__name__}); see the step log", title=title)
        raise
