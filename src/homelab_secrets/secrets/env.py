"""Environment variables: which names are safe, and the text forms of pairs.

Every place that writes env-shaped text goes through here:

* :func:`render_dotenv`: a dotenv file that is safe to **source** in bash and
  POSIX sh (``set -a; . FILE``) *and* that python-dotenv (``dotenv_values``,
  defaults) reads back to the exact same values.  Each value takes the first
  form both readers agree on:

  - bare, when it has only ``A-Z a-z 0-9 _ . / : @ + , = -``;
  - ``'single quoted'``, when it has no ``'`` and no ``\\`` (inside single
    quotes sh expands nothing, and python-dotenv decodes only ``\\\\`` and
    ``\\'``);
  - ``"double quoted"`` with ``\\`` and ``"`` escaped, when it has no ``$``
    and no backquote (the only characters sh still expands there);

  multi-line values are written across lines inside the quotes (both readers
  keep the newlines).  A value no form serves for both readers is refused,
  naming the key (never the value): one with a carriage return (python-dotenv
  reads files with universal newlines, so a CR turns into LF), one with
  ``${...}`` (python-dotenv interpolates it, even in single quotes), one that
  has a ``'`` or ``\\`` *and* a ``$`` or backquote, or a NUL (no environment
  can hold it).
* :func:`render_shell`: ``export NAME='...'`` lines for sh/bash only (``eval``
  or ``.``), which can hold every value but NUL (``'`` is written ``'\\''``).

Names must be shell identifiers; :func:`check_name` also refuses names that
would change how later commands run (``PATH``, ``BASH_ENV``, ``LD_*``,
``GITHUB_*``, ...).  Names may be shown in messages; values never.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from homelab_secrets.errors import UserError

NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

#: Names a job must not set for later commands: each lets a value change what
#: later commands execute (shell start-up files, the dynamic loader,
#: interpreters' option variables, git's hooks into ssh/askpass/config), or
#: overrides the runner's own variables.  Compared upper-cased.
RESERVED_NAMES: Final = frozenset(
    {
        "PATH",  # in Actions, use $GITHUB_PATH
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "PROMPT_COMMAND",
        "IFS",
        "NODE_OPTIONS",
        "NODE_PATH",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONINSPECT",
        "PYTHONWARNINGS",
        "PERL5OPT",
        "PERL5LIB",
        "PERLLIB",
        "RUBYOPT",
        "RUBYLIB",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "GIT_EXEC_PATH",
        "GIT_PROXY_COMMAND",
        "GIT_EXTERNAL_DIFF",
        "GIT_EDITOR",
        "GIT_PAGER",
        "GIT_TEMPLATE_DIR",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GCONV_PATH",
        "HOSTALIASES",
        "HOME",
        "CI",
    }
)
RESERVED_PREFIXES: Final = (
    "GITHUB_",
    "RUNNER_",
    "ACTIONS_",
    "INPUT_",
    "STATE_",
    "LD_",
    "DYLD_",
    "BASH_FUNC_",
    "GIT_CONFIG",
    "HOMELAB_SECRETS_",
)

_BARE: Final = re.compile(r"[A-Za-z0-9_./:@+,=-]*\Z")
#: what python-dotenv's interpolation replaces (``${NAME}``, ``${NAME:-default}``)
_DOTENV_INTERPOLATION: Final = re.compile(r"\$\{[^}:]*(?::-[^}]*)?\}")


def check_name(name: str) -> None:
    """Raise :class:`UserError` unless ``name`` is a shell identifier that is
    safe to set for later commands."""
    if not NAME.match(name):
        raise UserError(
            f"invalid environment variable name {name!r}: use letters, digits and '_', "
            "not starting with a digit"
        )
    upper = name.upper()
    if upper in RESERVED_NAMES or upper.startswith(RESERVED_PREFIXES):
        raise UserError(
            f"refusing to set environment variable {name}: it would change how later steps "
            "run, or override the runner's own variables; choose another name (or a prefix)"
        )


def _check_value(name: str, value: str) -> None:
    if "\0" in value:
        raise UserError(f"the value of {name} contains a NUL byte, which no environment holds")


def dotenv_value(name: str, value: str) -> str:
    """The right-hand side of ``name=`` in a dotenv file (see the module
    docstring); :class:`UserError` naming ``name`` when no form serves both
    sh and python-dotenv."""
    _check_value(name, value)
    if _BARE.match(value):
        return value
    why = ""
    if "\r" in value:
        why = "a carriage return (python-dotenv reads it as a line feed)"
    elif _DOTENV_INTERPOLATION.search(value):
        why = "'${...}' (python-dotenv would replace it with another variable)"
    elif "'" not in value and "\\" not in value:
        return f"'{value}'"
    elif "$" not in value and "`" not in value:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        why = (
            "both a quote or backslash and a '$' or backquote (no quoting reads the same "
            "in sh and python-dotenv)"
        )
    raise UserError(
        f"cannot write {name} to a dotenv file: its value has {why}; export it another "
        "way (a tfvars-json or ansible-vars file, GITHUB_ENV, or `homelab-secrets run --`)"
    )


def render_dotenv(pairs: Iterable[tuple[str, str]]) -> bytes:
    """A dotenv file of ``pairs`` (UTF-8, one ``NAME=value`` per pair)."""
    lines = []
    for name, value in pairs:
        check_name(name)
        lines.append(f"{name}={dotenv_value(name, value)}\n")
    return "".join(lines).encode("utf-8")


def shell_value(name: str, value: str) -> str:
    """``value`` single-quoted for sh (``'`` as ``'\\''``): any value but NUL."""
    _check_value(name, value)
    if value and _BARE.match(value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def render_shell(pairs: Iterable[tuple[str, str]]) -> bytes:
    """``export NAME=value`` lines for sh/bash (``eval "$(...)"`` or ``. FILE``)."""
    lines = []
    for name, value in pairs:
        check_name(name)
        lines.append(f"export {name}={shell_value(name, value)}\n")
    return "".join(lines).encode("utf-8")
