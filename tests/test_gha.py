"""gha.py: inputs, masks, outputs/env records, summary, annotations, groups.

Everything written is read back the way the runner reads it (runner_files),
with adversarial values: delimiter-looking lines, %, CR, JSON, emoji, 3-char
values.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
from importlib import metadata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import RunnerFiles
from homelab_secrets import gha
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.secrets.redact import fragments
from runner_files import masks, parse_commands, parse_file_commands

#: github-action-utils 2.x gets escaping and heredoc records right: an oracle for
#: ours. (1.1.0, the newest on Python 3.10, does not; gha.py's docstring says why.)
GAU2 = not metadata.version("github-action-utils").startswith("1.")

ADVERSARIAL = [
    "plain",
    "",
    "abc",  # 3 chars
    "100% sure %25 %0A %0D %3A",
    "line1\nline2\n",
    "crlf\r\nline\r\n",
    "lone\rcarriage",
    "ghadelimiter_0123456789abcdef0123456789abcdef\nafter",
    "EOF\nNAME<<EOF\nx\nEOF",
    "x=y\nINJECTED=1",
    '{"json": "va\\"lue", "n": [1, 2]}',
    "emoji 🔑 é ü 𝕏",
    "::add-mask::nope\n::error::forged",
    "  spaced  \n\n\ttabbed\t",
    "trailing newline\n",
    "\n\nleading newlines",
]


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize("value", ADVERSARIAL)
def test_escaped_command_data_round_trips(capsys: pytest.CaptureFixture[str], value: str) -> None:
    gha.error(value, title=value, at=gha.Location(f"dir,{value}:x.yml", line=3, col=7))
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "a command is exactly one line"
    (cmd,) = parse_commands(out)
    assert cmd.name == "error"
    assert cmd.data == value
    assert cmd.properties == {"title": value, "file": f"dir,{value}:x.yml", "line": "3", "col": "7"}


@pytest.mark.skipif(not GAU2, reason="github-action-utils 2.x (Python >= 3.11) is the oracle")
@given(st.text())
def test_escaping_matches_github_action_utils(value: str) -> None:
    from github_action_utils import _serialization

    assert gha.escape_data(value) == _serialization.escape_data(value)
    assert gha.escape_property(value) == _serialization.escape_property(value)


def test_group_title_is_escaped_and_group_closes_on_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def body() -> None:
        with gha.group("title\n::error::forged"):
            print("inside")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        body()
    out = capsys.readouterr().out
    assert out.splitlines() == ["::group::title%0A::error::forged", "inside", "::endgroup::"]


def test_annotation_file_is_workspace_relative(
    runner_files: RunnerFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    target = runner_files.output.parent / "env" / "prd.enc.yaml"
    gha.error("MAC mismatch", at=gha.Location(target, line=1), title="decrypt")
    gha.warning("outside", at=gha.Location("/elsewhere/x.yaml"))
    gha.notice("all at once", at=gha.Location("a", line=1, col=2, end_line=3, end_column=4))
    first, second, third = parse_commands(capsys.readouterr().out)
    assert first.properties == {"title": "decrypt", "file": "env/prd.enc.yaml", "line": "1"}
    assert second.name == "warning"
    assert second.properties == {"file": "/elsewhere/x.yaml"}
    assert third.name == "notice"
    assert third.properties == {
        "file": "a",
        "line": "1",
        "endLine": "3",
        "col": "2",
        "endColumn": "4",
    }


def test_annotate_failures_reports_user_errors_and_hides_other_messages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(UserError), gha.annotate_failures("doctor"):
        raise UserError("no key found for env/prd.enc.yaml")
    with pytest.raises(ValueError, match="hunter2"), gha.annotate_failures("doctor"):
        raise ValueError("parser echoed hunter2")
    user, internal = parse_commands(capsys.readouterr().out)
    assert (user.name, user.data, user.properties) == (
        "error",
        "no key found for env/prd.enc.yaml",
        {"title": "doctor"},
    )
    assert internal.data == "internal error (ValueError); see the step log"


# --------------------------------------------------------------------------- masking


def test_multi_line_value_is_masked_line_by_line(capsys: pytest.CaptureFixture[str]) -> None:
    pem = (
        "-----BEGIN KEY-----\nMIIBVwIBADANBgkqhkiG9w0BAQEFAASCAUEwggE9\n"
        "  indented line  \n-----END KEY-----\n"
    )
    gha.mask("tls-key", pem, forms=())
    masked = masks(capsys.readouterr().out)
    assert set(masked) == {
        "-----BEGIN KEY-----",
        "MIIBVwIBADANBgkqhkiG9w0BAQEFAASCAUEwggE9",
        "indented line",
        "-----END KEY-----",
    }
    assert all("\n" not in m and "\r" not in m for m in masked)


def test_mask_command_has_the_form_act_parses(capsys: pytest.CaptureFixture[str]) -> None:
    gha.mask("token", "abc%def\u2028x", forms=())
    # act's pattern is ^::([^ ]+)( (.+))?::(.*)$ : "::add-mask ::v" is printed, not parsed
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["::add-mask::abc%25def", "::add-mask::x"]


def test_masks_are_sent_longest_first_and_once(capsys: pytest.CaptureFixture[str]) -> None:
    gha.mask_all(
        [
            gha.Secret("short", "abcd", frozenset()),
            gha.Secret("long", "abcdefgh-LONGER", frozenset()),
            gha.Secret("middle", "abcdefgh", frozenset()),
        ]
    )
    gha.mask("again", "abcdefgh", forms=())  # already registered: nothing new
    assert masks(capsys.readouterr().out) == ["abcdefgh-LONGER", "abcdefgh", "abcd"]


def test_masks_precede_everything_else_and_warn_on_short_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    gha.mask_all([gha.Secret("pin", "q7Z"), gha.Secret("multi", "long-enough\nab")])
    cmds = parse_commands(capsys.readouterr().out)
    kinds = [c.name for c in cmds]
    assert kinds[-2:] == ["warning", "warning"]
    assert set(kinds[:-2]) == {"add-mask"}
    assert {"q7Z", "ab", "long-enough"} <= {c.data for c in cmds if c.name == "add-mask"}
    warnings = [c.data for c in cmds if c.name == "warning"]
    assert "'pin'" in warnings[0]
    assert "'multi'" in warnings[1]
    assert not any("q7Z" in w or "long-enough" in w for w in warnings)
    gha.mask("pin", "q7Z")  # already masked: no second warning
    assert parse_commands(capsys.readouterr().out) == []


@pytest.mark.parametrize("value", ADVERSARIAL)
def test_mask_commands_survive_escaping(capsys: pytest.CaptureFixture[str], value: str) -> None:
    gha.mask("adversarial", value, forms=("json", "base64"))
    out = capsys.readouterr().out
    cmds = parse_commands(out)
    masked = [c.data for c in cmds if c.name == "add-mask"]
    assert set(masked) == fragments(value, ("json", "base64"))
    assert len(out.splitlines()) == len(cmds), "every line written is one command"
    for line in value.splitlines():
        if line.strip():
            assert line.strip() in masked


def test_json_forms() -> None:
    frags = fragments('pa"ss\\word\nsecond 🔑', ("json",))
    assert json.dumps('pa"ss\\word\nsecond 🔑')[1:-1] in frags  # whole value, one line
    assert 'pa\\"ss\\\\word' in frags  # a line as it appears inside a JSON string
    assert "second \\ud83d\\udd11" in frags  # ASCII-escaped
    assert "second 🔑" in frags


def test_blank_values_are_not_masked() -> None:
    assert fragments("  \n\t\n", ("json", "base64")) == set()
    assert fragments("", ("json",)) == set()
    assert fragments("x1y2\n\t\n", ("json",)) == {"x1y2", "x1y2\\n\\t\\n"}


@given(
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=8, max_size=40),
    prefix=st.binary(max_size=10),
    suffix=st.binary(max_size=10),
)
def test_base64_forms_cover_any_embedding(secret: str, prefix: bytes, suffix: bytes) -> None:
    frags = fragments(secret, ("base64",))
    blob = prefix + secret.encode() + suffix
    for encoded in (base64.b64encode(blob).decode(), base64.urlsafe_b64encode(blob).decode()):
        assert any(f in encoded for f in frags), "some base64 fragment must appear"


def test_secret_repr_hides_value() -> None:
    s = gha.Secret("token", "hunter2-value")
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s)


# --------------------------------------------------------------------------- outputs and env


@pytest.mark.parametrize("value", ADVERSARIAL)
def test_outputs_round_trip(runner_files: RunnerFiles, value: str) -> None:
    gha.set_output("result", value, secret=False)
    gha.set_output("after", "still-here", secret=False)
    assert runner_files.outputs() == {"result": value, "after": "still-here"}


@pytest.mark.skipif(not GAU2, reason="github-action-utils 2.x (Python >= 3.11) is the oracle")
@pytest.mark.parametrize("value", ADVERSARIAL)
def test_env_records_parse_the_same_with_github_action_utils(
    runner_files: RunnerFiles, value: str
) -> None:
    import github_action_utils

    gha.set_env("SOME_VALUE", value, secret=False)
    assert github_action_utils.get_workflow_environment_variables() == {"SOME_VALUE": value}
    assert runner_files.exported_env() == {"SOME_VALUE": value}


def test_a_value_containing_the_delimiter_gets_another(
    runner_files: RunnerFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = iter(["a" * 32, "b" * 32])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(tokens))
    value = f"x\nghadelimiter_{'a' * 32}\nEVIL=1"
    gha.set_output("out", value, secret=False)
    raw = runner_files.output.read_text()
    assert raw.startswith(f"out<<ghadelimiter_{'b' * 32}\n")
    assert runner_files.outputs() == {"out": value}


def test_output_values_are_typed(runner_files: RunnerFiles) -> None:
    gha.set_output("flag", True, secret=False)
    gha.set_output("count", 3, secret=False)
    gha.set_output("names", ["A", "B"], secret=False)
    gha.set_output("map", {"k": "v"}, secret=False)
    assert runner_files.outputs() == {
        "flag": "true",
        "count": "3",
        "names": '["A", "B"]',
        "map": '{"k": "v"}',
    }


def test_secret_output_and_env_are_masked_before_they_are_written(
    runner_files: RunnerFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    gha.set_env("DB_PASSWORD", "s3cr3t\nline two", secret=True)
    gha.set_output("token", "tok-123456", secret=True)
    masked = set(masks(capsys.readouterr().out))
    assert {"s3cr3t", "line two", "s3cr3t\\nline two", "tok-123456"} <= masked
    assert runner_files.exported_env() == {"DB_PASSWORD": "s3cr3t\nline two"}


@pytest.mark.parametrize(
    "name",
    [
        "BASH_ENV",
        "LD_PRELOAD",
        "ld_preload",
        "NODE_OPTIONS",
        "PATH",
        "GITHUB_TOKEN",
        "RUNNER_TEMP",
        "INPUT_FILES",
        "GIT_SSH_COMMAND",
        "GIT_CONFIG_COUNT",
        "BASH_FUNC_x%%",
        "HOMELAB_SECRETS_PYTHON",
        "1ABC",
        "A-B",
        "A B",
        "A=B",
        "A\nB",
        "",
    ],
)
def test_dangerous_or_malformed_env_names_are_refused(runner_files: RunnerFiles, name: str) -> None:
    with pytest.raises(UserError) as err:
        gha.set_env(name, "the-value", secret=False)
    assert "the-value" not in err.value.message
    assert runner_files.env.read_text() == ""


def test_ordinary_env_names_are_accepted(runner_files: RunnerFiles) -> None:
    gha.set_env("DB_PASSWORD", "x1", secret=False)
    gha.set_env("GIT_TOKEN", "x2", secret=False)
    gha.set_env("_private", "x3", secret=False)
    assert runner_files.exported_env() == {"DB_PASSWORD": "x1", "GIT_TOKEN": "x2", "_private": "x3"}


@pytest.mark.parametrize("name", ["", "a<<b", "a=b", "x\ny", "-lead", "sp ace"])
def test_malformed_output_names_are_refused(runner_files: RunnerFiles, name: str) -> None:
    with pytest.raises(UserError):
        gha.set_output(name, "v", secret=False)
    assert runner_files.output.read_text() == ""


def test_nul_is_refused_without_quoting_the_value(runner_files: RunnerFiles) -> None:
    with pytest.raises(UserError) as err:
        gha.set_output("out", "hunter\0two", secret=False)
    assert "hunter" not in err.value.message
    assert runner_files.output.read_text() == ""


def test_outside_actions_outputs_fail_clearly() -> None:
    with pytest.raises(UserError, match=r"\$GITHUB_OUTPUT is not set") as err:
        gha.set_output("x", "y", secret=False)
    assert err.value.exit_code == ExitCode.USAGE


def test_parser_rejects_a_truncated_record() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        parse_file_commands("out<<EOF\nvalue\n")


# --------------------------------------------------------------------------- summary


def test_summary_appends_markdown_and_escapes_cells(runner_files: RunnerFiles) -> None:
    assert gha.append_summary("## doctor")
    table = gha.md_table(["name", "state"], [["a|b", "*bold* <x>"], ["multi\nline", "`code`"]])
    assert gha.append_summary(table)
    text = runner_files.summary_text()
    assert text.startswith("## doctor\n| name | state |\n")
    assert "a\\|b" in text
    assert "\\*bold\\* \\<x\\>" in text
    assert "multi line" in text
    assert "\\`code\\`" in text


def test_summary_outside_actions_is_skipped() -> None:
    assert gha.append_summary("x") is False


# --------------------------------------------------------------------------- inputs


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExampleInputs:
    files: tuple[str, ...] = gha.lines("files", required=True)
    age_key: str = gha.text("age-key", secret=True)
    in_place: bool = gha.boolean("in-place", default=False)
    output_dir: str = gha.text("output dir", default="out")
    fmt: str = gha.choice("format", ["none", "dotenv", "tfvars-json"], default="none")
    retries: int = gha.integer("retries", default=2, minimum=0, maximum=5)


def test_input_env_names_follow_the_runner() -> None:
    names = [s.env_name for s in gha.input_specs(ExampleInputs)]
    assert names == [
        "INPUT_FILES",
        "INPUT_AGE-KEY",
        "INPUT_IN-PLACE",
        "INPUT_OUTPUT_DIR",
        "INPUT_FORMAT",
        "INPUT_RETRIES",
    ]


def test_inputs_are_typed_with_defaults() -> None:
    got = gha.read_inputs(ExampleInputs, {"INPUT_FILES": "a.yaml, b.yaml"})
    assert got == ExampleInputs(files=("a.yaml", "b.yaml"))
    assert (got.age_key, got.in_place, got.output_dir, got.fmt, got.retries) == (
        "",
        False,
        "out",
        "none",
        2,
    )


def test_inputs_parse_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    env = {
        "INPUT_FILES": "env/a,b.yaml\n  env/*.enc.json  \n\n",
        "INPUT_AGE-KEY": "AGE-SECRET-KEY-1XYZ\n",
        "INPUT_IN-PLACE": "TRUE",
        "INPUT_OUTPUT_DIR": "  /tmp/out ",
        "INPUT_FORMAT": "dotenv",
        "INPUT_RETRIES": "5",
    }
    got = gha.read_inputs(ExampleInputs, env)
    assert got.files == ("env/a,b.yaml", "env/*.enc.json")  # newline list keeps commas
    assert got.age_key == "AGE-SECRET-KEY-1XYZ"
    assert got.in_place is True
    assert got.output_dir == "/tmp/out"
    assert got.fmt == "dotenv"
    assert got.retries == 5
    assert "AGE-SECRET-KEY-1XYZ" in masks(capsys.readouterr().out)


@pytest.mark.parametrize("spelling", ["true", "True", "TRUE", "false", "False", "FALSE"])
def test_yaml_core_booleans(spelling: str) -> None:
    got = gha.read_inputs(ExampleInputs, {"INPUT_FILES": "x", "INPUT_IN-PLACE": spelling})
    assert got.in_place is (spelling.lower() == "true")


@pytest.mark.parametrize("spelling", ["yes", "no", "on", "1", "0", "tRue", "y"])
def test_other_booleans_are_errors_naming_the_input(spelling: str) -> None:
    with pytest.raises(UserError) as err:
        gha.read_inputs(ExampleInputs, {"INPUT_FILES": "x", "INPUT_IN-PLACE": spelling})
    assert "input 'in-place' must be true or false" in err.value.message
    assert err.value.exit_code == ExitCode.USAGE


def test_all_problems_reported_at_once_and_secrets_masked_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "INPUT_AGE-KEY": "AGE-SECRET-KEY-1SECRETVALUE",
        "INPUT_IN-PLACE": "maybe",
        "INPUT_FORMAT": "xml",
        "INPUT_RETRIES": "9",
    }
    with pytest.raises(UserError) as err:
        gha.read_inputs(ExampleInputs, env)
    message = err.value.message
    assert "input 'files' is required" in message
    assert "'in-place' must be true or false" in message
    assert "'format' must be one of none, dotenv, tfvars-json" in message
    assert "'retries' must be >= 0 and <= 5, not 9" in message
    assert "SECRETVALUE" not in message
    assert "AGE-SECRET-KEY-1SECRETVALUE" in masks(capsys.readouterr().out)


def test_quoted_input_values_are_cut_short() -> None:
    with pytest.raises(UserError) as err:
        gha.read_inputs(ExampleInputs, {"INPUT_FILES": "x", "INPUT_RETRIES": "x" * 100})
    assert "x" * 41 not in err.value.message


def test_undeclared_fields_are_a_programming_error() -> None:
    @dataclasses.dataclass(frozen=True)
    class Bad:
        x: str = "a"

    with pytest.raises(TypeError, match="not declared"):
        gha.read_inputs(Bad, {})
    with pytest.raises(ValueError, match="not one of"):
        gha.choice("c", ["a"], default="b")


def test_env_name_for_input() -> None:
    assert gha.env_name_for_input("age-key") == "INPUT_AGE-KEY"
    assert gha.env_name_for_input("output dir") == "INPUT_OUTPUT_DIR"
