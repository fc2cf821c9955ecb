"""SARIF 2.1.0, as GitHub code scanning reads it: one run, one rule per
rule id, one result per finding at its file, line and columns, with the
value fingerprint as ``partialFingerprints`` (so code scanning tracks an
alert across line moves).  Messages name the rule and the key, never a value."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from homelab_secrets import __version__
from homelab_secrets.scan.model import Finding, Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/org/homelab-secrets"
#: GitHub's severity scale: >= 9.0 critical, >= 7.0 high.
_SEVERITY = {"policy": "8.0", "forbidden": "9.0", "password": "8.5", "generic": "7.5"}


def all_rules() -> list[Rule]:
    from homelab_secrets.scan.detectors import DETECTORS
    from homelab_secrets.scan.policy import RULES

    seen: dict[str, Rule] = {}
    for rule in [*RULES, *(r for d in DETECTORS for r in d.rules)]:
        seen.setdefault(rule.id, rule)
    return list(seen.values())


def _rule(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": "".join(part.title() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title} ({rule.kind})."},
        "help": {
            "text": "Remove the value from the file and from git history, rotate it, and keep "
            "it encrypted (SOPS) or in a secrets manager. Accept a known test value with an "
            "allow entry (by fingerprint) in .homelab-secrets-scan.yaml."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "secret", rule.kind],
            "security-severity": _SEVERITY.get(rule.kind, "9.0"),
            "precision": "high" if rule.kind not in ("generic", "password") else "medium",
        },
    }


def _result(f: Finding, index: int) -> dict[str, object]:
    region: dict[str, int] = {"startLine": f.line, "startColumn": f.column}
    if f.end_column > f.column:
        region["endColumn"] = f.end_column
    message = f.title + (f" (key {f.key})" if f.key else "")
    return {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": "error",
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {"homelabSecretsFingerprint/v1": f.fingerprint},
    }


def to_sarif(findings: Sequence[Finding], rules: Iterable[Rule] | None = None) -> str:
    rule_list = list(rules) if rules is not None else all_rules()
    known = {r.id for r in rule_list}
    for f in findings:
        if f.rule not in known:
            known.add(f.rule)
            rule_list.append(Rule(f.rule, f.kind, f.title))
    index = {r.id: i for i, r in enumerate(rule_list)}
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "homelab-secrets",
                        "semanticVersion": __version__,
                        "informationUri": INFO_URI,
                        "rules": [_rule(r) for r in rule_list],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "repository root"}}},
                "results": [_result(f, index[f.rule]) for f in findings],
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
