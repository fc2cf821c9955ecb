"""sync.yaml: the issue's example reads as written; every problem is reported
at once, each naming its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sync_world import ISSUE_CONFIG

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sync.config import ConfigError, Limits, load_config, parse_config


def _problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(text))
    assert caught.value.exit_code == ExitCode.USAGE
    return [(p.line, p.message) for p in caught.value.problems]


def test_the_issue_example() -> None:
    config = parse_config(ISSUE_CONFIG)
    assert config.source.provider == "doppler"
    assert (config.source.project, config.source.config) == ("iac-conf-mgmt", "prd")
    assert config.prune is False
    assert config.limits == Limits(concurrency=4, writes_per_minute=80, max_writes=500)
    names = config.target_names()
    assert names == [
        "repo:owner/terraform-proxmox",
        "env:owner/ansible-splunk/production",
        "dependabot:owner/ansible-proxmox",
        "org:owner",
    ]
    terraform, splunk, dependabot, org = config.targets
    assert terraform.include == ("PROXMOX_VE_*", "SPLUNK_*")
    assert terraform.exclude == ()
    assert dict(terraform.rename) == {"SPLUNK_HEC_TOKEN": "HEC_TOKEN"}
    assert (terraform.scope, terraform.app, terraform.line) == ("repository", "actions", 4)
    assert (splunk.scope, splunk.environment, splunk.include) == (
        "environment",
        "production",
        ("*",),
    )
    assert (dependabot.scope, dependabot.app) == ("repository", "dependabot")
    assert (org.scope, org.visibility) == ("organization", "selected")
    assert org.repositories == ("terraform-proxmox", "ansible-proxmox")


def test_everything_optional_and_overrides() -> None:
    config = parse_config(
        textwrap.dedent(
            """
            name: homelab
            source:
              provider: doppler
              api-host: http://127.0.0.1:8080
            targets:
              - organization: owner
              - organization: owner
                type: dependabot
                visibility: all
                name: deps
                prune: false
              - repository: owner/x
                include: ONLY_ONE
            prune: true
            limits: {concurrency: 2, writes-per-minute: 0, max-writes: 50}
            """
        )
    )
    org, deps, single = config.targets
    assert config.name == "homelab"
    assert config.source.api_host == "http://127.0.0.1:8080"
    assert (org.visibility, org.prune, org.name) == ("private", True, "org:owner")
    assert (deps.visibility, deps.prune, deps.name, deps.app) == (
        "all",
        False,
        "deps",
        "dependabot",
    )
    assert single.include == ("ONLY_ONE",)
    assert config.limits == Limits(concurrency=2, writes_per_minute=0, max_writes=50)


def test_infisical_source() -> None:
    config = parse_config(
        "source: {provider: infisical, api-url: https://infisical.lan, project-id: p1, "
        "environment: prod, path: /iac, recursive: true}\n"
        "targets: [{repository: o/r}]\n"
    )
    source = config.source
    assert (source.provider, source.api_host, source.project_id) == (
        "infisical",
        "https://infisical.lan",
        "p1",
    )
    assert (source.environment, source.path, source.recursive) == ("prod", "/iac", True)


def test_every_problem_is_reported_with_its_line() -> None:
    problems = _problems(
        """
        source:
          provider: vault
          project: p
        targets:
          - repository: not-a-repo
          - repository: o/r
            environment: prod
            type: dependabot
          - organization: o
            visibility: public
          - organization: o2
            visibility: selected
          - organization: o3
            repositories: [a]
          - repository: o/r2
            visibility: all
            includes: ["*"]
          - repository: o/r3
            prune: sometimes
        limits: {concurrency: 0}
        colour: blue
        """
    )
    assert problems == [
        (3, "source.provider: must be one of doppler, infisical"),
        (3, "source: give project and config together (or neither, with a Doppler service "
            "token, which reads its own config)"),
        (6, "targets[0].repository: must be owner/name"),
        (9, "targets[1]: Dependabot secrets have no environments"),
        (11, "targets[2].visibility: must be one of all, private, selected, not 'public'"),
        (13, "targets[3]: visibility selected needs repositories"),
        (15, "targets[4].repositories: only with visibility: selected"),
        (17, "targets[5].visibility: only for organization targets"),
        (18, "targets[5]: unknown key 'includes' (known: repository, organization, "
             "environment, type, visibility, repositories, include, exclude, rename, prune, "
             "name)"),
        (20, "targets[6].prune: must be true or false"),
        (21, "limits.concurrency: must be a whole number from 1 to 16"),
        (22, "top level: unknown key 'colour' (known: name, source, targets, prune, limits)"),
    ]  # fmt: skip


def test_duplicates_are_reported() -> None:
    problems = _problems(
        """
        source: {provider: doppler}
        targets:
          - repository: Owner/Repo
          - repository: owner/repo
          - repository: o/x
            name: same
          - repository: o/y
            name: same
          - repository: o/z
            rename: {A: X, B: x, A: Y}
        prune: true
        prune: false
        """
    )
    assert (5, "repo:owner/repo is a target twice (also line 4); merge the two entries") in problems
    assert (8, "target name same is used twice (also line 6); set name: on one") in problems
    assert (11, "targets[4].rename: two names are renamed to x") in problems
    assert (11, "targets[4].rename: A is renamed twice") in problems
    assert (13, "top level: prune is given twice") in problems


def test_missing_parts() -> None:
    assert _problems("prune: true\n") == [
        (1, "source: missing (e.g. {provider: doppler, project: P, config: C})"),
        (1, "targets: missing (a list of repositories/organizations)"),
    ]
    assert _problems("source: {provider: doppler}\ntargets: []\n") == [
        (2, "targets: must be a non-empty list")
    ]
    assert _problems("") == [(0, "the file is empty: give source and targets")]


def test_invalid_yaml_names_the_line() -> None:
    problems = _problems("source: {provider: doppler}\ntargets:\n  - repository: [o/r\n")
    assert problems[0][0] == 4
    assert problems[0][1].startswith("not valid YAML: ")


def test_the_message_is_one_line_naming_file_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "sync.yaml"
    path.write_text("source: {provider: doppler}\ntargets:\n  - organization: -bad-\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.message == (f"{path}:3: targets[0].organization: not an organization name")
    assert caught.value.path == str(path)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        load_config(tmp_path / "nope.yaml")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "no such file" in caught.value.message
