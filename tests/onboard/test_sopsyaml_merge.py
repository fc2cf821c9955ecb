""".sops.yaml merged by text edits: rules never reordered or dropped, every
other byte kept (comments, quoting, indentation, CRLF), idempotent; the
recipient swap of `rekey --new-age-key`; what the real sops reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from homelab_secrets.errors import UserError
from homelab_secrets.onboard import presets, sopsyaml
from homelab_secrets.onboard.init import sops_config
from homelab_secrets.rekey.rewrap import names, recipients
from homelab_secrets.sops.stores import format_for_path
from support.sops_oracle import AgeKeyPair, requires_sops, run_sops

CI = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
ME = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
ALL = presets.rules_for(presets.KINDS)
CONTENT = {
    ".yml": "a: b\n",
    ".json": '{"a": "b"}\n',
    ".md": "# hi\n",
    ".env": "A=b\n",
    ".tfvars": 'a = "b"\n',
}
TERRAFORM = presets.rules_for(["terraform"])

EXISTING = f"""\
# my sops config
creation_rules:
    # prod first
    - path_regex: prod/.*\\.yaml$
      age: >-
        age1aaa,
        age1bbb
    - path_regex: '\\.tfvars$'   # tfvars, mine
      key_groups:
        - age:
            - {ME}
    # everything else
    - age: {ME}  # me
stores:
    yaml:
        indent: 2
"""


def rules(text: str) -> list[dict[str, object]]:
    return yaml.safe_load(text)["creation_rules"]  # type: ignore[no-any-return]


def test_a_new_file_has_every_preset_in_order_with_comments() -> None:
    merged = sopsyaml.merge(None, ALL, CI)
    assert merged.changed
    assert merged.added == [r.path_regex for r in ALL]
    assert [r["path_regex"] for r in rules(merged.text)] == [r.path_regex for r in ALL]
    assert all(r["age"] == CI for r in rules(merged.text))
    for preset in ALL:
        assert f"# {preset.comment}\n" in merged.text


def test_merge_keeps_every_byte_of_the_existing_rules_and_their_comments() -> None:
    merged = sopsyaml.merge(EXISTING, ALL, CI)
    text = merged.text
    old_lines = EXISTING.splitlines(keepends=True)
    # everything above the catch-all's comment is unchanged but the new CI
    # recipient in the tfvars rule's key group
    head = "".join(old_lines[:11]) + f"            - {CI}\n"
    assert text.startswith(head)
    # the catch-all keeps its comment and comes last, then `stores` as it was
    assert text.endswith(
        "    # everything else\n    - age: "
        + ME
        + "  # me\nstores:\n    yaml:\n        indent: 2\n"
    )
    got = rules(text)
    assert got[0] == {"path_regex": "prod/.*\\.yaml$", "age": "age1aaa, age1bbb"}
    assert got[1]["key_groups"] == [{"age": [ME, CI]}]
    assert "path_regex" not in got[-1]
    added = [r["path_regex"] for r in got[2:-1]]
    # the tfvars preset is still added: `\.tfvars$` does not cover *.tfvars.json
    assert added == [r.path_regex for r in ALL]
    assert all(r["age"] == f"{CI},{ME}" for r in got[2:-1])  # the catch-all's recipient kept
    assert merged.extended == ["rule 1 (path_regex \\.tfvars$)"]


def test_merge_is_idempotent() -> None:
    once = sopsyaml.merge(EXISTING, ALL, CI).text
    twice = sopsyaml.merge(once, ALL, CI)
    assert not twice.changed
    assert twice.text == once


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (f"age: {ME}", f"age: {ME},{CI}"),
        (f"age: '{ME}'   # quoted", f"age: '{ME},{CI}'   # quoted"),
        (f'age: "{ME}"', f'age: "{ME},{CI}"'),
        (f"age: [{ME}]", f"age: [{ME}, {CI}]"),
    ],
)
def test_a_covering_rule_gets_the_ci_recipient_in_its_own_style(age: str, expected: str) -> None:
    text = f"creation_rules:\n- path_regex: \\.tfvars(\\.json)?$\n  {age}\n"
    merged = sopsyaml.merge(text, TERRAFORM, CI)
    assert merged.text == f"creation_rules:\n- path_regex: \\.tfvars(\\.json)?$\n  {expected}\n"
    assert merged.added == []


def test_a_block_scalar_recipient_list_becomes_a_manual_step() -> None:
    text = f"creation_rules:\n  - path_regex: \\.tfvars(\\.json)?$\n    age: >-\n      {ME}\n"
    merged = sopsyaml.merge(text, TERRAFORM, CI)
    assert not merged.changed
    assert merged.manual
    assert CI in merged.manual[0]
    assert "rule 0" in merged.manual[0]


def test_crlf_and_other_keys_survive() -> None:
    text = "stores:\r\n  yaml:\r\n    indent: 2\r\n"
    merged = sopsyaml.merge(text, TERRAFORM, CI)
    assert merged.text.startswith(text)
    assert yaml.safe_load(merged.text)["stores"] == {"yaml": {"indent": 2}}
    assert rules(merged.text)[0]["age"] == CI


def test_invalid_yaml_is_refused_with_its_line_only() -> None:
    with pytest.raises(UserError, match=r"\.sops\.yaml:3: not valid YAML") as info:
        sopsyaml.merge("creation_rules:\n  - a: 1\n   b: [secret-looking\n", TERRAFORM, CI)
    assert "secret-looking" not in info.value.message


def test_replace_recipient_swaps_every_place_and_nothing_else() -> None:
    swapped = sopsyaml.replace_recipient(EXISTING, ME, CI)
    assert swapped == EXISTING.replace(ME, CI)
    assert sopsyaml.replace_recipient(EXISTING, "age1absent", CI) == EXISTING


@requires_sops
def test_real_sops_picks_the_same_rules(tmp_path: Path) -> None:
    ci, me = AgeKeyPair.generate(), AgeKeyPair.generate()
    text = sopsyaml.merge(EXISTING.replace(ME, me.recipient), ALL, ci.recipient).text
    (tmp_path / ".sops.yaml").write_text(text)
    config = sops_config(tmp_path, text)
    home = tmp_path / "home"
    home.mkdir()
    cases = {
        "envs/prd.tfvars": [me.recipient, ci.recipient],  # the person's own rule, extended
        "terraform.tfvars.json": [ci.recipient, me.recipient],
        "group_vars/web/vault.yml": [ci.recipient, me.recipient],
        "host_vars/db1/main.yml": [ci.recipient, me.recipient],
        "app/prod.env": [ci.recipient, me.recipient],
        "README.md": [me.recipient],  # the catch-all
    }
    for rel, expected in cases.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CONTENT[Path(rel).suffix])
        made = run_sops(["encrypt", "-i", rel], cwd=tmp_path, home=home)
        assert made.returncode == 0, (rel, made.stderr)
        (theirs,) = recipients(path.read_bytes(), format_for_path(rel))
        rule = config.rule_for(str(path))
        assert rule is not None
        (ours,) = names(rule.key_groups)
        assert sorted(theirs) == sorted(ours) == sorted(expected), rel
