"""Every env-shaped text we write reads back exactly, with real readers:
dotenv files with bash, POSIX sh (dash) and python-dotenv; shell ``export``
lines with bash and sh; ``$GITHUB_ENV`` records with the runner's parser.
Nothing is expanded, substituted or executed; a value no form can carry is
refused naming its key, never quoting the value."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from homelab_secrets import gha
from homelab_secrets.errors import UserError
from homelab_secrets.secrets.env import (
    check_name,
    dotenv_value,
    render_dotenv,
    render_shell,
)
from runner_files import parse_file_commands

SHELLS = [s for s in ("bash", "sh") if shutil.which(s)]

#: The characters the issue names, each in a value of its own (and all together).
NAMED = {
    "MULTI": "line one\nline two\n",
    "TRAILING_NL": "x\n",
    "BACKSLASH": "C:\\path\\to\\n",
    "BACKSLASH_END": "ends with \\",
    "DQUOTE": 'say "hi"',
    "SQUOTE": "it's",
    "DOLLAR": "pa$$word $HOME $1 $@ $? x$",
    "BACKTICK": "`touch pwned-backtick`",
    "SUBST": "$(touch pwned-subst)",
    "BANG": "hello!world !! !-1",
    "HASH": "a #not-a-comment",
    "SPACES": "  padded  ",
    "UNICODE": "pässwörd ✓ 密码",
    "GLOB": "* ? [a-z] ~",
    "SEMICOLON": "a; touch pwned-semi",
    "EMPTY": "",
    "EQUALS": "a=b==",
    "TAB": "a\tb",
}

#: Values no dotenv form can carry for both sh and python-dotenv.
UNREPRESENTABLE = {
    "CR": "crlf\r\nValue-9",
    "INTERPOLATION": "prefix${HOME}suffix",
    "QUOTE_AND_DOLLAR": "it's $5",
    "QUOTE_AND_BACKTICK": "it's `touch pwned-issue`",  # the value from the issue
    "BACKSLASH_AND_DOLLAR": "C:\\$x",
}


def read_with_shell(shell: str, path: Path, names: list[str], cwd: Path) -> dict[str, str]:
    """``set -a; . FILE`` in ``shell``, then print each variable NUL-separated."""
    if not names:
        return {}
    shown = " ".join(f'"${name}"' for name in names)  # names are identifiers
    script = f"set -a; . \"$1\"; printf '%s\\0' {shown}"
    proc = subprocess.run(
        [shell, "-c", script, shell, str(path)],
        capture_output=True,
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    values = proc.stdout.decode("utf-8").split("\0")[:-1]
    return dict(zip(names, values, strict=True))


def assert_reads_back(path: Path, pairs: dict[str, str], cwd: Path, *, dotenv: bool) -> None:
    before = set(os.listdir(cwd))
    for shell in SHELLS:
        assert read_with_shell(shell, path, list(pairs), cwd) == pairs, shell
    if dotenv:
        assert dotenv_values(path) == pairs
    assert set(os.listdir(cwd)) == before  # nothing was executed


# ---------------------------------------------------------------- named cases
def test_named_values_read_back_exactly_in_bash_sh_and_python_dotenv(tmp_path: Path) -> None:
    path = tmp_path / "f.env"
    path.write_bytes(render_dotenv(NAMED.items()))
    assert_reads_back(path, NAMED, tmp_path, dotenv=True)
    together = {  # one value each for the single- and the double-quoted form
        "NO_QUOTES": "".join(v for v in NAMED.values() if "'" not in v and "\\" not in v),
        "NO_DOLLARS": "".join(v for v in NAMED.values() if "$" not in v and "`" not in v),
    }
    path.write_bytes(render_dotenv(together.items()))
    assert dotenv_value("X", together["NO_QUOTES"]).startswith("'")
    assert dotenv_value("X", together["NO_DOLLARS"]).startswith('"')
    assert_reads_back(path, together, tmp_path, dotenv=True)


def test_named_values_read_back_exactly_as_shell_exports(tmp_path: Path) -> None:
    pairs = {**NAMED, **UNREPRESENTABLE}
    path = tmp_path / "f.sh"
    path.write_bytes(render_shell(pairs.items()))
    assert_reads_back(path, pairs, tmp_path, dotenv=False)


@pytest.mark.parametrize("name", sorted(UNREPRESENTABLE))
def test_a_value_no_dotenv_form_carries_is_refused_naming_the_key(name: str) -> None:
    value = UNREPRESENTABLE[name]
    with pytest.raises(UserError) as caught:
        render_dotenv([("OK", "fine"), (name, value)])
    assert caught.value.message.startswith(f"cannot write {name} to a dotenv file")
    assert value not in caught.value.message
    for part in value.split():
        assert len(part) < 4 or part not in caught.value.message


def test_the_forms_chosen() -> None:
    assert dotenv_value("A", "plain-value_1.2:3@x") == "plain-value_1.2:3@x"
    assert dotenv_value("A", "with space $x") == "'with space $x'"
    assert dotenv_value("A", "it's") == '"it\'s"'
    assert dotenv_value("A", 'back\\slash "q"') == '"back\\\\slash \\"q\\""'
    assert dotenv_value("A", "two\nlines") == "'two\nlines'"


@pytest.mark.parametrize(
    "name", ["1ABC", "MY-KEY", "A B", "x;touch y", "PATH", "LD_PRELOAD", "GITHUB_TOKEN", ""]
)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(UserError):
        check_name(name)
    with pytest.raises(UserError):
        render_dotenv([(name, "v")])
    with pytest.raises(UserError):
        render_shell([(name, "v")])


def test_nul_is_refused_everywhere() -> None:
    for render in (render_dotenv, render_shell):
        with pytest.raises(UserError, match="NUL"):
            render([("A", "a\0b")])


# ---------------------------------------------------------------- properties
values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40
) | st.sampled_from(list(NAMED.values()) + list(UNREPRESENTABLE.values()))


def _dotenv_or_refused(value: str) -> bool:
    try:
        dotenv_value("X", value)
    except UserError:
        return False
    return True


@given(st.lists(values, min_size=1, max_size=4))
@example(list(NAMED.values()))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_value_reads_back_exactly_or_is_refused(tmp_path: Path, items: list[str]) -> None:
    pairs = {f"K{i}": v for i, v in enumerate(items)}
    work = tmp_path / "w"
    work.mkdir(exist_ok=True)
    path = work / "f.env"
    writable = {k: v for k, v in pairs.items() if _dotenv_or_refused(v)}
    path.write_bytes(render_dotenv(writable.items()))
    assert_reads_back(path, writable, work, dotenv=True)
    path.write_bytes(render_shell(pairs.items()))
    assert_reads_back(path, pairs, work, dotenv=False)
    path.unlink()


@given(st.lists(values, min_size=1, max_size=4))
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_value_reads_back_exactly_from_github_env(
    runner_files: object, items: list[str]
) -> None:
    env_file = Path(os.environ["GITHUB_ENV"])
    env_file.write_bytes(b"")
    pairs = {f"K{i}": v for i, v in enumerate(items)}
    for name, value in pairs.items():
        gha.set_env(name, value, secret=False)
    assert parse_file_commands(env_file.read_bytes().decode("utf-8")) == pairs
