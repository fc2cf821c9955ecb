"""Walking the tree: which values are encrypted, AAD paths, and the MAC.

This mirrors sops' ``sops.go`` (``walkBranch``/``walkSlice``/``walkValue``,
``shouldBeEncrypted``, ``Tree.Encrypt``/``Tree.Decrypt``):

* The *path* of a leaf is the list of map keys from the root; list indices are
  not part of it; a comment gets its container's path.  The AAD of a value is
  ``":".join(path) + ":"``.
* ``None`` never reaches a leaf callback: it is never encrypted nor hashed.
* The MAC is SHA-512 over the Go serialization of every non-null, non-comment
  leaf in walk order (encrypted or not; only encrypted ones with
  ``mac_only_encrypted``, after a fixed 32-byte prefix), as uppercase hex.
* Comment rules keep a *comment stack*: per nesting level, the comments seen
  since the last non-comment item.
"""

from __future__ import annotations

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sops.cipher import Cipher, CipherError, to_bytes
from homelab_secrets.sops.model import Branch, Comment, GoTime, Uint64, go_type_name

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    import re
    from collections.abc import Callable
    from hashlib import sha512
    from typing import Any
else:  # CPython's own SHA-512: hashlib would load OpenSSL's libcrypto (start-up time)
    try:
        from _sha2 import sha512  # 3.12+
    except ImportError:  # pragma: no cover - depends on the Python version
        try:
            from _sha512 import sha512
        except ImportError:  # a Python built without it
            from hashlib import sha512

DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"
#: sha256(b"sops"): the MAC prefix when only encrypted values are authenticated
#: (sops' ``MACOnlyEncryptedInitialization``; a test recomputes it).
MAC_ONLY_ENCRYPTED_INIT = bytes.fromhex(
    "8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69"
)

RULE_NAMES = (
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
)


class TreeError(UserError):
    """A failure while walking the tree; ``key_path`` names the key path (never a value)."""

    def __init__(self, message: str, exit_code: int, key_path: tuple[str, ...] = ()) -> None:
        super().__init__(message, exit_code)
        self.key_path = key_path


def format_path(path: tuple[str, ...] | list[str]) -> str:
    """A key path for messages, e.g. ``db.password`` (``<top level>`` when empty)."""
    return ".".join(path) if path else "<top level>"


class Rules:
    """Which values get encrypted (exactly one rule may be set; none means the
    default ``unencrypted_suffix: _unencrypted``).  Immutable.

    (A plain class, not a dataclass: importing ``dataclasses`` costs ~10 ms of
    start-up, and ``decrypt`` races the Go binary.)"""

    __slots__ = (*RULE_NAMES, "mac_only_encrypted")

    unencrypted_suffix: str
    encrypted_suffix: str
    unencrypted_regex: str
    encrypted_regex: str
    unencrypted_comment_regex: str
    encrypted_comment_regex: str
    mac_only_encrypted: bool

    def __init__(
        self,
        *,
        unencrypted_suffix: str = "",
        encrypted_suffix: str = "",
        unencrypted_regex: str = "",
        encrypted_regex: str = "",
        unencrypted_comment_regex: str = "",
        encrypted_comment_regex: str = "",
        mac_only_encrypted: bool = False,
    ) -> None:
        values = (
            unencrypted_suffix,
            encrypted_suffix,
            unencrypted_regex,
            encrypted_regex,
            unencrypted_comment_regex,
            encrypted_comment_regex,
            mac_only_encrypted,
        )
        for name, value in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Rules is immutable")

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rules) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__ if getattr(self, n))
        return f"Rules({fields})"

    def count(self) -> int:
        return sum(1 for name in RULE_NAMES if getattr(self, name))

    def effective(self) -> Rules:
        """With sops' default applied when no rule is set."""
        if self.count():
            return self
        return Rules(
            unencrypted_suffix=DEFAULT_UNENCRYPTED_SUFFIX,
            mac_only_encrypted=self.mac_only_encrypted,
        )


def _compile(pattern: str, name: str) -> re.Pattern[str]:
    import re  # (only files with regex rules need it: start-up time)

    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UserError(
            f"invalid {name} {pattern!r}: {exc.msg} (sops uses Go RE2 syntax)",
            ExitCode.ERROR_GENERIC,
        ) from None


class _Decider:
    """``shouldBeEncrypted``, split into a per-path-component part (computed
    once per nesting level) and a per-leaf comment part."""

    def __init__(self, rules: Rules) -> None:
        r = rules.effective()
        self.component: Callable[[str], bool] | None = None
        # For "unencrypted_*" rules a matching component turns encryption off;
        # for "encrypted_*" rules it turns it on.
        self.match_means_encrypt = False
        if r.unencrypted_suffix:
            suffix = r.unencrypted_suffix
            self.component = lambda k: k.endswith(suffix)
        elif r.encrypted_suffix:
            esuffix = r.encrypted_suffix
            self.component = lambda k: k.endswith(esuffix)
            self.match_means_encrypt = True
        elif r.unencrypted_regex:
            rx = _compile(r.unencrypted_regex, "unencrypted_regex")
            self.component = lambda k: rx.search(k) is not None
        elif r.encrypted_regex:
            erx = _compile(r.encrypted_regex, "encrypted_regex")
            self.component = lambda k: erx.search(k) is not None
            self.match_means_encrypt = True
        self.unenc_comment = (
            _compile(r.unencrypted_comment_regex, "unencrypted_comment_regex")
            if r.unencrypted_comment_regex
            else None
        )
        self.enc_comment = (
            _compile(r.encrypted_comment_regex, "encrypted_comment_regex")
            if r.encrypted_comment_regex
            else None
        )

    def decide(self, matched: bool, stack: list[list[str]], is_comment: bool) -> bool:
        """``matched``: some path component matched the path rule."""
        if self.component is None:
            encrypted = True
        else:
            encrypted = matched if self.match_means_encrypt else not matched
        if self.unenc_comment is not None:
            rx = self.unenc_comment
            if any(rx.search(c) for level in stack for c in level):
                encrypted = False
        if self.enc_comment is not None:
            erx = self.enc_comment
            encrypted = False
            last_level = len(stack) - 1
            last_index = len(stack[-1]) - 1 if stack else -1
            for i, level in enumerate(stack):
                for j, c in enumerate(level):
                    # The matching comment line itself stays clear.
                    if is_comment and i == last_level and j == last_index:
                        continue
                    if erx.search(c):
                        return True
        return encrypted


if TYPE_CHECKING:
    #: on_leaf(value, path, encrypted?, is_comment) -> new value
    LeafFn = Callable[[Any, tuple[str, ...], bool, bool], Any]


def _walk(branches: list[Branch], rules: Rules, on_leaf: LeafFn, exit_code: int) -> None:
    decider = _Decider(rules)
    component = decider.component
    decide = decider.decide

    def leaf(value: Any, path: tuple[str, ...], matched: bool, stack: list[list[str]]) -> Any:
        if value is None:
            return None
        if isinstance(value, Branch):
            return walk_branch(value, path, matched, stack)
        if isinstance(value, list):
            return walk_slice(value, path, matched, stack)
        if isinstance(value, Uint64) or not isinstance(
            value, (str, bytes, int, float, GoTime, Comment)
        ):
            raise TreeError(
                f"Cannot walk value at '{format_path(path)}', unknown type: {go_type_name(value)}",
                exit_code,
                path,
            )
        is_comment = isinstance(value, Comment)
        return on_leaf(value, path, decide(matched, stack, is_comment), is_comment)

    def walk_branch(
        branch: Branch, path: tuple[str, ...], matched: bool, stack: list[list[str]]
    ) -> Branch:
        level: list[str] = []
        stack = [*stack, level]
        for i, (key, value) in enumerate(branch):
            if isinstance(key, Comment):
                level.append(key.value)
                result = on_leaf(key, path, decide(matched, stack, True), True)
                if not isinstance(result, Comment):
                    result = Comment(result)
                branch[i] = (result, value)
                continue
            if not isinstance(key, str):
                raise TreeError(
                    f"Tree contains a non-string key (type {go_type_name(key)}) under "
                    f"'{format_path(path)}'. Only string keys are supported",
                    exit_code,
                    path,
                )
            child_matched = matched or (component is not None and component(key))
            new = leaf(value, (*path, key), child_matched, stack)
            if new is not value:
                branch[i] = (key, new)
            level.clear()
        return branch

    def walk_slice(
        items: list[Any], path: tuple[str, ...], matched: bool, stack: list[list[str]]
    ) -> list[Any]:
        level: list[str] = []
        stack = [*stack, level]
        for i, value in enumerate(items):
            is_comment = isinstance(value, Comment)
            if is_comment:
                level.append(value.value)
            items[i] = leaf(value, path, matched, stack)
            if not is_comment:
                level.clear()
        return items

    for branch in branches:
        walk_branch(branch, (), False, [])


def _aad(path: tuple[str, ...]) -> str:
    return ":".join(path) + ":"


def encrypt_tree(branches: list[Branch], cipher: Cipher, rules: Rules) -> str:
    """Encrypt ``branches`` in place; return the MAC (uppercase hex SHA-512)."""
    digest = sha512()
    mac_only = rules.mac_only_encrypted
    if mac_only:
        digest.update(MAC_ONLY_ENCRYPTED_INIT)

    def on_leaf(value: Any, path: tuple[str, ...], encrypted: bool, is_comment: bool) -> Any:
        if not is_comment and (encrypted or not mac_only):
            digest.update(to_bytes(value))
        if not encrypted:
            return value
        try:
            return cipher.encrypt(value, _aad(path))
        except CipherError as exc:
            raise TreeError(
                f"Could not encrypt the value at '{format_path(path)}': {exc.reason}",
                ExitCode.ERROR_ENCRYPTING_TREE,
                path,
            ) from None

    _walk(branches, rules, on_leaf, ExitCode.ERROR_ENCRYPTING_TREE)
    return digest.hexdigest().upper()


if TYPE_CHECKING:
    #: Called for encrypted comments that fail to decrypt (sops keeps them as they are).
    CommentWarning = Callable[[tuple[str, ...]], None]
    #: Called with the key path and plaintext of every value (or comment) that was
    #: encrypted in the file: what a CI step must mask.
    SecretSink = Callable[[tuple[str, ...], Any], None]


def decrypt_tree(
    branches: list[Branch],
    cipher: Cipher,
    rules: Rules,
    on_plain_comment: CommentWarning | None = None,
    on_secret: SecretSink | None = None,
) -> str:
    """Decrypt ``branches`` in place; return the MAC computed over the plaintext.

    ``on_secret`` receives every value that was encrypted, once decrypted."""
    digest = sha512()
    mac_only = rules.mac_only_encrypted
    if mac_only:
        digest.update(MAC_ONLY_ENCRYPTED_INIT)

    def on_leaf(value: Any, path: tuple[str, ...], encrypted: bool, is_comment: bool) -> Any:
        if encrypted:
            aad = _aad(path)
            if is_comment:
                try:
                    value = cipher.decrypt(value.value, aad)
                except CipherError:
                    if on_plain_comment is not None:
                        on_plain_comment(path)
                else:
                    if on_secret is not None:
                        on_secret(path, value)
            elif isinstance(value, str):
                try:
                    value = cipher.decrypt(value, aad)
                except CipherError as exc:
                    raise TreeError(
                        f"Could not decrypt the value at '{format_path(path)}': {exc.reason}",
                        ExitCode.ERROR_DECRYPTING_TREE,
                        path,
                    ) from None
                if on_secret is not None:
                    on_secret(path, value)
            else:
                raise TreeError(
                    f"Could not decrypt the value at '{format_path(path)}': expected an "
                    f"encrypted value (a string), found a {go_type_name(value)}",
                    ExitCode.ERROR_DECRYPTING_TREE,
                    path,
                )
        if not isinstance(value, Comment) and (encrypted or not mac_only):
            digest.update(to_bytes(value))
        return value

    _walk(branches, rules, on_leaf, ExitCode.ERROR_DECRYPTING_TREE)
    return digest.hexdigest().upper()
