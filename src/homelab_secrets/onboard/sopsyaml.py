""".sops.yaml written, or merged into, by editing its text where ruamel.yaml
says the rules are.

A merge never reorders or drops a rule, and everything else in the file
(comments, quoting, indentation, other keys) stays byte for byte: ruamel.yaml
parses the file with line and column marks, the new rules and recipients are
inserted as text at those places, and the result is parsed again and
compared, as data, with what the change should give.  Anything that does not
compare equal is not written; the person gets a manual step instead.

Merging the presets (:func:`merge`):

* a preset whose sample paths the file's rules already send to rules with a
  ``path_regex`` is not added; each such rule gets the CI recipient when it
  lacks it (a rule without an ``age`` list, a block scalar, a multi-line flow
  list: manual step);
* the others are inserted before the first catch-all rule (no
  ``path_regex``: sops would stop there) together with the comments just
  above it, else after the last rule; an inserted rule lists the CI
  recipient and the catch-all's own age recipients (nobody loses access).

:func:`replace_recipient` swaps one recipient for another everywhere
(``rekey --new-age-key``), checked the same way.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.onboard import yamledit
from homelab_secrets.onboard.presets import PresetRule

NAME = ".sops.yaml"
HEADER = (
    "# .sops.yaml: which files SOPS encrypts, and for whom (written by `homelab-secrets init`).\n"
    "# sops and homelab-secrets use the FIRST rule whose path_regex matches a file's path\n"
    "# (relative to this folder); `homelab-secrets scan` refuses any file a rule with a\n"
    "# path_regex covers unless it is encrypted.\n"
)


@dataclass
class Merge:
    """The new text and what changed, names only."""

    original: str
    text: str
    added: list[str] = field(default_factory=list)  #: path_regex of each rule added
    extended: list[str] = field(default_factory=list)  #: rules that got the CI recipient
    manual: list[str] = field(default_factory=list)  #: what the person must do by hand

    @property
    def changed(self) -> bool:
        return self.text != self.original


# ------------------------------------------------------------------ reading
def _recipients(rule: Any) -> list[str]:
    """The age recipients of a plain rule (flat ``age`` or every key group's)."""
    out: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str):
            out.extend(r.strip() for r in value.split(",") if r.strip())
        elif isinstance(value, list):
            for item in value:
                add(item)

    groups = rule.get("key_groups") if isinstance(rule, dict) else None
    if groups:
        for group in groups if isinstance(groups, list) else []:
            if isinstance(group, dict):
                add(group.get("age"))
    elif isinstance(rule, dict):
        add(rule.get("age"))
    return out


def _first_match(rules: list[Any], path: str) -> int | None:
    """Index of the rule sops would use for ``path`` (None: none matches)."""
    for index, rule in enumerate(rules):
        regex = rule.get("path_regex") if isinstance(rule, dict) else None
        if not regex:
            return index
        try:
            if re.search(str(regex), path):
                return index
        except re.error:
            continue
    return None


# ------------------------------------------------------------------ merging
def rule_text(rule: dict[str, Any], dash: int, comment: str, newline: str) -> str:
    pad = " " * dash
    recipients = ",".join(rule["age"]) if isinstance(rule["age"], list) else rule["age"]
    return (
        f"{pad}# {comment}{newline}"
        f"{pad}- path_regex: '{rule['path_regex']}'{newline}"
        f"{pad}  age: {recipients}{newline}"
    )


def new_file(presets: Sequence[PresetRule], recipient: str) -> str:
    body = "".join(
        rule_text({"path_regex": p.path_regex, "age": recipient}, 2, p.comment, "\n")
        for p in presets
    )
    return f"{HEADER}creation_rules:\n{body}"


def merge(original: str | None, presets: Sequence[PresetRule], recipient: str) -> Merge:
    """``original`` (None: no file) with the presets merged in (module docstring)."""
    if original is None:
        text = new_file(presets, recipient)
        _check(text, None, [], "", [(0, p, [recipient]) for p in presets])
        return Merge("", text, added=[p.path_regex for p in presets])
    doc = yamledit.load(original, NAME) if original.strip() else None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise UserError(f"{NAME}: is not a mapping; fix it first", ExitCode.USAGE)
    rules: Any = doc.get("creation_rules")
    result = Merge(original, original)
    if rules is not None and not isinstance(rules, list):
        raise UserError(f"{NAME}: creation_rules must be a list of rules", ExitCode.USAGE)
    plain_rules = yamledit.plain(rules) if rules else []
    extend: list[int] = []
    insert: list[PresetRule] = []
    catch_all = next(
        (i for i, r in enumerate(plain_rules) if not (isinstance(r, dict) and r.get("path_regex"))),
        None,
    )
    for preset in presets:
        firsts = [_first_match(plain_rules, sample) for sample in preset.samples]
        covered = [i for i in firsts if i is not None and i != catch_all]
        for index in covered:
            if recipient not in _recipients(plain_rules[index]) and index not in extend:
                extend.append(index)
        if len(covered) < len(firsts):
            insert.append(preset)
    if not extend and not insert:
        return result
    inherited: list[str] = []
    if catch_all is not None and not plain_rules[catch_all].get("key_groups"):
        inherited = _recipients(plain_rules[catch_all])
    recipients = [recipient, *(r for r in inherited if r != recipient)]
    lines = original.splitlines(keepends=True)
    newline = yamledit.newline_of(lines)
    edits = yamledit.Edits(lines)
    done: list[int] = []
    for index in extend:
        if _add_recipient(edits, yamledit.marked(rules)[index], recipient):
            done.append(index)
            result.extended.append(f"rule {index} ({_describe(plain_rules[index])})")
        else:
            result.manual.append(
                f"add the CI key {recipient} to {NAME} rule {index} "
                f"({_describe(plain_rules[index])}), then run `homelab-secrets rekey`"
            )
    inserted: list[tuple[int, PresetRule, list[str]]] = []
    if insert:
        at, dash = _insertion_point(lines, doc, rules, catch_all)
        block = "".join(
            rule_text({"path_regex": p.path_regex, "age": recipients}, dash, p.comment, newline)
            for p in insert
        )
        if not rules and "creation_rules" not in doc:
            block = f"creation_rules:{newline}{block}"
            if lines and not lines[-1].endswith(("\n", "\r")):
                edits.replace(len(lines) - 1, lines[-1] + newline)
        edits.insert(at, block)
        position = catch_all if catch_all is not None else len(plain_rules)
        inserted = [(position, p, recipients) for p in insert]
        result.added = [p.path_regex for p in insert]
    result.text = edits.apply()
    _check(result.text, yamledit.plain(doc), done, recipient, inserted)
    return result


def _describe(rule: Any) -> str:
    regex = rule.get("path_regex") if isinstance(rule, dict) else None
    return f"path_regex {regex}" if regex else "the catch-all rule"


def _insertion_point(
    lines: list[str], doc: Any, rules: Any, catch_all: int | None
) -> tuple[int, int]:
    """(line index to insert before, column of the rules' dashes)."""
    if not rules:  # no list yet: after `creation_rules:`, or at the end
        if "creation_rules" in doc:
            line, col = yamledit.marked(doc).lc.key("creation_rules")
            return line + 1, col + 2
        return len(lines), 2
    dash = yamledit.dash_column(lines, rules)
    if catch_all is not None:
        at = yamledit.marked(rules).lc.item(catch_all)[0]
        while at > 0 and lines[at - 1].strip().startswith("#"):
            at -= 1  # the comments just above the catch-all are its own
        return at, dash
    return yamledit.end_of_value(lines, doc, "creation_rules"), dash


def _add_recipient(edits: yamledit.Edits, rule: Any, recipient: str) -> bool:
    """Add ``recipient`` to ``rule``'s age list (the first key group's) as a
    text edit; False for a form this does not edit."""
    lines = edits.lines
    holder = rule
    groups = rule.get("key_groups")
    if groups:
        holder = groups[0] if isinstance(groups, list) and isinstance(groups[0], dict) else None
    if holder is None or "age" not in holder:
        return False
    node: Any = holder["age"]
    line, col = yamledit.marked(holder).lc.value("age")
    text = lines[line]
    if isinstance(node, list):
        seq = yamledit.marked(node)
        if seq.fa.flow_style():
            close = text.find("]", col)
            if close < 0:
                return False
            sep = ", " if node else ""
            edits.replace(line, text[:close] + sep + recipient + text[close:])
            return True
        if not node:
            return False
        last_line = seq.lc.item(len(node) - 1)[0]
        ending = "\r\n" if lines[last_line].endswith("\r\n") else "\n"
        edits.insert(
            last_line + 1, " " * yamledit.dash_column(lines, node) + "- " + recipient + ending
        )
        return True
    if not isinstance(node, str) or col >= len(text) or text[col] in "|>":
        return False
    end = _scalar_end(text, col)
    if end < 0:
        return False
    edits.replace(line, text[:end] + "," + recipient + text[end:])
    return True


def _scalar_end(text: str, col: int) -> int:
    """Where a one-line scalar starting at ``col`` ends (before a closing
    quote); -1 when it does not end on this line."""
    if text[col] in "'\"":
        quote, i = text[col], col + 1
        while i < len(text):
            if quote == '"' and text[i] == "\\":
                i += 2
                continue
            if text[i] == quote:
                if quote == "'" and text[i + 1 : i + 2] == "'":
                    i += 2
                    continue
                return i
            i += 1
        return -1
    body = text.rstrip("\r\n")
    comment = body.find(" #", col)
    return len(body[:comment].rstrip()) if comment >= 0 else len(body.rstrip())


def _check(
    text: str,
    before: Any,
    extended: list[int],
    recipient: str,
    inserted: list[tuple[int, PresetRule, list[str]]],
) -> None:
    """The new text must parse to ``before`` with exactly these changes."""
    expected = copy.deepcopy(before) if isinstance(before, dict) else {}
    rules = expected.get("creation_rules") or []
    for index in extended:
        holder = rules[index]
        if holder.get("key_groups"):
            holder = holder["key_groups"][0]
        if isinstance(holder["age"], list):
            holder["age"].append(recipient)
        else:
            holder["age"] = f"{holder['age']},{recipient}"
    for offset, (position, preset, recipients) in enumerate(inserted):
        rule = {"path_regex": preset.path_regex, "age": ",".join(recipients)}
        rules.insert(position + offset, rule)
    if rules:
        expected["creation_rules"] = rules
    yamledit.check(
        text, expected, NAME, "add the rules by hand (see `homelab-secrets init --dry-run`)"
    )


def replace_recipient(text: str, old: str, new: str) -> str:
    """``text`` with recipient ``old`` swapped for ``new`` everywhere."""
    if old not in text:
        return text
    changed = text.replace(old, new)

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node.replace(old, new) if isinstance(node, str) else node

    yamledit.check(
        changed,
        swap(yamledit.plain(yamledit.load(text, NAME))),
        NAME,
        f"replace {old} with {new} by hand, then run `homelab-secrets rekey` again",
    )
    return changed
