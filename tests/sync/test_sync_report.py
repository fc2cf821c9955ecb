"""What a run shows: the table, the summary, the progress bar; and that no
repr, message or report of any object holding values shows one."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from nacl.public import PrivateKey
from sync_world import KEY, VALUES, World, world

from fakes import Fault
from homelab_secrets import gha
from homelab_secrets.sync.github import PublicKey, TargetClient, connect, seal
from homelab_secrets.sync.ratelimit import Throttle
from homelab_secrets.sync.report import Progress, render_text, summary_markdown
from homelab_secrets.sync.runner import Sync

REPO_ONLY = "source: {provider: doppler}\ntargets:\n  - repository: owner/terraform-proxmox\n"


@pytest.fixture
def w() -> Iterator[World]:
    with world() as it:
        yield it


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal() -> None:
    log = io.StringIO()
    quiet = Progress(log)
    quiet(1, 2)
    quiet.close()
    assert log.getvalue() == ""
    tty = _Terminal()
    bar = Progress(tty)
    bar(1, 4)
    bar(4, 4)
    bar.close()
    assert tty.getvalue() == (
        "\rsync: [########......................] 1/4 writes"
        "\rsync: [##############################] 4/4 writes\n"
    )
    assert Progress(_Terminal(), enabled=False).enabled is False


def test_failures_show_in_the_table_and_the_summary(w: World) -> None:
    w.github.inject(
        Fault.error(422, {"message": "no"}),
        method="PUT",
        path="/repos/owner/terraform-proxmox/actions/secrets/TLS_KEY",
    )
    report = w.run(REPO_ONLY)
    text = render_text(report)
    assert "add    TLS_KEY              could not write TLS_KEY: HTTP 422 [FAILED]" in text
    assert "add    JSON_BLOB            new [done]" in text
    summary = summary_markdown(report, gha.md_table)
    assert "| TLS\\_KEY | add | FAILED | could not write TLS\\_KEY: HTTP 422 |" in summary
    for value in VALUES.values():
        for line in value.splitlines():
            assert line.strip() not in text
            assert line.strip() not in summary


def test_problems_are_in_the_summary(w: World) -> None:
    report = w.run(REPO_ONLY, values={**VALUES, "GITHUB_X": "v-Secret"})
    summary = summary_markdown(report, gha.md_table)
    assert "**1 problem(s) found before writing: nothing was written to any target.**" in summary
    assert "| repo:owner/terraform-proxmox | GITHUB\\_X: must not start with GITHUB\\_" in summary


def test_no_repr_shows_a_value(w: World) -> None:
    config = w.config(REPO_ONLY)
    throttle = Throttle(writes_per_minute=0)
    sync = Sync(
        config,
        values=VALUES,
        source="doppler p/c",
        key=KEY,
        clients=lambda t: TargetClient(connect(w.url, "github_pat_x"), t, throttle, "github_pat_x"),
    )
    report = sync.run(dry_run=True)
    client = sync.client(config.targets[0])
    key = PublicKey("1", bytes(PrivateKey.generate().public_key))
    objects: list[object] = [
        sync,
        report,
        *report.runs,
        report.runs[0].selection,
        client,
        key,
        seal(key, VALUES["SPLUNK_PASSWORD"]),
        *report.problems,
    ]
    sync.close()
    shown = "\n".join(repr(o) for o in objects) + "\n".join(str(o) for o in objects)
    for value in [*VALUES.values(), KEY.decode(), "github_pat_x"]:
        for line in value.splitlines():
            assert line.strip() not in shown
