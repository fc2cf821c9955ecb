"""The one path from a file's bytes to output bytes, for every SOPS operation.

Every caller goes through here: the sops-compatible commands (``decrypt``,
``encrypt``, ``edit``, ``set``/``unset``, ``exec-env``/``exec-file``,
``filestatus``, ``rotate``) and the job layer (``sops-decrypt``,
``sops-encrypt``, the all-in-one action).  So
what sops decides from ``.sops.yaml`` (``stores:`` indentation, the creation
rule's keys and encryption rules, the Shamir threshold) is decided once, the
same way for everyone.  Like sops' ``decrypt/decrypt.go``: bytes, formats, a
config and keys in; bytes out; no files, no terminal.

The shapes of work:

* :func:`decrypt`: an encrypted file → the bytes ``sops decrypt`` prints
  (:func:`decrypt_tree`: the tree alone; :func:`is_encrypted`: whether there
  is anything to decrypt);
* :func:`encrypt`: a plain file → a new encrypted file (a new data key, or,
  with ``previous``, the data key and ciphertexts of the file it came from);
  :func:`rotate`: the same values under a new data key;
* changing an encrypted file while keeping its data key and the ciphertext of
  every value that did not change (sops' *stash*, so ``git diff`` shows only
  what changed): :func:`update` for ``set``/``unset``, and :func:`open_file`
  (or :func:`new_file`) then :func:`seal_text` around an editor for ``edit``.

Each runs through :func:`homelab_secrets.sops.deep.run` (documents as deep
as sops takes them); the functions it runs take bytes and build new trees,
so a second, deeper run is safe.

(Plain classes, not dataclasses: importing ``dataclasses`` costs ~7 ms of
start-up, and ``decrypt`` races the Go binary.)
"""

from __future__ import annotations

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sops import deep

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, TypeVar

    from homelab_secrets.sops.config import SopsConfig
    from homelab_secrets.sops.engine import Decrypted, IdentityLoader
    from homelab_secrets.sops.metadata import MasterKey
    from homelab_secrets.sops.model import Branch
    from homelab_secrets.sops.stores import Store
    from homelab_secrets.sops.tree import Rules
    from homelab_secrets.sops.treepath import PathComponent

    R = TypeVar("R")


# ---------------------------------------------------------------- decrypt
class Plain:
    """A decrypted file: its tree, the bytes ``sops decrypt`` prints for it,
    (when asked for) every value that was encrypted, and its data key."""

    __slots__ = ("branches", "data_key", "plain_comments", "plaintext", "secrets")

    def __init__(
        self,
        branches: list[Branch],
        plaintext: bytes,
        secrets: list[tuple[tuple[str, ...], Any]] | None = None,
        plain_comments: list[tuple[str, ...]] | None = None,
        data_key: bytes = b"",
    ) -> None:
        self.branches = branches
        self.plaintext = plaintext
        #: (key path, value) of every encrypted value, when ``collect_secrets``
        self.secrets = secrets if secrets is not None else []
        #: key paths of comments that looked encrypted but were not
        self.plain_comments = plain_comments if plain_comments is not None else []
        #: the file's data key (for re-encrypting it the way sops edits it)
        self.data_key = data_key

    def __repr__(self) -> str:
        return f"Plain(<{len(self.plaintext)} bytes>)"


def decrypt(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    config: SopsConfig | None,
    identities: IdentityLoader,
    ignore_mac: bool = False,
    extract: list[PathComponent] | None = None,
    collect_secrets: bool = False,
) -> Plain:
    """Decrypt ``data`` (``in_fmt``) and render it as ``out_fmt`` with the
    store options ``config`` sets (``stores: {yaml: {indent: 2}}``)."""
    return deep.run(
        _decrypt,
        data,
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        config=config,
        identities=identities,
        ignore_mac=ignore_mac,
        extract=extract,
        collect_secrets=collect_secrets,
    )


def _decrypt(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    config: SopsConfig | None,
    identities: IdentityLoader,
    ignore_mac: bool,
    extract: list[PathComponent] | None,
    collect_secrets: bool,
) -> Plain:
    from homelab_secrets.sops import engine

    result = engine.decrypt(
        data, in_fmt, identities, ignore_mac=ignore_mac, collect_secrets=collect_secrets
    )
    store = _store(out_fmt, config)
    if extract is not None:
        from homelab_secrets.sops.treepath import extract as extract_path

        plaintext = extract_path(result.branches, extract, store)
    else:
        plaintext = _emit_plain(store, result.branches, out_fmt)
    return Plain(result.branches, plaintext, result.secrets, result.plain_comments, result.data_key)


def decrypt_tree(
    data: bytes, *, in_fmt: str, identities: IdentityLoader, ignore_mac: bool = False
) -> list[Branch]:
    """The decrypted tree alone (sops' ``decryptTree``: ``exec-env``)."""
    return deep.run(
        _decrypt_tree, data, in_fmt=in_fmt, identities=identities, ignore_mac=ignore_mac
    )


def _decrypt_tree(
    data: bytes, *, in_fmt: str, identities: IdentityLoader, ignore_mac: bool
) -> list[Branch]:
    from homelab_secrets.sops import engine

    return engine.decrypt(data, in_fmt, identities, ignore_mac=ignore_mac).branches


def is_encrypted(data: bytes, *, fmt: str) -> bool:
    """sops' ``filestatus``: the store finds sops metadata, which loads and
    has a ``version`` and a ``mac`` (nothing is decrypted).  A file without
    metadata is not encrypted; broken metadata raises :class:`UserError`."""
    return deep.run(_is_encrypted, data, fmt=fmt)


def _is_encrypted(data: bytes, *, fmt: str) -> bool:
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.stores import MetadataNotFound

    try:
        _, metadata = engine.load_encrypted(data, fmt)
    except MetadataNotFound:
        return False
    return bool(metadata.version and metadata.mac)


# ---------------------------------------------------------------- encrypt
class Encryption:
    """How a file is to be encrypted: keys, rules, Shamir threshold."""

    __slots__ = ("key_groups", "rules", "shamir_threshold")

    def __init__(
        self, key_groups: list[list[MasterKey]], rules: Rules, shamir_threshold: int = 0
    ) -> None:
        self.key_groups = key_groups
        self.rules = rules
        self.shamir_threshold = shamir_threshold

    def __repr__(self) -> str:
        return f"Encryption(groups={self.key_groups!r}, rules={self.rules!r})"


_CONFLICT = (
    "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, "
    "unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file"
)


def plan_encryption(
    config: SopsConfig | None,
    rule_path: str,
    *,
    age: Sequence[str] = (),
    cli_rules: Mapping[str, str] | None = None,
    mac_only_encrypted: bool = False,
    shamir_threshold: int | None = None,
) -> Encryption:
    """sops' choice of keys and rules for the file at ``rule_path``: ``age``
    recipients if given, else the matching creation rule's key groups; rule
    flags from the command line, each completed by the creation rule's (more
    than one in all is exit 8, as with sops)."""
    from homelab_secrets.sops.metadata import AgeKey
    from homelab_secrets.sops.tree import RULE_NAMES, Rules

    rule = config.rule_for(rule_path) if config else None
    if age:
        key_groups: list[list[MasterKey]] = [[AgeKey(r.strip()) for r in age]]
    elif rule is not None:
        key_groups = rule.key_groups
    else:
        raise UserError(
            "config file not found, or has no creation rules, and no keys provided through "
            "command line options (give age recipients with --age / the age-recipients "
            "input, or add a .sops.yaml creation rule for it)",
            ExitCode.ERROR_GENERIC,
        )
    given = {name: (cli_rules or {}).get(name) or "" for name in RULE_NAMES}
    if sum(1 for v in given.values() if v) > 1:
        raise UserError(_CONFLICT, ExitCode.CONFLICTING_PARAMETERS)
    merged = dict(given)
    if rule is not None:
        for name in RULE_NAMES:
            if not merged[name]:
                merged[name] = getattr(rule.rules, name)
    if sum(1 for v in merged.values() if v) > 1:
        raise UserError(
            _CONFLICT + " (the command line and the .sops.yaml rule together)",
            ExitCode.CONFLICTING_PARAMETERS,
        )
    mac_only = mac_only_encrypted or bool(rule and rule.rules.mac_only_encrypted)
    if shamir_threshold is None:
        shamir_threshold = rule.shamir_threshold if rule is not None else 0
    return Encryption(key_groups, Rules(mac_only_encrypted=mac_only, **merged), shamir_threshold)


class Previous:
    """The encrypted file a plaintext was decrypted from (``data``, in
    ``fmt``), and how to open it again: its data key when it was kept, else
    ``identities``."""

    __slots__ = ("data", "data_key", "fmt", "identities")

    def __init__(
        self,
        data: bytes,
        fmt: str,
        *,
        data_key: bytes | None = None,
        identities: IdentityLoader | None = None,
    ) -> None:
        self.data = data
        self.fmt = fmt
        self.data_key = data_key
        self.identities = identities

    def __repr__(self) -> str:
        return f"Previous({self.fmt}, <{len(self.data)} bytes>)"


def encrypt(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    plan: Encryption,
    config: SopsConfig | None,
    indent: int | None = None,
    previous: Previous | None = None,
) -> bytes:
    """Encrypt plaintext ``data``; refuses a file that is already encrypted
    (exit 203, like sops).

    A new data key, unless ``previous`` (the encrypted file this plaintext
    was decrypted from) opens and has the same keys as ``plan``: then its data
    key is kept, and so is the ciphertext of every value that did not change,
    as sops' ``edit`` does.  When the keys changed (a recipient added or
    removed), the data key is new: a removed recipient must not keep it."""
    return deep.run(
        _encrypt,
        data,
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        plan=plan,
        config=config,
        indent=indent,
        previous=previous,
    )


def _encrypt(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    plan: Encryption,
    config: SopsConfig | None,
    indent: int | None,
    previous: Previous | None,
) -> bytes:
    from homelab_secrets.sops import engine

    branches = load_plain_checked(data, in_fmt)
    kept = _reusable(previous, plan) if previous is not None else None
    if kept is None:
        metadata = engine.encrypt(
            branches,
            plan.key_groups,
            rules=plan.rules,
            shamir_threshold=plan.shamir_threshold,
            binary=in_fmt == "binary",
        )
    else:
        metadata = kept.metadata
        from homelab_secrets.sops.tree import Rules

        metadata.rules = Rules() if in_fmt == "binary" else plan.rules.effective()
        engine.seal(branches, metadata, kept.cipher)
        metadata.version = _edited_version(metadata.version)
    out: bytes = _store(out_fmt, config, indent).emit_encrypted(branches, metadata.to_branch())
    return out


def load_plain_checked(data: bytes, fmt: str) -> list[Branch]:
    """sops' ``encrypt`` loading: the plain file's branches; a file with a
    top-level ``sops`` entry is refused (exit 203)."""
    from homelab_secrets.sops.stores import get_store

    store = get_store(fmt)
    branches = store.load_plain(data)
    if branches and store.has_sops_top_level_key(branches[0]):
        raise UserError(
            "the file has a top-level entry called 'sops' (or, for flat file formats, "
            "entries starting with 'sops_'): it is probably already encrypted; decrypt it first",
            ExitCode.FILE_ALREADY_ENCRYPTED,
        )
    return branches


def _reusable(previous: Previous, plan: Encryption) -> Decrypted | None:
    """``previous`` opened, when it can be and its keys are ``plan``'s."""
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.metadata import AgeKey

    if previous.data_key is None and previous.identities is None:
        return None
    try:
        opened = engine.decrypt(
            previous.data,
            previous.fmt,
            previous.identities or _no_identities,
            data_key=previous.data_key,
        )
    except UserError:
        return None  # not ours to open any more: a new data key, as before

    def names(groups: list[list[MasterKey]]) -> list[set[str]]:
        return [
            {f"age:{k.recipient}" if isinstance(k, AgeKey) else f"{k.type}:{k.name}" for k in g}
            for g in groups
        ]

    metadata = opened.metadata
    threshold = engine.check_threshold(plan.key_groups, plan.shamir_threshold)
    if names(metadata.key_groups) != names(plan.key_groups):
        return None
    if len(plan.key_groups) > 1 and threshold != (
        metadata.shamir_threshold or len(metadata.key_groups)
    ):
        return None
    return opened


def _no_identities() -> Any:
    raise UserError("no age identity to open the previous file", ExitCode.COULD_NOT_RETRIEVE_KEY)


def rotate(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    config: SopsConfig | None,
    identities: IdentityLoader,
    ignore_mac: bool = False,
    add_age: Sequence[str] = (),
    rm_age: Sequence[str] = (),
    key_groups: list[list[MasterKey]] | None = None,
    shamir_threshold: int | None = None,
) -> bytes:
    """sops' ``rotate``: a new data key, every value encrypted again with it,
    recipients added to the first key group or removed; the ``version``
    stays as it was, as with sops.  ``key_groups`` (and ``shamir_threshold``)
    replace the file's own (``rekey``: the recipients ``.sops.yaml`` lists
    now).  Only age keys can be wrapped for: a PGP/KMS key among the groups
    is refused, naming it."""
    return deep.run(
        _rotate,
        data,
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        config=config,
        identities=identities,
        ignore_mac=ignore_mac,
        add_age=add_age,
        rm_age=rm_age,
        key_groups=key_groups,
        shamir_threshold=shamir_threshold,
    )


def _rotate(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    config: SopsConfig | None,
    identities: IdentityLoader,
    ignore_mac: bool,
    add_age: Sequence[str],
    rm_age: Sequence[str],
    key_groups: list[list[MasterKey]] | None,
    shamir_threshold: int | None,
) -> bytes:
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.cipher import Cipher
    from homelab_secrets.sops.metadata import AgeKey

    result = engine.decrypt(data, in_fmt, identities, ignore_mac=ignore_mac)
    metadata = result.metadata
    groups: list[list[AgeKey]] = []
    for group in metadata.key_groups if key_groups is None else key_groups:
        for key in group:
            if not isinstance(key, AgeKey):
                raise UserError(
                    f"cannot re-key: there is a {key.type} key ({key.name}), and "
                    "homelab-secrets wraps data keys for age recipients only; use sops for "
                    "this file",
                    ExitCode.ERROR_GENERIC,
                )
        groups.append([AgeKey(k.recipient) for k in group if isinstance(k, AgeKey)])
    if add_age and groups:
        groups[0].extend(AgeKey(r) for r in add_age)
    if rm_age:
        remove = set(rm_age)
        groups = [[k for k in g if k.recipient not in remove] for g in groups]
    metadata.key_groups = [list(g) for g in groups]
    if shamir_threshold is not None:
        metadata.shamir_threshold = shamir_threshold
    if len(metadata.key_groups) <= 1:
        metadata.shamir_threshold = 0
    data_key = engine.new_data_key()
    engine.wrap_data_key(data_key, metadata)
    engine.seal(result.branches, metadata, Cipher(data_key))
    out: bytes = _store(out_fmt, config).emit_encrypted(result.branches, metadata.to_branch())
    return out


# ---------------------------------------------------------------- changing a file
def update(
    data: bytes,
    change: Callable[[list[Branch]], R],
    *,
    in_fmt: str,
    out_fmt: str,
    config: SopsConfig | None,
    identities: IdentityLoader,
    ignore_mac: bool = False,
) -> tuple[bytes, R]:
    """Decrypt ``data``, let ``change`` modify the tree in place, encrypt it
    again with the same data key (unchanged values keep their ciphertext) and
    return the new file with what ``change`` returned (sops' ``set`` and
    ``unset``: the ``version`` stays as it was).  ``change`` must build any
    value it inserts itself: it may run twice (deep documents)."""
    return deep.run(
        _update,
        data,
        change,
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        config=config,
        identities=identities,
        ignore_mac=ignore_mac,
    )


def _update(
    data: bytes,
    change: Callable[[list[Branch]], R],
    *,
    in_fmt: str,
    out_fmt: str,
    config: SopsConfig | None,
    identities: IdentityLoader,
    ignore_mac: bool,
) -> tuple[bytes, R]:
    from homelab_secrets.sops import engine

    opened = engine.decrypt(data, in_fmt, identities, ignore_mac=ignore_mac)
    outcome = change(opened.branches)
    engine.seal(opened.branches, opened.metadata, opened.cipher)
    store = _store(out_fmt, config)
    return store.emit_encrypted(opened.branches, opened.metadata.to_branch()), outcome


class Opened:
    """A file opened for editing: the text to edit (what ``sops decrypt``
    prints, in ``out_fmt``), and what re-encrypting it needs: the metadata,
    and the cipher with the data key and every value's IV."""

    __slots__ = ("config", "decrypted", "in_fmt", "out_fmt", "text")

    def __init__(
        self,
        decrypted: Decrypted,
        text: bytes,
        *,
        in_fmt: str,
        out_fmt: str,
        config: SopsConfig | None,
    ) -> None:
        self.decrypted = decrypted
        self.text = text
        self.in_fmt = in_fmt
        self.out_fmt = out_fmt
        self.config = config

    def __repr__(self) -> str:
        return f"Opened(<{len(self.text)} bytes of {self.out_fmt}>)"


def open_file(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    config: SopsConfig | None,
    identities: IdentityLoader,
    ignore_mac: bool = False,
) -> Opened:
    """Decrypt ``data`` for an editor (sops' ``edit``)."""
    return deep.run(
        _open_file,
        data,
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        config=config,
        identities=identities,
        ignore_mac=ignore_mac,
    )


def _open_file(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    config: SopsConfig | None,
    identities: IdentityLoader,
    ignore_mac: bool,
) -> Opened:
    from homelab_secrets.sops import engine

    decrypted = engine.decrypt(data, in_fmt, identities, ignore_mac=ignore_mac)
    text = _emit_plain(_store(out_fmt, config), decrypted.branches, out_fmt)
    return Opened(decrypted, text, in_fmt=in_fmt, out_fmt=out_fmt, config=config)


def new_file(plan: Encryption, *, in_fmt: str, out_fmt: str, config: SopsConfig | None) -> Opened:
    """A file that does not exist yet, for an editor: sops' example document
    of the format (``EmitExample``), with a new data key for ``plan``'s keys
    (sops' ``editExample``)."""
    return deep.run(_new_file, plan, in_fmt=in_fmt, out_fmt=out_fmt, config=config)


def _new_file(plan: Encryption, *, in_fmt: str, out_fmt: str, config: SopsConfig | None) -> Opened:
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.cipher import Cipher
    from homelab_secrets.sops.metadata import AgeKey, Metadata
    from homelab_secrets.sops.stores import example
    from homelab_secrets.sops.tree import Rules

    branches = _store(in_fmt, None).load_plain(example.document(in_fmt))
    groups = [
        [AgeKey(k.recipient) if isinstance(k, AgeKey) else k for k in group]
        for group in plan.key_groups
    ]
    metadata = Metadata(
        key_groups=groups,
        shamir_threshold=plan.shamir_threshold if len(groups) > 1 else 0,
        rules=Rules() if in_fmt == "binary" else plan.rules.effective(),
    )
    data_key = engine.new_data_key()
    engine.wrap_data_key(data_key, metadata)
    from homelab_secrets.sops.engine import Decrypted

    decrypted = Decrypted(branches, metadata, data_key, Cipher(data_key))
    text = _emit_plain(_store(out_fmt, config), branches, out_fmt)
    return Opened(decrypted, text, in_fmt=in_fmt, out_fmt=out_fmt, config=config)


def seal_text(opened: Opened, text: bytes) -> bytes:
    """The edited ``text`` encrypted again with ``opened``'s data key: values
    whose plaintext did not change keep their ciphertext; ``lastmodified``
    and the MAC are new; an older ``version`` becomes ours (sops' ``edit``).
    Raises :class:`~homelab_secrets.sops.stores.StoreError` when ``text``
    does not parse (the editor may then be offered again)."""
    return deep.run(_seal_text, opened, text)


def _seal_text(opened: Opened, text: bytes) -> bytes:
    from homelab_secrets.sops import engine

    branches = _store(opened.in_fmt, None).load_plain(text)
    decrypted = opened.decrypted
    metadata = decrypted.metadata
    engine.seal(branches, metadata, decrypted.cipher)
    metadata.version = _edited_version(metadata.version)
    out: bytes = _store(opened.out_fmt, opened.config).emit_encrypted(
        branches, metadata.to_branch()
    )
    return out


# ---------------------------------------------------------------- helpers
def _store(fmt: str, config: SopsConfig | None, indent: int | None = None) -> Store:
    from homelab_secrets.sops.config import store_options
    from homelab_secrets.sops.stores import get_store

    return get_store(fmt, **store_options(fmt, config, indent))


def _emit_plain(store: Store, branches: list[Branch], fmt: str) -> bytes:
    """``EmitPlainFile``; the binary store's refusal of a tree without its
    ``data`` gets sops' hint (``decrypt --input-type yaml`` of a ``.enc``)."""
    from homelab_secrets.sops.stores import StoreError

    try:
        return store.emit_plain(branches)
    except StoreError as exc:
        if fmt == "binary" and exc.exit_code == ExitCode.ERROR_DUMPING_TREE:
            exc.message += (
                " (this is likely not an encrypted binary file; use --output-type to "
                "choose the output format)"
            )
        raise


def _edited_version(version: str) -> str:
    """sops' ``edit``: the file's ``version`` becomes ours when ours is newer
    (``version.AIsNewerThanB``); a newer one stays."""
    from homelab_secrets.sops.metadata import SOPS_VERSION, version_key

    try:
        return SOPS_VERSION if version_key(SOPS_VERSION) > version_key(version) else version
    except ValueError:
        return SOPS_VERSION
