"""``rekey`` over a repository: planned, then done in an order that keeps CI
able to decrypt at every moment.

Plain ``rekey``: every SOPS file (or the files named) gets a new data key,
wrapped for the recipients its ``.sops.yaml`` rule lists now (its own when
no rule covers it).

``--new-age-key`` (the key lives in a secrets manager, see
:mod:`homelab_secrets.onboard.agekey`):

1. a new pair is generated and stored **next to** the old key (the
   rotation form: a marker line, the new identity, the old one), read back.
   CI reads the whole secret, so from here on it opens files wrapped for
   either key;
2. ``.sops.yaml``: the old recipient becomes the new one in every rule;
3. every file re-keyed for its rule's recipients (the new key, no longer
   the old) and proven to open with the new key alone before it is written;
4. your copy (``--local-key``) gets the new key;
5. ``--retire-old-key`` (now, or after the change is merged, when no branch
   needs the old key any more): once no file lists the old recipient, the
   manager keeps the new key alone.

A failure part-way leaves every file wrapped for the old or the new key,
both of which CI holds; the next ``rekey --new-age-key`` finds the rotation
form, keeps the same new key, and re-keys only the files that still list
an old recipient.  A file that fails is reported by name and the others go
on; the old key is never retired while any file still needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homelab_secrets.errors import ExitCode, UserError, about
from homelab_secrets.onboard import agekey, discover, localkey, sopsyaml
from homelab_secrets.onboard.plan import Step, read_text, text_step

if TYPE_CHECKING:
    from homelab_secrets.onboard.keystore import KeyStore
    from homelab_secrets.sops.config import SopsConfig


@dataclass(frozen=True)
class RekeyOptions:
    root: Path
    files: tuple[str, ...] = ()  #: default: every SOPS file under root
    new_key: bool = False
    retire: bool = False
    local_key: str = "none"
    local_item: str = ""
    platform: str | None = None


@dataclass
class RekeyPlan:
    root: Path
    steps: list[Step] = field(default_factory=list)
    file_steps: list[Step] = field(default_factory=list)
    final_steps: list[Step] = field(default_factory=list)
    new_recipient: str = ""
    old_recipients: list[str] = field(default_factory=list)
    resumed: bool = False
    manual: list[str] = field(default_factory=list)
    key_cmd: str = ""

    def all_steps(self) -> list[Step]:
        return [*self.steps, *self.file_steps, *self.final_steps]


def _files(options: RekeyOptions, root: Path) -> list[str]:
    if not options.files:
        return discover.sops_files(root, discover.walk(root))
    out = []
    for name in options.files:
        path = Path(name) if Path(name).is_absolute() else Path.cwd() / name
        try:
            out.append(path.resolve().relative_to(root).as_posix())
        except ValueError:
            raise UserError(f"{name}: not under {root}", ExitCode.USAGE) from None
        if not path.is_file():
            raise UserError(f"{name}: no such file", ExitCode.NO_FILE_SPECIFIED)
    return out


def _config(root: Path, text: str | None) -> SopsConfig | None:
    from homelab_secrets.onboard.init import sops_config

    return sops_config(root, text) if text is not None else None


def plan(options: RekeyOptions, store: KeyStore | None, environ: Mapping[str, str]) -> RekeyPlan:
    root = options.root.resolve()
    result = RekeyPlan(root)
    pairs: list[agekey.KeyPair] = []
    new: agekey.KeyPair | None = None
    if options.new_key or options.retire:
        if store is None:
            raise UserError(
                "a new key (or retiring the old one) needs the secrets manager CI reads it "
                "from: --provider doppler|infisical and its credentials",
                ExitCode.USAGE,
            )
        value = store.read()
        if value is None:
            raise UserError(
                f"there is no {store.describe()}: run `homelab-secrets init` first",
                ExitCode.COULD_NOT_RETRIEVE_KEY,
            )
        pairs = agekey.parse(value, store.describe())
        rotating = agekey.in_rotation(value)
        if rotating:
            new, result.resumed = pairs[0], True
            result.old_recipients = [p.recipient for p in pairs[1:]]
        elif options.new_key:
            new = agekey.KeyPair.generate()
            result.old_recipients = [p.recipient for p in pairs]
            text = agekey.rotation_text(new, pairs)
            result.steps.append(
                Step(
                    f"store the new age key next to the old one as {store.describe()} "
                    "(CI opens files wrapped for either)",
                    lambda: store.write(text),
                )
            )
            pairs = [new, *pairs]
        if new is not None:
            result.new_recipient = new.recipient
        elif options.retire:
            result.manual.append(
                f"{store.describe()} holds no rotation under way: nothing to retire"
            )
    elif store is not None:
        value = store.read()
        pairs = agekey.parse(value, store.describe()) if value else []

    config_text = read_text(root / sopsyaml.NAME)
    if new is not None and config_text is not None and options.new_key:
        changed = config_text
        for old in result.old_recipients:
            changed = sopsyaml.replace_recipient(changed, old, new.recipient)
        if changed != config_text:
            title = f"{sopsyaml.NAME}: the old recipient replaced by {new.recipient}"
            result.steps.append(text_step(title, root, sopsyaml.NAME, config_text, changed))
            config_text = changed
    config = _config(root, config_text)
    identities = agekey.loader(pairs, environ)
    only_new = agekey.loader([new]) if new is not None else None
    for rel in _files(options, root) if options.new_key or not options.retire else []:
        step = _file_step(root, rel, config, identities, only_new, result, options.new_key)
        if step is not None:
            result.file_steps.append(step)
    if new is not None and options.new_key:
        _local(options, new, result, store.name if store else "", environ)
    if store is not None and new is not None:
        if options.retire:
            result.final_steps.append(_retire(root, store, new, result))
        else:
            result.manual.append(
                f"{store.describe()} keeps the old key next to the new one, so CI can still "
                "decrypt branches not rebased on this change. Once it is merged, run "
                "`homelab-secrets rekey --retire-old-key` to drop the old key"
            )
    return result


def _file_step(
    root: Path,
    rel: str,
    config: SopsConfig | None,
    identities: Any,
    only_new: Any,
    result: RekeyPlan,
    new_key: bool,
) -> Step | None:
    from homelab_secrets.rekey import rewrap
    from homelab_secrets.sops.config import ConfigError
    from homelab_secrets.sops.stores import format_for_path

    path = root / rel
    fmt = format_for_path(rel)
    data = path.read_bytes()
    with about(rel):
        current = rewrap.recipients(data, fmt)
    rule = None
    if config is not None:
        try:
            rule = config.rule_for(str(path))
        except ConfigError:
            rule = None
    groups = rule.key_groups if rule is not None else None
    if groups is not None:
        wanted = rewrap.names(groups)
    else:
        old = set(result.old_recipients)
        wanted = [[result.new_recipient if r in old else r for r in g] for g in current]
        if wanted != current:
            from homelab_secrets.sops.metadata import AgeKey

            groups = [[AgeKey(r) for r in g] for g in wanted]
    now = {r for g in current for r in g}
    then = {r for g in wanted for r in g}
    if result.resumed and new_key and not now & set(result.old_recipients):
        return None  # finished by the run that failed
    change = "".join(
        [f" +{r}" for r in sorted(then - now)] + [f" -{r}" for r in sorted(now - then)]
    )
    verify = only_new if only_new is not None and result.new_recipient in then else None
    threshold = (rule.shamir_threshold or None) if rule is not None else None

    def run() -> None:
        from homelab_secrets.fsutil import write_atomic

        with about(rel):
            if path.read_bytes() != data:
                raise UserError("changed while rekey was running: run rekey again")
            out = rewrap.rekey(
                data,
                fmt,
                identities=identities,
                groups=groups,
                threshold=threshold,
                config=config,
                verify_with=verify,
            )
            write_atomic(str(path), out, mode=None)

    return Step(f"re-key {rel}: a new data key{change}", run)


def _local(
    options: RekeyOptions,
    new: agekey.KeyPair,
    result: RekeyPlan,
    key_name: str,
    environ: Mapping[str, str],
) -> None:
    text = new.secret_text()
    if options.local_key == "keychain":
        kind = localkey.backend(options.platform)
        item = options.local_item or localkey.default_item(result.root, key_name)
        result.key_cmd = localkey.key_cmd(kind, item)
        current = localkey.keychain_read(kind, item, environ)
        if current is None or not agekey.same(current, text):
            title = f"your copy in the {localkey.KEYCHAINS[kind]} ({localkey.SERVICE}/{item})"
            result.final_steps.append(
                Step(title, lambda: localkey.keychain_store(kind, item, text, environ))
            )
    elif options.local_key == "file":
        path = localkey.keys_file_path(environ)
        if not localkey.keys_file_has(path, text):

            def add() -> None:
                localkey.keys_file_add(path, text, new.recipient, "homelab-secrets rekey")

            result.final_steps.append(Step(f"add the new key to {path} (0600)", add))


def _retire(root: Path, store: KeyStore, new: agekey.KeyPair, result: RekeyPlan) -> Step:
    def run() -> None:
        from homelab_secrets.rekey import rewrap
        from homelab_secrets.sops.stores import format_for_path

        files = discover.sops_files(root, discover.walk(root))
        old = set(result.old_recipients)
        config = read_text(root / sopsyaml.NAME) or ""
        needing = [sopsyaml.NAME] if any(r in config for r in old) else []
        for rel in files:
            groups = rewrap.recipients((root / rel).read_bytes(), format_for_path(rel))
            if old & {r for g in groups for r in g}:
                needing.append(rel)
        if needing:
            raise UserError(
                "the old key is still needed by "
                + ", ".join(needing)
                + ": run `homelab-secrets rekey --new-age-key` to finish them first",
                ExitCode.ERROR,
            )
        store.write(agekey.single_text(new))

    return Step(f"keep only the new key as {store.describe()} (the old key retired)", run)


def apply(result: RekeyPlan, say: Callable[[str], None]) -> list[str]:
    """Make the changes; the files that failed (each named with why), after
    which nothing that depends on them (retiring the old key) runs."""
    for step in result.steps:
        step.run()
        say(step.title)
    failures = []
    for step in result.file_steps:
        try:
            step.run()
        except UserError as exc:
            failures.append(exc.message)
            continue
        say(step.title)
    if failures:
        return failures
    for step in result.final_steps:
        step.run()
        say(step.title)
    return []
