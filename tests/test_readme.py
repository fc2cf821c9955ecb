"""README.md stays true: the Quick start, the exit codes, the actions list."""

from __future__ import annotations

import re

from conftest import ROOT
from homelab_secrets.errors import ExitCode

README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}'"
    return match[1]


def test_starts_with_a_quick_start_of_exactly_two_commands() -> None:
    first = re.search(r"^## (.+)$", README, re.M)
    assert first is not None
    assert first[1] == "Quick start"
    block = re.search(r"```sh\n(.*?)```", _section("Quick start"), re.S)
    assert block is not None
    assert block[1].splitlines() == ["make demo", "make test"]


def test_exit_code_table_lists_every_code() -> None:
    documented = {int(c) for c in re.findall(r"^\| (\d+) \|", _section("Exit codes"), re.M)}
    codes = {v for k, v in vars(ExitCode).items() if k.isupper() and isinstance(v, int)}
    assert documented == codes


def test_actions_table_lists_every_action() -> None:
    listed = set(re.findall(r"\[`actions/([\w-]+)`\]", _section("Actions")))
    present = {p.parent.name for p in (ROOT / "actions").glob("*/action.yml")}
    assert listed == present


def test_every_exit_code_is_one_some_command_can_exit_with() -> None:
    """The table tells the truth about today: no code for a command that does
    not exist yet."""
    src = ROOT / "src" / "homelab_secrets"
    text = (
        "\n".join(p.read_text() for p in src.rglob("*.py") if p.name != "errors.py")
        + (src / "errors.py").read_text().split("class UserError", 1)[1]
    )
    for name, value in vars(ExitCode).items():
        if name.isupper() and isinstance(value, int) and name != "OK":
            assert re.search(rf"\bExitCode\.{name}\b", text), name
