"""``homelab-secrets plan-keygen``: a key pair for sealing saved plans.

The public key goes into the caller workflow (``plan-public-key``, not a
secret); the private key into the secret ``PLAN_PRIVATE_KEY`` that only the
apply job sees (best: a secret of the protected environment).  age by
default (``age1...`` / ``AGE-SECRET-KEY-1...``, readable by the ``age`` CLI);
``--scheme sealedbox`` for a libsodium sealed-box pair (base64).
"""

from __future__ import annotations

import argparse
import sys

NAME = "plan-keygen"
HELP = "make a key pair for sealing saved plans (plan-public-key / PLAN_PRIVATE_KEY)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheme", choices=("age", "sealedbox"), default="age")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the private key to FILE (0600, never overwritten) and print the public "
        "key; without it the private key goes to stdout and the public key to stderr",
    )


def run(args: argparse.Namespace) -> int:
    import os

    from homelab_secrets.errors import ExitCode, UserError
    from homelab_secrets.workflows.bundle import generate_keypair

    public, private = generate_keypair(args.scheme)
    text = f"# homelab-secrets plan key ({args.scheme}); public key: {public}\n{private}\n"
    if args.output:
        try:
            fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise UserError(
                f"{args.output} exists: refusing to overwrite a key",
                ExitCode.COULD_NOT_WRITE_OUTPUT_FILE,
            ) from None
        except OSError as exc:
            raise UserError(
                f"could not write {args.output}: {exc.strerror}",
                ExitCode.COULD_NOT_WRITE_OUTPUT_FILE,
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        sys.stdout.write(public + "\n")
    else:
        sys.stderr.write(f"Public key: {public}\n")
        sys.stdout.write(text)
    return 0
