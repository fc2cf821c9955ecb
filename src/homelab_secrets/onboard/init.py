"""``homelab-secrets init``: every change planned first, then shown
(``--dry-run``) or made in a safe order.

Planning reads and never writes: the repository's files and git's view of
them, the key in the secrets manager (one is generated, in memory, when there
is none), the merged ``.sops.yaml``, every covered plaintext file encrypted
**and decrypted again** in memory, the pre-commit entry and the workflows.
A file that cannot be encrypted stops everything before anything changes.

The steps run from what the rest depends on to what depends on it: the key
into the manager (read back), the person's copy, ``.sops.yaml``, the files
(each checked again from disk; a moved file's plaintext removed only then),
``.gitignore``, the hook entry, the workflows.  A failure part-way leaves a
state the next run finishes: the stored key is found and reused, finished
files are SOPS files and skipped, written files compare equal.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.onboard import agekey, discover, finish, guard, localkey, presets, sopsyaml
from homelab_secrets.onboard.plan import Plan, Step, read_text, text_step

if TYPE_CHECKING:
    from homelab_secrets.onboard.keystore import KeyStore
    from homelab_secrets.onboard.seal import Sealed
    from homelab_secrets.sops.config import SopsConfig

#: how a dry run shows a key it has not generated for real
NEW_KEY = "<the new age public key>"


@dataclass(frozen=True)
class InitOptions:
    root: Path
    kinds: tuple[str, ...] = ()  #: empty: recognised from the files
    recipient: str = ""  #: use this public key; no key is generated or stored
    local_key: str = "none"  #: none | keychain | file
    local_item: str = ""  #: the keychain item (default <folder>/<key name>)
    platform: str | None = None  #: picks the keychain tool (default: this machine's)
    excludes: tuple[str, ...] = ()
    action: guard.ActionRef = field(default_factory=guard.ActionRef)
    branch: str = ""  #: default: origin's default branch, else the current one
    pre_commit: bool = True
    workflows: bool = True
    ci: guard.CIKey = field(default_factory=lambda: guard.CIKey("github"))


def sops_config(root: Path, text: str) -> SopsConfig:
    """``text`` loaded as sops would load it from ``root/.sops.yaml``."""
    from homelab_secrets.sops.config import load_config

    with tempfile.TemporaryDirectory(prefix="homelab-secrets-") as folder:
        probe = Path(folder, sopsyaml.NAME)
        probe.write_text(text, encoding="utf-8")
        config = load_config(str(probe))
    config.path = str(root / sopsyaml.NAME)
    discover.check_regexes(config)
    return config


def default_branch(root: Path) -> str:
    head = discover.git(root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD").strip()
    if head:
        return head.rsplit("/", 1)[-1]
    current = discover.git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    return current if current and current != "HEAD" else "main"


def plan(
    options: InitOptions, store: KeyStore | None, environ: Mapping[str, str], *, dry_run: bool
) -> Plan:
    """Every change ``init`` would make (see the module docstring)."""
    from homelab_secrets.onboard import seal

    root = options.root.resolve()
    options = dataclasses.replace(options, branch=options.branch or default_branch(root))
    files = discover.walk(root)
    git = discover.git_view(root, files)
    kinds = list(options.kinds) or presets.detect(files)
    if not kinds:
        raise UserError(
            f"{root}: could not tell what kind of repository this is (no *.tf, no Ansible "
            f"layout, no dotenv file): give --kind ({', '.join(presets.KINDS)})",
            ExitCode.USAGE,
        )
    pair, result = _key(options, store, kinds, root)
    if pair is not None and store is not None:
        _local_key(options, pair, result, store.name, environ)
    shown = NEW_KEY if result.key_source.startswith("new") and dry_run else result.recipient

    original = read_text(root / sopsyaml.NAME)
    merged = sopsyaml.merge(original, presets.rules_for(kinds), result.recipient)
    result.manual.extend(merged.manual)
    config = sops_config(root, merged.text)
    if merged.changed:
        what = ", ".join(
            [f"{len(merged.added)} rule(s) added"] * bool(merged.added)
            + [f"the CI key added to {', '.join(merged.extended)}"] * bool(merged.extended)
        )
        step = text_step(
            f"write {sopsyaml.NAME}: {what}", root, sopsyaml.NAME, original, merged.text
        )
        step.diff = step.diff.replace(result.recipient, shown)
        result.steps.append(step)

    found, result.skipped = discover.candidates(root, files, config, git, options.excludes)
    identities = agekey.loader([pair]) if pair else agekey.loader([], environ)
    failures = []
    for candidate in found:
        try:
            result.sealed.append(seal.seal(root, candidate, config, identities))
        except UserError as exc:
            failures.append(exc.message)
    if failures:
        raise UserError(
            f"nothing was changed: {len(failures)} file(s) cannot be encrypted: "
            + "; ".join(failures)
            + " (fix them, or leave them out with --exclude)",
            ExitCode.ERROR_ENCRYPTING_TREE,
        )
    for sealed in result.sealed:
        c = sealed.candidate
        where = f"{c.source} -> {c.target} ({c.why})" if c.moved else f"{c.source} in place"
        result.steps.append(
            Step(f"encrypt {where}", _file_writer(root, sealed, config, identities))
        )

    if git.is_repo:
        finish.gitignore(root, git, result)
    elif result.sealed:
        result.manual.append(f"{root} is not a git work tree: keep the encrypted files in one")
    tracked = [s.candidate.source for s in result.sealed if s.candidate.tracked]
    if tracked:
        result.manual.append(
            "these files were committed in clear before, so their values stay in the git "
            "history: change those secrets (and rewrite the history if it is shared): "
            + ", ".join(tracked)
        )
    existing = discover.sops_files(root, files)
    _not_for_ci(root, existing, result)
    finish.guard_steps(options, root, existing, result)
    finish.remaining(options, store.scope() if store else "", result)
    return result


def _not_for_ci(root: Path, existing: list[str], result: Plan) -> None:
    """SOPS files CI could not open (not wrapped for its key): a manual step."""
    from homelab_secrets.rekey.rewrap import recipients
    from homelab_secrets.sops.stores import format_for_path

    lacking = []
    for rel in existing:
        try:
            groups = recipients((root / rel).read_bytes(), format_for_path(rel))
        except UserError:
            continue
        if not any(result.recipient in group for group in groups):
            lacking.append(rel)
    if lacking:
        result.manual.append(
            "these SOPS files are not wrapped for the CI key, so CI cannot decrypt them: with "
            "their key at hand, `homelab-secrets rekey` re-wraps them for the .sops.yaml "
            "rules: " + ", ".join(lacking)
        )


def _file_writer(
    root: Path, sealed: Sealed, config: SopsConfig, identities: Any
) -> Callable[[], None]:
    from homelab_secrets.onboard import seal

    return lambda: seal.write(root, sealed, config, identities)


def _key(
    options: InitOptions, store: KeyStore | None, kinds: list[str], root: Path
) -> tuple[agekey.KeyPair | None, Plan]:
    """The key pair (None with a given public key), and a plan started with
    the step that stores a new one."""
    if options.recipient:
        recipient = agekey.parse_recipient(options.recipient)
        if options.local_key != "none":
            raise UserError(
                "--local-key keeps a key init generates (or finds in the manager); with "
                "--age-recipient the private key is yours already",
                ExitCode.USAGE,
            )
        result = Plan(root, kinds, recipient, "given with --age-recipient")
        existing = store.read() if store is not None else None
        if (
            store is not None
            and existing is not None
            and recipient not in {p.recipient for p in agekey.parse(existing, store.describe())}
        ):
            result.manual.append(
                f"{store.describe()} holds another key than {recipient}: CI could not "
                "decrypt these files; store the matching private key there"
            )
        return None, result
    if store is None:
        raise UserError(
            "init needs a secrets manager to keep the new key (--provider doppler|infisical "
            "and its credentials), or --age-recipient with a public key whose private key "
            "you keep",
            ExitCode.USAGE,
        )
    existing = store.read()
    if existing is None:
        pair = agekey.KeyPair.generate()
        result = Plan(root, kinds, pair.recipient, f"new, stored as {store.describe()}")
        text = agekey.single_text(pair)
        title = f"store the new age private key as {store.describe()} (read back)"
        result.steps.append(Step(title, lambda: store.write(text)))
        return pair, result
    if agekey.in_rotation(existing):
        raise UserError(
            f"{store.describe()} holds a key rotation under way: finish it first with "
            "`homelab-secrets rekey --new-age-key`",
            ExitCode.USAGE,
        )
    pairs = agekey.parse(existing, store.describe())
    if not pairs:
        raise UserError(f"{store.describe()} holds no age key", ExitCode.COULD_NOT_RETRIEVE_KEY)
    return pairs[0], Plan(root, kinds, pairs[0].recipient, f"found as {store.describe()}")


def _local_key(
    options: InitOptions,
    pair: agekey.KeyPair,
    result: Plan,
    key_name: str,
    environ: Mapping[str, str],
) -> None:
    """The step that keeps the person's copy (``--local-key``), if needed."""
    text = pair.secret_text()
    if options.local_key == "keychain":
        kind = localkey.backend(options.platform)
        item = options.local_item or localkey.default_item(result.root, key_name)
        result.key_cmd = localkey.key_cmd(kind, item)
        current = localkey.keychain_read(kind, item, environ)
        if current is None:
            title = (
                f"store your copy in the {localkey.KEYCHAINS[kind]} as {localkey.SERVICE}/{item}"
            )
            result.steps.append(
                Step(title, lambda: localkey.keychain_store(kind, item, text, environ))
            )
        elif not agekey.same(current, text):
            raise UserError(
                f"the keychain item {localkey.SERVICE}/{item} holds another value: remove it, "
                "or choose another item with --local-key-name",
                ExitCode.USAGE,
            )
    elif options.local_key == "file":
        path = localkey.keys_file_path(environ)
        if not localkey.keys_file_has(path, text):
            note = f"homelab-secrets init, {result.root.name}"

            def add() -> None:
                localkey.keys_file_add(path, text, pair.recipient, note)

            result.steps.append(Step(f"add your copy to sops' keys file {path} (0600)", add))
