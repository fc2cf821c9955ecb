"""The pure core: selection, GitHub's rules, fingerprints, the plan."""

from __future__ import annotations

import pytest

from homelab_secrets.sync.config import Target, parse_config
from homelab_secrets.sync.plan import (
    MAX_VALUE_BYTES,
    Record,
    RemoteSecret,
    check,
    check_counts,
    desired,
    fingerprint,
    key_id,
    name_problem,
    org_notes,
    plan_target,
)

KEY = b"k" * 32
SOURCE = "doppler p/c"


def _target(extra: str = "", where: str = "repository: o/r") -> Target:
    text = f"source: {{provider: doppler}}\ntargets:\n  - {where}\n{extra}"
    return parse_config(text).targets[0]


def test_include_exclude_rename_and_upper_case() -> None:
    target = _target(
        "    include: ['PROXMOX_*', 'SPLUNK_*', 'lower_*']\n"
        "    exclude: ['*_OLD']\n"
        "    rename: {SPLUNK_HEC_TOKEN: HEC_TOKEN}\n"
    )
    values = {
        "PROXMOX_VE_PASSWORD": "value-A",
        "PROXMOX_VE_OLD": "value-B",
        "SPLUNK_HEC_TOKEN": "value-C",
        "lower_case": "value-D",
        "OTHER": "value-E",
    }
    selection, problems = desired(target, values, SOURCE)
    assert problems == []
    assert dict(selection.values) == {
        "PROXMOX_VE_PASSWORD": "value-A",
        "HEC_TOKEN": "value-C",
        "LOWER_CASE": "value-D",
    }
    assert selection.origins["LOWER_CASE"] == "lower_case"
    assert "value-" not in repr(selection)
    assert "HEC_TOKEN" in repr(selection)


def test_typos_in_include_and_rename_are_problems_not_silent_drops() -> None:
    target = _target("    include: [PROXMOX_*, SPLUNK_TOKN]\n    rename: {NOPE: X}\n")
    _, problems = desired(target, {"PROXMOX_A": "1"}, SOURCE)
    assert [p.message for p in problems] == [
        "include SPLUNK_TOKN matches no secret in doppler p/c",
        "rename: NOPE is not among the secrets synced here",
    ]


def test_names_equal_but_for_case_collide() -> None:
    _, problems = desired(_target(), {"db_pass": "1", "DB_PASS": "2"}, SOURCE)
    assert "db_pass and DB_PASS both become DB_PASS" in problems[0].message


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("GITHUB_TOKEN", "GITHUB_"),
        ("github_x", "GITHUB_"),
        ("1PASSWORD", "digit"),
        ("DB-URL", "letters, digits and _"),
        ("WITH SPACE", "letters, digits and _"),
        ("ÜBER", "letters, digits and _"),
        ("", "letters, digits and _"),
    ],
)
def test_github_name_rules(name: str, why: str) -> None:
    problem = name_problem(name)
    assert problem is not None
    assert why in problem


@pytest.mark.parametrize("name", ["A", "_X", "DOPPLER_PROJECT", "TF_VAR_x", "A1_B2"])
def test_good_names(name: str) -> None:
    assert name_problem(name) is None


def test_check_reports_every_problem_at_once_with_the_fix() -> None:
    target = _target("    rename: {ok: 9LIVES}\n")
    values = {
        "ok": "1",
        "GITHUB_X": "2",
        "fits": "x" * MAX_VALUE_BYTES,
        "too_big": "é" * (MAX_VALUE_BYTES // 2 + 1),
    }
    selection, problems = desired(target, values, SOURCE)
    problems += check(target, selection)
    messages = [p.message for p in problems]
    assert messages == [
        "9LIVES: must not start with a digit (renamed from ok: change the rename)",
        "GITHUB_X: must not start with GITHUB_ (reserved by GitHub): rename it "
        "(rename: {GITHUB_X: NEW_NAME}) or exclude it",
        f"TOO_BIG: the value is {MAX_VALUE_BYTES + 2} bytes, more than GitHub's 48 KB "
        f"({MAX_VALUE_BYTES} bytes): store a file encrypted in the repository (sops) and keep "
        "only its key as a secret",
    ]


def test_fingerprints_are_keyed_and_bound_to_target_name_and_settings() -> None:
    fp = fingerprint(KEY, "repo:o/r", "A", "value")
    assert fp == fingerprint(KEY, "repo:o/r", "a", "value")  # names are case-insensitive
    assert len(fp) == 22
    assert "value" not in fp
    others = {
        fingerprint(b"j" * 32, "repo:o/r", "A", "value"),
        fingerprint(KEY, "repo:o/s", "A", "value"),
        fingerprint(KEY, "repo:o/r", "B", "value"),
        fingerprint(KEY, "repo:o/r", "A", "value", "visibility=all"),
        fingerprint(KEY, "repo:o/r", "A", "value2"),
        fingerprint(KEY, "repo:o/r", "Av", "alue"),  # length-prefixed parts
    }
    assert fp not in others
    assert len(others) == 6
    assert key_id(KEY) == key_id(KEY) != key_id(b"j" * 32)
    assert len(key_id(KEY)) == 16


def _fps(**values: str) -> dict[str, str]:
    return {n: fingerprint(KEY, "repo:o/r", n, v) for n, v in values.items()}


def test_plan_compares_fingerprints_presence_and_updated_at() -> None:
    target = _target(where="repository: o/r\n    prune: true")
    fps = _fps(SAME="1", CHANGED="2", NEW="3", GONE_BY_HAND="4", EDITED="5", TAKEN_OVER="6")
    old = _fps(SAME="1", CHANGED="old", GONE_BY_HAND="4", EDITED="5", DROPPED="x", FORGOT="y")
    records = {n: Record(fp, 100.0) for n, fp in old.items()}
    remote = {
        n: RemoteSecret(100.0) for n in ("SAME", "CHANGED", "TAKEN_OVER", "DROPPED", "HAND_MADE")
    }
    remote["EDITED"] = RemoteSecret(101.0)
    plan = plan_target(target, fps, remote, records)
    actions = {(c.name, c.action, c.reason) for c in plan.changes}
    assert actions == {
        ("CHANGED", "update", "value changed"),
        ("NEW", "add", "new"),
        ("GONE_BY_HAND", "add", "missing in GitHub (deleted by hand?)"),
        ("EDITED", "update", "changed in GitHub since the last sync"),
        ("TAKEN_OVER", "update", "not written by this sync before"),
        ("DROPPED", "delete", "no longer in the source (prune)"),
    }
    assert plan.unchanged == ("SAME",)
    assert plan.forgotten == ("FORGOT",)
    assert plan.unmanaged == ("HAND_MADE",)
    assert plan.stale == ()


def test_without_prune_gone_names_are_stale_not_deleted() -> None:
    records = {"DROPPED": Record("x", 1.0)}
    plan = plan_target(_target(), {}, {"DROPPED": RemoteSecret(1.0)}, records)
    assert plan.deletes == []
    assert plan.stale == ("DROPPED",)


def test_no_state_means_every_secret_is_written() -> None:
    fps = _fps(A="1", B="2")
    plan = plan_target(_target(), fps, {"A": RemoteSecret(1.0)}, {})
    assert [(c.name, c.action) for c in plan.changes] == [("A", "update"), ("B", "add")]
    assert plan.unchanged == ()


def test_org_visibility_changed_by_hand_is_an_update() -> None:
    target = _target(where="organization: o")
    fps = _fps(A="1")
    records = {"A": Record(fps["A"], 10.0)}
    same = plan_target(
        target, fps, {"A": RemoteSecret(5.0, "private")}, records, visibility="private"
    )
    moved = plan_target(target, fps, {"A": RemoteSecret(5.0, "all")}, records, visibility="private")
    assert same.changes == ()
    assert [c.reason for c in moved.changes] == ["visibility changed in GitHub"]


def test_counts_include_unmanaged_secrets() -> None:
    target = _target()
    remote = {f"HAND_{i}": RemoteSecret(1.0) for i in range(98)}
    fps = _fps(A="1", B="2")
    assert check_counts(target, plan_target(target, fps, remote, {}), remote) == []
    fps = _fps(A="1", B="2", C="3")
    assert check_counts(target, plan_target(target, fps, remote, {}), remote) == [
        "would hold 101 secrets (98 of them not synced from this source), more than the 100 "
        "GitHub allows in a repository"
    ]
    org = _target(where="organization: o")
    many = {f"N{i}": "v" for i in range(150)}
    fps = {n: fingerprint(KEY, org.key, n, v) for n, v in many.items()}
    plan = plan_target(org, fps, {}, {})
    assert check_counts(org, plan, {}) == []
    assert "only the first 100" in org_notes(org, plan, {})[0]


def test_an_empty_selection_is_a_problem_so_prune_cannot_empty_a_target() -> None:
    target = _target(where="repository: o/r\n    prune: true\n    exclude: ['*']")
    selection, problems = desired(target, {"A": "1", "B": "2"}, SOURCE)
    assert dict(selection.values) == {}
    assert [p.message for p in problems] == [
        "no secret of doppler p/c is left to sync here (see exclude)"
    ]
