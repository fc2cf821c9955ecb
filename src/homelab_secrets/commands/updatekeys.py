"""``homelab-secrets updatekeys FILE``: re-wrap the data key for the recipients
the matching ``.sops.yaml`` rule now lists (values are not re-encrypted)."""

from __future__ import annotations

import argparse
import sys

from homelab_secrets.commands import _sops
from homelab_secrets.errors import ExitCode, UserError, about

NAME = "updatekeys"
HELP = "sync a file's recipients with its .sops.yaml creation rule (like `sops updatekeys`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    parser.add_argument(
        "--input-type", choices=_sops.FORMATS, help="format of FILE (default: from its extension)"
    )
    parser.add_argument(
        "--shamir-secret-sharing-threshold",
        type=int,
        metavar="N",
        help="number of key groups needed to decrypt (default: the file's)",
    )
    parser.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="accepted for sops compatibility; changes are never prompted for",
    )
    _sops.add_config_option(parser)


def _names(group: list) -> list[str]:  # type: ignore[type-arg]
    from homelab_secrets.sops.metadata import AgeKey

    return [k.recipient if isinstance(k, AgeKey) else f"{k.type}:{k.name}" for k in group]


def run(args: argparse.Namespace) -> int:
    with about(args.file):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.config import store_options
    from homelab_secrets.sops.metadata import AgeKey, MasterKey, Metadata
    from homelab_secrets.sops.stores import format_for_path, get_store

    path = args.file
    data = _sops.read_input(path)
    fmt = args.input_type or format_for_path(path)
    lookup = _sops.load_sops_config(args.config)
    if lookup.config is None:
        raise UserError(
            "updatekeys needs a .sops.yaml with a creation rule for the file "
            "(none found from the current directory)",
            ExitCode.CONFIG_FILE_NOT_FOUND,
        )
    rule = lookup.config.rule_for(path)
    if rule is None:
        raise UserError(
            f"{lookup.config.path} has no creation_rules", ExitCode.CONFIG_FILE_NOT_FOUND
        )
    branches, metadata = engine.load_encrypted(data, fmt)
    old_groups, new_groups = metadata.key_groups, rule.key_groups
    changed = False
    for i in range(max(len(old_groups), len(new_groups))):
        old = set(_names(old_groups[i])) if i < len(old_groups) else set()
        new = _names(new_groups[i]) if i < len(new_groups) else []
        if old != set(new):
            changed = True
        sys.stderr.write(f"Group {i + 1}\n")
        for name in new:
            sys.stderr.write(("    " if name in old else "+++ ") + name + "\n")
        for name in sorted(old - set(new)):
            sys.stderr.write(f"--- {name}\n")
    threshold = args.shamir_secret_sharing_threshold
    if not changed and (threshold is None or threshold == metadata.shamir_threshold):
        sys.stderr.write(f"File {path} already up to date\n")
        return 0

    data_key = engine.recover_data_key(metadata, engine.environment_identities())
    fresh: list[list[MasterKey]] = []
    for group in new_groups:
        fresh.append([AgeKey(k.recipient) if isinstance(k, AgeKey) else k for k in group])
    metadata.key_groups = fresh
    if threshold:
        metadata.shamir_threshold = threshold
    metadata.shamir_threshold = min(metadata.shamir_threshold, len(fresh))
    if len(fresh) == 1:
        metadata.shamir_threshold = 0
        # Keys we cannot wrap (kms, pgp, …) stay valid while the data key is unchanged.
        previous = {_names([k])[0]: k for g in old_groups for k in g if not isinstance(k, AgeKey)}
        fresh[0] = [previous.get(_names([k])[0], k) for k in fresh[0]]
        for key in fresh[0]:
            if not isinstance(key, AgeKey) and not key.fields.get("enc"):
                raise UserError(
                    f"cannot add {key.type} key {key.name}: homelab-secrets wraps data keys "
                    "for age recipients only",
                    ExitCode.ERROR_GENERIC,
                )
        only_age: list[list[MasterKey]] = [[k for k in fresh[0] if isinstance(k, AgeKey)]]
        engine.wrap_data_key(data_key, Metadata(key_groups=only_age))
    else:
        engine.wrap_data_key(data_key, metadata)
    store = get_store(fmt, **store_options(fmt, lookup.config))
    output = store.emit_encrypted(branches, metadata.to_branch())
    _sops.emit(output, output=None, in_place_path=path, private=False)
    sys.stderr.write(f"File {path} synced with new keys\n")
    return 0
