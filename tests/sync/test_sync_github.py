"""The sync end to end through real PyGithub against the fake GitHub on
127.0.0.1: every stored sealed box is opened and compared with the source
value; requests are counted from the fake's record."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sync_world import ISSUE_CONFIG, SOURCE, VALUES, World, estate, world

from fakes import Fault, serve
from fakes.github import FakeGitHub
from homelab_secrets.sync.ratelimit import RetryPolicy

REPO = "owner/terraform-proxmox"
PUT_PATH = "/repos/{owner}/{repo}/{kind}/secrets/{name}"


@pytest.fixture
def w() -> Iterator[World]:
    with world() as it:
        yield it


def _expected_terraform() -> dict[str, str]:
    return {
        "PROXMOX_VE_ENDPOINT": VALUES["PROXMOX_VE_ENDPOINT"],
        "PROXMOX_VE_PASSWORD": VALUES["PROXMOX_VE_PASSWORD"],
        "HEC_TOKEN": VALUES["SPLUNK_HEC_TOKEN"],
        "SPLUNK_PASSWORD": VALUES["SPLUNK_PASSWORD"],
    }


def _all_names() -> list[str]:
    return sorted(VALUES)


def test_first_run_writes_every_secret_to_every_target_as_the_source_has_it(w: World) -> None:
    report = w.run()
    assert report.ok, [str(p) for p in report.problems]
    gh = w.github
    assert gh.scope(repository=REPO).values() == _expected_terraform()
    assert gh.scope(repository="owner/ansible-splunk", environment="production").values() == {
        **VALUES
    }
    assert gh.scope(repository="owner/ansible-proxmox", kind="dependabot").values() == VALUES
    org = gh.scope(organization="owner")
    assert org.values() == VALUES
    for name in VALUES:
        assert gh.visibility("owner", name) == "selected"
        assert gh.selected("owner", name) == ["owner/ansible-proxmox", "owner/terraform-proxmox"]
    # nothing else anywhere: not in the repository's Actions secrets of the other repos
    assert gh.scope(repository="owner/ansible-splunk").names() == []
    assert gh.scope(repository="owner/ansible-proxmox").names() == []


def test_one_public_key_per_target_and_each_value_sealed_once(w: World) -> None:
    w.run()
    keys = [r for r in w.github.requests if r.path.endswith("/public-key")]
    assert len(keys) == 4  # one per target
    puts = [r for r in w.github.secret_writes() if r.method == "PUT"]
    assert len(puts) == 4 + 6 + 6 + 6
    bodies = [json.dumps(r.json(), sort_keys=True) for r in puts]
    assert len(set(bodies)) == len(bodies)  # every seal is fresh (ephemeral keys)


def test_second_run_makes_no_write_request_at_all(w: World) -> None:
    assert w.run().ok
    before = len(w.github.requests)
    report = w.run()
    assert report.ok
    new = w.github.requests[before:]
    assert [r for r in new if r.method != "GET"] == []
    assert not [r for r in new if r.path.endswith("/public-key")]  # no key: nothing to seal
    assert all(not run.plan.changes for run in report.runs if run.plan)
    assert sum(len(run.plan.unchanged) for run in report.runs if run.plan) == 4 + 6 + 6 + 6


def test_one_changed_value_is_exactly_one_secret_write(w: World) -> None:
    assert w.run().ok
    before = len(w.github.requests)
    changed = {**VALUES, "SPLUNK_PASSWORD": "splunk-Secret-rotated-78"}
    report = w.run(targets=("repo:owner/terraform-proxmox",), values=changed)
    assert report.ok
    writes = [r for r in w.github.requests[before:] if r.method != "GET"]
    secret_writes = [r for r in writes if "/secrets/" in r.path]
    assert [(r.method, r.path) for r in secret_writes] == [
        ("PUT", f"/repos/{REPO}/actions/secrets/SPLUNK_PASSWORD")
    ]
    # plus the state, once
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in writes if r not in secret_writes] == [
        ("PATCH", "HOMELAB_SECRETS_SYNC_STATE")
    ]
    assert w.github.scope(repository=REPO).value("SPLUNK_PASSWORD") == "splunk-Secret-rotated-78"
    # and the next run is quiet again
    before = len(w.github.requests)
    w.run(targets=("repo:owner/terraform-proxmox",), values=changed)
    assert [r for r in w.github.requests[before:] if r.method != "GET"] == []


PRUNE = """
source: { provider: doppler, project: iac-conf-mgmt, config: prd }
targets:
  - repository: owner/terraform-proxmox
prune: PRUNE
"""


def test_prune_removes_only_names_this_sync_wrote_and_only_with_prune(w: World) -> None:
    scope = w.github.scope(repository=REPO)
    scope.put_plain("HAND_MADE", "set in the web UI")
    assert w.run(PRUNE.replace("PRUNE", "true")).ok
    fewer = {k: v for k, v in VALUES.items() if k not in ("TLS_KEY", "JSON_BLOB")}

    kept = w.run(PRUNE.replace("PRUNE", "false"), values=fewer)
    assert kept.ok
    run = kept.runs[0]
    assert run.plan is not None
    assert run.plan.stale == ("JSON_BLOB", "TLS_KEY")
    assert "TLS_KEY" in scope.names()  # prune off: kept

    pruned = w.run(PRUNE.replace("PRUNE", "true"), values=fewer)
    assert pruned.ok
    assert sorted(pruned.runs[0].deleted) == ["JSON_BLOB", "TLS_KEY"]
    assert scope.names() == sorted([*fewer, "HAND_MADE"])
    assert scope.value("HAND_MADE") == "set in the web UI"
    # the state forgets them: a later run has nothing more to delete
    again = w.run(PRUNE.replace("PRUNE", "true"), values=fewer)
    assert again.runs[0].plan is not None
    assert again.runs[0].plan.changes == ()


def test_bad_names_anywhere_write_nothing_anywhere_and_are_all_reported(w: World) -> None:
    bad = {
        **VALUES,
        "GITHUB_TOKEN_COPY": "x-Secret-1",
        "1PASSWORD": "x-Secret-2",
        "db-url": "x-Secret-3",
        "BIG": "y" * (48 * 1024 + 1),
    }
    report = w.run(values=bad)
    assert not report.ok
    assert report.exit_code == 1
    messages = [str(p) for p in report.problems]
    for name in ("GITHUB_TOKEN_COPY", "1PASSWORD", "DB-URL", "BIG"):
        # the three targets that take everything each report every bad name
        assert sum(name in m for m in messages) == 3, (name, messages)
    assert w.github.writes() == []
    assert all(v not in "\n".join(messages) for v in bad.values())


def test_storm_of_429_mid_run_is_retried_and_the_state_stays_consistent(w: World) -> None:
    # the 4th secret write of the run, and the next 5 writes, are refused
    # alternately with and without Retry-After
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    w.github.inject(Fault.sleep(0), method="PUT", path=PUT_PATH, times=3)
    for i in range(5):
        retry_after = 2 if i % 2 else None
        w.github.inject(
            Fault.error(429, {"message": "Too Many Requests"}, retry_after=retry_after),
            method="PUT",
            path=PUT_PATH,
        )
    report = w.run(config)
    assert report.ok, report.runs[0].failed
    assert w.github.scope(repository=REPO).values() == VALUES
    assert w.last is not None
    assert w.last.waited >= 60
    puts = [r for r in w.github.requests if r.method == "PUT"]
    assert len(puts) == len(VALUES) + 5
    assert w.run(config).runs[0].plan.changes == ()


def test_a_limit_past_the_budget_stops_writing_and_the_rerun_converges(w: World) -> None:
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    w.github.inject(Fault.sleep(0), method="PUT", path=PUT_PATH, times=2)
    w.github.inject(
        Fault.error(403, {"message": "You have exceeded a secondary rate limit"}, retry_after=7200),
        method="PUT",
        path=PUT_PATH,
    )
    report = w.run(config)
    run = report.runs[0]
    assert not report.ok
    assert len(run.written) == 2
    assert sorted(run.failed) == sorted(set(VALUES) - set(run.written))
    assert all("rate limit" in why or "not written" in why for why in run.failed.values())
    state = json.loads(w.state(REPO).split("\n", 1)[1])
    assert sorted(state["secrets"]) == sorted(run.written)  # only what was written
    rerun = w.run(config)
    assert rerun.ok
    assert sorted(rerun.runs[0].written) == sorted(run.failed)
    assert w.github.scope(repository=REPO).values() == VALUES


@pytest.mark.parametrize(
    ("fault", "least_wait"),
    [
        (Fault.error(403, {"message": "You have exceeded a secondary rate limit."}), 60),
        (Fault.error(429, {"message": "Too Many Requests"}, retry_after=3), 3),
        (Fault.error(403, {"message": "abuse"}, retry_after="5"), 5),
        (Fault.html(502), 0),
        (Fault.error(503, {"message": "unavailable"}), 0),
    ],
    ids=["403-secondary", "429-retry-after", "403-retry-after", "502-html", "503"],
)
def test_every_kind_of_limit_and_outage_is_waited_out(
    w: World, fault: Fault, least_wait: float
) -> None:
    w.github.inject(fault, method="PUT", path=PUT_PATH, times=2)
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    report = w.run(config)
    assert report.ok
    assert w.github.scope(repository=REPO).values() == VALUES
    assert w.last is not None
    assert w.last.waited >= least_wait


def test_primary_limit_waits_until_x_ratelimit_reset(w: World) -> None:
    import time

    reset = int(time.time()) + 30
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    w.github.inject(
        Fault.error(403, {"message": "API rate limit exceeded for user"}, headers=headers),
        path="/repos/{owner}/{repo}/{kind}/secrets",
    )
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    assert w.run(config).ok
    assert w.last is not None
    assert 29 <= w.last.waited <= 33


def test_a_rejected_value_is_reported_nothing_is_deleted_and_the_rerun_converges(
    w: World,
) -> None:
    config = PRUNE.replace("PRUNE", "true")
    assert w.run(config).ok
    changed = {k: f"{v}-v2" for k, v in VALUES.items() if k != "JSON_BLOB"}
    w.github.inject(
        Fault.error(422, {"message": "nope"}),
        method="PUT",
        path=f"/repos/{REPO}/actions/secrets/SPLUNK_PASSWORD",
    )
    report = w.run(config, values=changed)
    run = report.runs[0]
    assert report.exit_code == 1
    assert list(run.failed) == ["SPLUNK_PASSWORD"]
    assert "HTTP 422" in run.failed["SPLUNK_PASSWORD"]
    assert run.postponed == ["JSON_BLOB"]  # a run with a failure deletes nothing
    scope = w.github.scope(repository=REPO)
    assert "JSON_BLOB" in scope.names()
    assert scope.value("SPLUNK_PASSWORD") == VALUES["SPLUNK_PASSWORD"]
    assert scope.value("TLS_KEY") == changed["TLS_KEY"]
    rerun = w.run(config, values=changed)
    assert rerun.ok
    assert list(rerun.runs[0].written) == ["SPLUNK_PASSWORD"]
    assert rerun.runs[0].deleted == ["JSON_BLOB"]
    assert scope.values() == changed


def test_dry_run_reads_and_plans_but_writes_nothing_not_even_the_state(w: World) -> None:
    report = w.run(dry_run=True)
    assert report.ok
    assert [r for r in w.github.requests if r.method != "GET"] == []
    plans = {run.target.name: run.plan for run in report.runs}
    terraform = plans["repo:owner/terraform-proxmox"]
    assert terraform is not None
    assert [c.name for c in terraform.by_action("add")] == sorted(_expected_terraform())
    assert w.state(REPO) is None


def test_a_missing_or_corrupt_state_means_rewrite_all_never_skip(w: World) -> None:
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    assert w.run(config).ok
    for damage in (None, "garbage", "EDITED"):
        if damage == "EDITED":
            text = w.state(REPO)
            assert text is not None
            damaged: str | None = text.replace('"TLS_KEY"', '"TLS_KEX"')
        else:
            damaged = damage
        w.github.set_variable(damaged, repository=REPO, name="HOMELAB_SECRETS_SYNC_STATE")
        before = len(w.github.secret_writes())
        report = w.run(config)
        assert report.ok
        assert len(w.github.secret_writes()) - before == len(VALUES), damage
        assert report.runs[0].plan is not None
        assert report.runs[0].plan.notes
    assert w.run(config).runs[0].plan.changes == ()


def test_a_secret_changed_or_deleted_by_hand_is_written_again(w: World) -> None:
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    assert w.run(config).ok
    scope = w.github.scope(repository=REPO)
    scope.put_plain("SPLUNK_PASSWORD", "typed by hand", at=w.github.now() + 5)
    del scope.secrets["TLS_KEY"]
    report = w.run(config)
    plan = report.runs[0].plan
    assert plan is not None
    assert {(c.name, c.action) for c in plan.changes} == {
        ("SPLUNK_PASSWORD", "update"),
        ("TLS_KEY", "add"),
    }
    assert scope.values() == VALUES


def test_a_new_sync_key_rewrites_everything_once(w: World) -> None:
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    assert w.run(config).ok
    other = b"another-sync-key-0123456789-0123456789"
    report = w.run(config, key=other)
    assert len(report.runs[0].written) == len(VALUES)
    assert any("key changed" in n for n in report.runs[0].plan.notes)
    assert w.run(config, key=other).runs[0].plan.changes == ()


def test_a_state_from_another_source_refuses_that_target(w: World) -> None:
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    assert w.run(config, source="doppler media/prd").ok
    report = w.run(config)
    assert not report.ok
    assert "doppler media/prd" in str(report.problems[0])
    assert "name:" in str(report.problems[0])
    named = "name: splunk\n" + config
    assert w.run(named).ok  # its own state variable
    assert w.github.variable(repository=REPO, name="HOMELAB_SECRETS_SYNC_SPLUNK_STATE")


def test_write_budget_leaves_the_rest_to_the_next_run(w: World) -> None:
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    report = w.run(config, max_writes=3)
    run = report.runs[0]
    assert report.exit_code == 1
    assert len(run.written) == 3
    assert all("write budget" in why for why in run.failed.values())
    assert run.state_error  # the state write itself is over budget...
    rerun = w.run(config)  # ...so everything not recorded is written again
    assert rerun.ok
    assert w.github.scope(repository=REPO).values() == VALUES
    assert w.run(config).runs[0].plan.changes == ()


def test_never_more_writes_in_a_minute_than_the_pace(w: World) -> None:
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    assert w.run(config, writes_per_minute=4).ok
    # 6 secrets + 1 state write, at most 4 in any minute: the 5th waits a minute
    # for the first 4 to leave the window, the 6th and 7th then go at once
    assert w.last is not None
    assert w.last.waited == pytest.approx(60, abs=1)


def test_counts_include_secrets_this_sync_does_not_own(w: World) -> None:
    scope = w.github.scope(repository=REPO)
    for i in range(97):
        scope.put_plain(f"HAND_{i:03}", "x")
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    report = w.run(config)
    assert not report.ok
    assert "103 secrets (97 of them not synced from this source)" in str(report.problems[0])
    assert w.github.writes() == []


def test_org_listing_follows_pages_and_selected_ids_are_typed_per_kind(w: World) -> None:
    many = {f"SECRET_{i:03}": f"value-{i}" for i in range(230)}
    config = """
    source: {provider: doppler}
    targets:
      - organization: owner
        visibility: selected
        repositories: [terraform-proxmox]
      - organization: owner
        type: dependabot
        visibility: all
    """
    assert w.run(config, values=many).ok
    assert w.github.scope(organization="owner").values() == many
    dependabot = w.github.scope(organization="owner", kind="dependabot")
    assert dependabot.values() == many
    assert w.github.visibility("owner", "SECRET_000", "dependabot") == "all"
    before = len(w.github.requests)
    report = w.run(config, values=many)
    assert report.ok
    assert report.writes == 0
    pages = [r for r in w.github.requests[before:] if r.path == "/orgs/owner/actions/secrets"]
    assert [r.query.get("page", ["1"])[0] for r in pages] == ["1", "2", "3"]
    puts = [r for r in w.github.requests if r.method == "PUT" and "/actions/" in r.path]
    assert all(r.json()["selected_repository_ids"] == [1000] for r in puts)


def test_changing_selected_repositories_rewrites_the_org_secrets(w: World) -> None:
    config = ISSUE_CONFIG
    assert w.run(config).ok
    moved = config.replace("[terraform-proxmox, ansible-proxmox]", "[terraform-proxmox]")
    report = w.run(moved, targets=("org:owner",))
    assert report.ok
    assert len(report.runs[0].written) == len(VALUES)
    assert w.github.selected("owner", "TLS_KEY") == ["owner/terraform-proxmox"]


def test_an_unknown_repository_or_environment_is_a_problem_before_writing(w: World) -> None:
    config = """
    source: {provider: doppler}
    targets:
      - repository: owner/terraform-proxmox
      - repository: owner/nope
      - repository: owner/ansible-splunk
        environment: staging
      - organization: owner
        visibility: selected
        repositories: [ghost]
    """
    report = w.run(config)
    messages = "\n".join(str(p) for p in report.problems)
    assert "repo:owner/nope: could not list the secrets" in messages
    assert "HTTP 404" in messages
    assert "does not create environments" in messages
    assert "owner/ghost was not found" in messages
    assert w.github.writes() == []


def test_retries_are_bounded_by_attempts(w: World) -> None:
    w.github.inject(Fault.html(502), method="PUT", path=PUT_PATH, times=None)
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    report = w.run(config, policy=RetryPolicy(attempts=3, base_delay=1, max_delay=2))
    run = report.runs[0]
    assert not report.ok
    first = sorted(VALUES)[0]
    assert "HTTP 502 (after 3 attempts)" in run.failed[first]
    # an outage stops the target: the other names are not hammered
    assert len([r for r in w.github.requests if r.method == "PUT"]) == 3
    w.github.clear_faults()
    assert w.run(config).ok


def test_the_state_reveals_no_value(w: World) -> None:
    assert w.run().ok
    texts = [
        w.state(REPO) or "",
        w.state("owner/ansible-splunk", suffix="_ENV_PRODUCTION") or "",
        w.state("owner/ansible-proxmox", suffix="_DEPENDABOT") or "",
        w.state(organization="owner") or "",
    ]
    assert all(texts)
    for text in texts:
        for value in VALUES.values():
            for line in value.splitlines():
                assert line.strip() not in text
    # the org state is visible to no repository's workflows
    org_var = w.github.variables["org:owner"]["HOMELAB_SECRETS_SYNC_STATE"]
    assert org_var["visibility"] == "selected"


def test_the_state_records_the_source_and_fingerprints_only(w: World) -> None:
    assert w.run(
        "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    ).ok
    header, body = (w.state(REPO) or "").split("\n", 1)
    assert header.startswith("homelab-secrets sync state v1 part 1/1 ")
    data = json.loads(body)
    assert set(data) == {"v", "target", "source", "key", "secrets"}
    assert data["source"] == SOURCE
    assert data["target"] == "repo:owner/terraform-proxmox"
    assert all(len(fp) == 22 and isinstance(t, int) for fp, t in data["secrets"].values())


def test_a_long_state_spans_several_variables(w: World) -> None:
    many = {f"{'A_VERY_LONG_SECRET_NAME_' * 4}{i:04}": f"v{i}" for i in range(400)}
    config = "source: {provider: doppler}\ntargets:\n  - organization: owner\n"
    assert w.run(config, values=many).ok
    names = w.github.variable_names(organization="owner")
    base = "HOMELAB_SECRETS_SYNC_STATE"
    assert names == [base, f"{base}_2"]  # 400 records: about 52 KB, in parts of 40 KB
    assert w.run(config, values=many).writes == 0
    fewer = dict(list(many.items())[:10])
    report = w.run(config + "prune: true\n", values=fewer)
    assert report.ok
    assert w.github.variable_names(organization="owner") == ["HOMELAB_SECRETS_SYNC_STATE"]
    assert w.github.scope(organization="owner").values() == fewer


def test_fake_refuses_a_stale_key_id_so_the_fake_checks_our_sealing(w: World) -> None:
    # the fake is strict: what it stores opens with the scope's key (proved above);
    # a rotated key between the key fetch and the write is a reported failure
    config = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"
    original = FakeGitHub._put

    def rotate_then_put(self: FakeGitHub, *args: object, **kwargs: object) -> object:
        self.scope(repository=REPO).rotate_key()
        FakeGitHub._put = original
        return original(self, *args, **kwargs)

    FakeGitHub._put = rotate_then_put
    try:
        report = w.run(config)
    finally:
        FakeGitHub._put = original
    # every write used the key fetched before the rotation: all refused, all reported
    assert sorted(report.runs[0].failed) == sorted(VALUES)
    assert all("HTTP 422" in why for why in report.runs[0].failed.values())
    assert w.run(config).ok
    assert w.github.scope(repository=REPO).values() == VALUES


def test_a_ghes_api_root_with_a_path_works_pages_included() -> None:
    github = estate(FakeGitHub(prefix="/api/v3"))
    many = {f"SECRET_{i:03}": f"value-{i}" for i in range(150)}
    config = "source: {provider: doppler}\ntargets:\n  - organization: owner\n"
    with serve(github) as url:
        ghes = World(github, f"{url}/api/v3")
        assert ghes.run(config, values=many).ok
        assert github.scope(organization="owner").values() == many
        report = ghes.run(config, values=many)
        assert report.ok
        assert report.writes == 0
    paths = {r.path for r in github.requests}
    assert all(p.startswith("/api/v3/") for p in paths)
    assert [r.query.get("page") for r in github.requests if r.path.endswith("/actions/secrets")][
        -2:
    ] == [None, ["2"]]
