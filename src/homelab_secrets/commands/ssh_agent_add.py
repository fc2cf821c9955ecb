"""``homelab-secrets ssh-agent-add``: load an SSH private key from an
environment variable into an ssh-agent, every line masked first.

``--start`` starts an agent and, with ``--gha``, exports ``SSH_AUTH_SOCK`` and
``SSH_AGENT_PID`` to the job's later steps; stop it with ``ssh-agent -k`` at
the end.  ``--unset`` (with ``--gha``) blanks the variable for later steps,
so only the agent holds the key.  The key reaches ``ssh-add`` on its
standard input, never a file or a command line.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys

from homelab_secrets import gha
from homelab_secrets.errors import ExitCode, UserError

NAME = "ssh-agent-add"
HELP = "load an SSH key from an environment variable into ssh-agent (every line masked first)"

_AGENT_VAR = re.compile(r"(SSH_AUTH_SOCK|SSH_AGENT_PID)=([^;\n]+);")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from-env", required=True, metavar="NAME", help="the variable holding the private key"
    )
    parser.add_argument("--start", action="store_true", help="start an ssh-agent first")
    parser.add_argument(
        "--unset", action="store_true", help="blank the variable for the job's later steps"
    )
    parser.add_argument("--gha", action="store_true", help="export the agent to later steps")


def _start_agent() -> dict[str, str]:
    """A new agent (its socket in a fresh 0700 folder ssh-agent makes under
    $TMPDIR: a socket path must stay short); its variables."""
    try:
        proc = subprocess.run(
            ["ssh-agent", "-s"],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UserError(f"could not start ssh-agent ({type(exc).__name__})") from None
    found = dict(_AGENT_VAR.findall(proc.stdout))
    if proc.returncode != 0 or "SSH_AUTH_SOCK" not in found:
        reason = (proc.stderr.strip().splitlines() or [""])[0][:200]
        raise UserError(f"could not start ssh-agent (exit {proc.returncode}) {reason}".rstrip())
    return found


def run(args: argparse.Namespace) -> int:
    with gha.annotate_failures("ssh-agent") if args.gha else contextlib.nullcontext():
        key = os.environ.get(args.from_env, "")
        if args.gha and key:
            gha.mask_all([gha.Secret(args.from_env, key, frozenset({"json"}))])
        if not key.strip():
            raise UserError(f"${args.from_env} is empty: no SSH key to load", ExitCode.USAGE)
        if args.start:
            agent = _start_agent()
            os.environ.update(agent)
            if args.gha:
                for name, value in agent.items():
                    gha.set_env(name, value, secret=False)
        if not os.environ.get("SSH_AUTH_SOCK"):
            raise UserError("no ssh-agent: SSH_AUTH_SOCK is not set (use --start)", ExitCode.USAGE)
        text = key.replace("\r\n", "\n").strip() + "\n"
        try:
            proc = subprocess.run(
                ["ssh-add", "-q", "-"],
                input=text,
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UserError(f"could not run ssh-add ({type(exc).__name__})") from None
        if proc.returncode != 0:
            raise UserError(
                f"ssh-add refused the key in ${args.from_env} (exit {proc.returncode}): is it an "
                "unencrypted OpenSSH/PEM private key?"
            )
        if args.unset and args.gha:
            gha.set_env(args.from_env, "", secret=False)
    sys.stderr.write(f"loaded the SSH key from ${args.from_env} into the agent\n")
    return 0
