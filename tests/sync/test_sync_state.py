"""The state: round trips, parts, every way it can be unusable, what a run keeps."""

from __future__ import annotations

import json

import pytest

from homelab_secrets.sync.config import Target, parse_config
from homelab_secrets.sync.plan import Change, Record, TargetPlan
from homelab_secrets.sync.state import (
    PART_BYTES,
    Loaded,
    State,
    encode,
    next_records,
    part_name,
    read_state,
    state_writes,
    variable_name,
)

BASE = "HOMELAB_SECRETS_SYNC_STATE"
TARGET = "repo:o/r"
SOURCE = "doppler p/c"
KID = "0123456789abcdef"


def _state(n: int = 3) -> State:
    records = {f"NAME_{i:05}": Record(f"fp{i:019}", 1_700_000_000.0 + i) for i in range(n)}
    return State(TARGET, SOURCE, KID, records)


def _read(parts: dict[str, str], **kw: str) -> Loaded:
    args = {"target_key": TARGET, "source": SOURCE, "key_id": KID, **kw}
    return read_state(parts.get, BASE, **args)


def _store(values: list[str]) -> dict[str, str]:
    return {part_name(BASE, i): v for i, v in enumerate(values, 1)}


def test_round_trip() -> None:
    state = _state()
    loaded = _read(_store(encode(state)))
    assert loaded.status == "ok"
    assert loaded.records == state.records
    assert loaded.parts == 1


def test_a_big_state_spans_parts_each_under_the_variable_limit() -> None:
    state = _state(2000)
    parts = encode(state)
    assert len(parts) >= 3
    assert all(len(p.encode()) < 48 * 1024 for p in parts)
    loaded = _read(_store(parts))
    assert loaded.status == "ok"
    assert loaded.records == state.records
    assert loaded.parts == len(parts)


def test_missing() -> None:
    loaded = _read({})
    assert loaded.status == "missing"
    assert loaded.records == {}
    assert "every secret is written" in loaded.note


def _corruptions() -> list[tuple[str, dict[str, str]]]:
    parts = encode(_state(2000))
    good = _store(parts)
    body_edit = dict(good)
    body_edit[BASE] = good[BASE].replace("NAME_00001", "NAME_00002", 1)
    missing_part = dict(good)
    del missing_part[part_name(BASE, 2)]
    other_run = dict(good)
    other_run[part_name(BASE, 2)] = encode(_state(2001))[1]
    return [
        ("garbage", {BASE: "hello"}),
        ("empty", {BASE: ""}),
        ("edited", body_edit),
        ("missing part", missing_part),
        ("part from another run", other_run),
        ("not json", {BASE: _with_digest("{not json")}),
        ("wrong layout", {BASE: _with_digest(json.dumps({"v": 1}))}),
        ("bad record", {BASE: _with_digest(_body(secrets={"A": ["fp", "soon"]}))}),
        ("another target", {BASE: _with_digest(_body(target="repo:o/other"))}),
        ("future version", {BASE: _with_digest(_body(v=2))}),
    ]


def _body(**changes: object) -> str:
    data = {"v": 1, "target": TARGET, "source": SOURCE, "key": KID, "secrets": {}, **changes}
    return json.dumps(data)


def _with_digest(body: str) -> str:
    import hashlib

    digest = hashlib.sha256(body.encode()).hexdigest()
    return f"homelab-secrets sync state v1 part 1/1 {digest}\n{body}"


@pytest.mark.parametrize(("why", "store"), _corruptions(), ids=[c[0] for c in _corruptions()])
def test_a_corrupt_state_means_no_records_never_skip(why: str, store: dict[str, str]) -> None:
    loaded = _read(store)
    assert loaded.status == "corrupt", why
    assert loaded.records == {}
    assert "every secret is written again" in loaded.note


def test_another_source_is_foreign() -> None:
    loaded = _read(_store(encode(_state())), source="doppler media/prd")
    assert loaded.status == "foreign"
    assert loaded.source == SOURCE


def test_another_key_keeps_names_but_no_fingerprint() -> None:
    loaded = _read(_store(encode(_state())), key_id="fedcba9876543210")
    assert loaded.status == "other-key"
    assert set(loaded.records) == set(_state().records)
    assert all(r.fingerprint == "" for r in loaded.records.values())


def test_next_records_keep_exactly_what_was_written() -> None:
    previous = {
        "SAME": Record("s", 1.0),
        "CHANGED": Record("old", 1.0),
        "FAILED_OWNED": Record("old", 1.0),
        "PRUNED": Record("p", 1.0),
        "STALE": Record("st", 1.0),
        "FORGOTTEN": Record("f", 1.0),
    }
    plan = TargetPlan(
        "t",
        changes=(
            Change("CHANGED", "update", "value changed", "new"),
            Change("FAILED_OWNED", "update", "value changed", "new2"),
            Change("FAILED_NEW", "add", "new", "n"),
            Change("HAND_MADE", "update", "not written by this sync before", "h"),
            Change("ADDED", "add", "new", "a"),
            Change("PRUNED", "delete", "no longer in the source (prune)"),
        ),
        unchanged=("SAME",),
        stale=("STALE",),
        forgotten=("FORGOTTEN",),
    )
    records = next_records(
        previous, plan, written={"CHANGED": 5.0, "ADDED": 6.0}, deleted=["PRUNED"]
    )
    assert records == {
        "SAME": Record("s", 1.0),
        "CHANGED": Record("new", 5.0),
        "ADDED": Record("a", 6.0),
        "FAILED_OWNED": Record("", 1.0),  # still ours, written again next run
        "STALE": Record("st", 1.0),
        # FAILED_NEW and HAND_MADE were never written: not ours
    }


def test_state_writes_put_part_one_last_and_remove_leftover_parts() -> None:
    ops = state_writes(BASE, ["p1", "p2"], existing=4)
    assert ops == [
        (f"{BASE}_2", "p2"),
        (BASE, "p1"),
        (f"{BASE}_3", None),
        (f"{BASE}_4", None),
    ]


def test_variable_names() -> None:
    def target(text: str) -> Target:
        return parse_config(f"source: {{provider: doppler}}\ntargets:\n  - {text}\n").targets[0]

    assert variable_name(target("repository: o/r")) == BASE
    assert variable_name(target("repository: o/r"), "homelab") == (
        "HOMELAB_SECRETS_SYNC_HOMELAB_STATE"
    )
    dependabot = target("repository: o/r\n    type: dependabot")
    assert variable_name(dependabot) == f"{BASE}_DEPENDABOT"
    prod = target("repository: o/r\n    environment: production")
    assert variable_name(prod) == f"{BASE}_ENV_PRODUCTION"
    a = variable_name(target("repository: o/r\n    environment: prod-1"))
    b = variable_name(target("repository: o/r\n    environment: prod_1"))
    assert a != b
    assert a.startswith(f"{BASE}_ENV_PROD_1_")
    assert b == f"{BASE}_ENV_PROD_1"
    assert variable_name(target("organization: o")) == BASE


def test_parts_are_sized_for_github_variables() -> None:
    assert PART_BYTES + 200 < 48 * 1024
