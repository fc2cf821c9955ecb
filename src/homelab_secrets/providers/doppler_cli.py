"""Local use without ``DOPPLER_TOKEN``: the person's Doppler CLI login and
directory scope, asked from the installed ``doppler`` CLI.

The roadmap's local flow: ``doppler login`` once (a token scoped to ``/``),
``doppler setup`` once at the bare repository root (project and config scoped
to that directory), and every worktree below it inherits both. The CLI keeps
this in ``<config dir>/.doppler.yaml`` (``scoped: {<dir>: {token,
enclave.project, enclave.config, api-host, verify-tls}}``), the token often
in the system keyring instead, and resolves it per directory: of the scopes
that are the directory or one of its parents, the longest that sets an
option wins.

Rather than re-implementing that (and the keyring), :func:`read_cli_login`
runs, in the directory::

    doppler configure debug --json --no-read-env --no-check-version [--config-dir DIR]

``configure debug`` prints the options that apply there, grouped by the
scope each came from, with the token resolved from the keyring. With
``--no-read-env`` the CLI ignores ``DOPPLER_*`` variables, so the answer is
the login and the directory setup only (the caller decides how
``DOPPLER_PROJECT`` or a ``--project`` option override it) and every scope
named is a real directory of the setup; it also ignores
``DOPPLER_CONFIG_DIR``, so the caller passes that as ``config_dir``.
``--no-check-version`` and a captured (non-terminal) stdout keep the CLI
from looking for updates; nothing it prints reaches the user.

The token stays in :class:`CliLogin` (never printed, not in its repr);
messages name directories, the project and the config only.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from homelab_secrets.errors import ExitCode, UserError

DEFAULT_API_HOST = "https://api.doppler.com"
CONFIG_FILE = ".doppler.yaml"


class NoCliLogin(UserError):
    """No usable Doppler CLI login here: no CLI, or it has no token for the
    directory. The caller may say how else to give a token."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.USAGE)


@dataclass(frozen=True, repr=False)
class CliLogin:
    """What the Doppler CLI would use in one directory.

    ``*_scope`` is the directory of the CLI setup each value came from
    (``/`` for a global login, or a default such as the API host).
    """

    token: str
    token_scope: str
    api_host: str
    verify_tls: bool
    project: str | None
    project_scope: str | None
    config: str | None
    config_scope: str | None

    def describe(self) -> str:
        """``project homelab, config prd (Doppler CLI setup of /srv/homelab.git)``."""
        if not self.project and not self.config:
            return f"no project or config (Doppler CLI login of {self.token_scope})"
        scopes = sorted({s for s in (self.project_scope, self.config_scope) if s})
        return (
            f"project {self.project or '(none)'}, config {self.config or '(none)'} "
            f"(Doppler CLI setup of {', '.join(scopes)})"
        )

    def __repr__(self) -> str:
        return (
            f"CliLogin(token_scope={self.token_scope!r}, api_host={self.api_host!r}, "
            f"project={self.project!r}, config={self.config!r}, "
            f"project_scope={self.project_scope!r}, config_scope={self.config_scope!r})"
        )


def read_cli_login(
    directory: str | os.PathLike[str] | None = None,
    *,
    executable: str = "doppler",
    config_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 20.0,
) -> CliLogin:
    """The Doppler CLI's login and scope for ``directory`` (default: the
    current one), from ``executable``'s configuration in ``config_dir``
    (default: the CLI's own, ``~/.doppler``). ``env`` is the CLI's
    environment (default: ours; it needs HOME, and the keyring's session
    variables when the token lives there).

    Raises :class:`NoCliLogin` when there is no CLI or no token for the
    directory, :class:`UserError` when the CLI fails.
    """
    where = Path(directory) if directory is not None else None
    if where is not None and not where.is_dir():
        raise UserError(f"Doppler CLI: {where} is not a directory", ExitCode.USAGE)
    argv = [executable, "configure", "debug", "--json", "--no-read-env", "--no-check-version"]
    if config_dir is not None:
        if not (Path(config_dir) / CONFIG_FILE).is_file():
            # no config file, no login; and running the CLI would create one
            raise NoCliLogin(
                f"Doppler CLI: no login ({Path(config_dir) / CONFIG_FILE} does not exist): "
                "run `doppler login`, or give a token"
            )
        argv += ["--config-dir", os.fspath(config_dir)]
    try:
        proc = subprocess.run(
            argv,
            cwd=where,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise NoCliLogin(
            f"Doppler CLI: `{executable}` was not found; install the Doppler CLI and run "
            "`doppler login` and `doppler setup`, or give a token"
        ) from None
    except PermissionError:
        raise NoCliLogin(f"Doppler CLI: `{executable}` cannot be run (permission denied)") from None
    except subprocess.TimeoutExpired:
        raise UserError(
            f"Doppler CLI: `doppler configure debug` did not answer within {timeout:.0f} s "
            "(is the system keyring waiting to be unlocked?)"
        ) from None
    if proc.returncode != 0:
        # its message is not repeated: third-party text, and it may quote config
        raise UserError(
            f"Doppler CLI: could not read its configuration (`doppler configure debug` exited "
            f"{proc.returncode}); run `doppler configure debug` to see why"
        )
    try:
        scoped = json.loads(proc.stdout)
    except ValueError:
        scoped = None
    if not isinstance(scoped, dict) or not all(isinstance(v, dict) for v in scoped.values()):
        raise UserError(
            "Doppler CLI: `doppler configure debug --json` printed something else than its "
            "scoped options; is this the Doppler CLI (version 3)?"
        )
    options: dict[str, tuple[str, str]] = {}  # option -> (value, scope)
    for scope, pairs in scoped.items():
        for name, value in pairs.items():
            if isinstance(value, str) and value and isinstance(scope, str):
                options[name] = (value, scope)
    here = os.fspath(where) if where is not None else "the current directory"
    token, token_scope = options.get("token", ("", ""))
    if not token:
        raise NoCliLogin(
            f"Doppler CLI: no login applies to {here}: run `doppler login`, or give a token"
        )

    def option(name: str) -> tuple[str | None, str | None]:
        value, scope = options.get(name, ("", ""))
        return (value, scope) if value else (None, None)

    project, project_scope = option("enclave.project")
    config, config_scope = option("enclave.config")
    api_host, _ = option("api-host")
    verify, _ = option("verify-tls")
    return CliLogin(
        token=token,
        token_scope=token_scope,
        api_host=api_host or DEFAULT_API_HOST,
        verify_tls=(verify or "true").lower() != "false",
        project=project,
        project_scope=project_scope,
        config=config,
        config_scope=config_scope,
    )
