"""The world the sync tests run in: the fake GitHub served on 127.0.0.1 (real
PyGithub talks to it over a socket), a fake clock for every wait (no test
really sleeps for a rate limit), and one call to run a sync."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from fakes import serve
from fakes.github import FakeGitHub
from homelab_secrets.sync.config import SyncConfig, parse_config
from homelab_secrets.sync.github import TargetClient, connect
from homelab_secrets.sync.ratelimit import RetryPolicy, Throttle
from homelab_secrets.sync.runner import Sync, SyncReport
from support.clock import FakeClock

KEY = b"sync-key-for-tests-only-0123456789abcdef"
TOKEN = "github_pat_11TESTONLY0123456789_abcdefghijklmnopqrstuvwxyz"
SOURCE = "doppler iac-conf-mgmt/prd"

#: Waits as in production (a minute for a secondary limit), on a fake clock.
POLICY = RetryPolicy(attempts=6, base_delay=1.0, max_delay=60.0, secondary_wait=60.0)

#: Values with what makes masking and quoting hard: newlines, JSON, quotes, %.
VALUES = {
    "PROXMOX_VE_ENDPOINT": "https://pve.lab.example:8006/",
    "PROXMOX_VE_PASSWORD": "p@ss w0rd 'quoted' \"double\" 100%",
    "SPLUNK_HEC_TOKEN": "hec-0b9c2f7e-Secret-41",
    "SPLUNK_PASSWORD": "splunk-Secret-77",
    "TLS_KEY": "-----BEGIN PRIVATE KEY-----\nMIIEvTestOnlySecret\n-----END PRIVATE KEY-----\n",
    "JSON_BLOB": '{"user": "svc", "key": "k3y-in-json-Secret"}',
}

ISSUE_CONFIG = """
source: { provider: doppler, project: iac-conf-mgmt, config: prd }
targets:
  - repository: owner/terraform-proxmox
    include: ["PROXMOX_VE_*", "SPLUNK_*"]
    exclude: []
    rename: { SPLUNK_HEC_TOKEN: HEC_TOKEN }
  - repository: owner/ansible-splunk
    environment: production
  - repository: owner/ansible-proxmox
    type: dependabot
  - organization: owner
    visibility: selected
    repositories: [terraform-proxmox, ansible-proxmox]
prune: false
"""


@dataclass
class World:
    github: FakeGitHub
    url: str
    clock: FakeClock = field(default_factory=FakeClock)
    last: Throttle | None = None

    def config(self, text: str = ISSUE_CONFIG) -> SyncConfig:
        return parse_config(textwrap.dedent(text), "sync.yaml")

    def run(
        self,
        config: SyncConfig | str = ISSUE_CONFIG,
        values: Mapping[str, str] = VALUES,
        *,
        dry_run: bool = False,
        targets: tuple[str, ...] = (),
        key: bytes = KEY,
        token: str = TOKEN,
        source: str = SOURCE,
        writes_per_minute: int = 0,
        max_writes: int = 10_000,
        policy: RetryPolicy = POLICY,
    ) -> SyncReport:
        if isinstance(config, str):
            config = self.config(config)
        throttle = Throttle(
            writes_per_minute=writes_per_minute,
            max_writes=max_writes,
            policy=policy,
            clock=self.clock,
        )
        self.last = throttle
        sync = Sync(
            config,
            values=values,
            source=source,
            key=key,
            clients=lambda t: TargetClient(
                connect(self.url, token, timeout=10), t, throttle, token
            ),
        )
        try:
            return sync.run(targets, dry_run=dry_run)
        finally:
            sync.close()

    def state(self, repository: str = "", organization: str = "", suffix: str = "") -> str | None:
        name = "HOMELAB_SECRETS_SYNC_STATE" + suffix
        return self.github.variable(repository=repository, organization=organization, name=name)


def estate(github: FakeGitHub) -> FakeGitHub:
    """The repositories, environment and organization of the issue's example."""
    for repo in ("owner/terraform-proxmox", "owner/ansible-splunk", "owner/ansible-proxmox"):
        github.add_repo(repo)
    github.add_environment("owner/ansible-splunk", "production")
    github.add_org("owner")
    github.add_repo("owner/unrelated")
    github.add_token(TOKEN)
    return github


@contextmanager
def world(latency: float = 0.0) -> Iterator[World]:
    github = estate(FakeGitHub(latency=latency))
    with serve(github) as url:
        yield World(github, url)
