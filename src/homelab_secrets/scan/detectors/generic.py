"""Secrets recognised by their key name, in any syntax (:mod:`.assign`).

* ``generic-password``: a key naming a password or passphrase
  (:mod:`~homelab_secrets.scan.keynames`) with a literal value.  Human
  passwords are accepted as they are: punctuation, spaces (passphrases),
  low entropy; what is rejected is what stands for a password instead
  (:mod:`~homelab_secrets.scan.placeholders`).
* ``generic-secret``: a key naming a token, secret or API key whose value
  looks generated: at least 8 characters, not a word or a slug, and either
  varied (entropy >= 3, two character classes) or a UUID.

In code, HCL and TOML only quoted values count (unquoted ones are
expressions and references).  Terraform ``variable "db_password" { default =
"..." }`` is read as a value of ``db_password`` (:func:`find_hcl_defaults`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from homelab_secrets.scan import keynames
from homelab_secrets.scan.detectors.assign import QUOTES_REQUIRED, Assignment, assignments
from homelab_secrets.scan.detectors.base import Context, Detector, char_classes, entropy
from homelab_secrets.scan.model import Hit, Rule
from homelab_secrets.scan.placeholders import is_placeholder, is_reference
from homelab_secrets.scan.words import word_set

PASSWORD = Rule("generic-password", "password", "Password or passphrase in clear")
SECRET = Rule("generic-secret", "generic", "Secret value under a secret-looking key")

UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SLUG = re.compile(r"^[a-z]+(?:[-_. ][a-z]+)*$|^[A-Z][a-z]+(?:[A-Z][a-z]+)*$")
_NAMED_VAR = re.compile(r"^[a-z][a-z0-9]*(?:[_.-][a-z0-9]+)+$")
_SECRETISH = re.compile(r"pass|secret|token|key|cred|auth|pwd", re.I)
#: Formats a detector of their own judges (age, GitHub): a value it rejects is a made-up one.
_CHECKED_PREFIX = re.compile(r"^(?:AGE-SECRET-KEY-|gh[pousr]_|github_pat_)", re.I)
_NUMBER = re.compile(r"^[+-]?\d{1,4}(?:\.\d+)?$")
#: Values a password setting takes that are not passwords (modes, methods, booleans).
_SETTING_WORDS = word_set(
    """
    disabled enabled disable enable manual prompt ask file vault keyring keychain plain
    plaintext md5 scram-sha-256 trust peer ident ldap pam sha256 sha512 bcrypt argon2
    unchanged locked lock unlock expired never always any all nothing random generated
    secret_key secretkey stdin inherit inherited external internal hashed encrypted
    """
)

KEYWORDS = ("pass", "pwd", "_pw", "secret", "token", "key", "cred", "auth", "psk", "identified")


def accept(kind: str, a: Assignment, ctx: Context, key_words: tuple[str, ...]) -> bool:
    """Is ``a.value`` a literal secret of ``kind`` (``password``/``secret``)?"""
    value = a.value.strip()
    if not a.quoted and (ctx.syntax in QUOTES_REQUIRED or is_reference(value)):
        return False
    if a.source == "flag" and not a.quoted and value.startswith("-"):
        return False
    if is_placeholder(value, key_words):
        return False
    low = value.lower()
    if low in _SETTING_WORDS or _NUMBER.match(value) or value.endswith((":", "|", ">")):
        return False
    if _NAMED_VAR.match(value) and _SECRETISH.search(value):
        return False  # vault_db_password, db.password: the name of one
    if _CHECKED_PREFIX.match(value):
        return False  # a checksummed format: its own detector decided
    if kind == "password":
        return len(value) >= 5 or (len(value) >= 4 and char_classes(value) >= 3)
    if len(value) < 8 or _SLUG.match(value) or " " in value.strip():
        return False
    if UUID.match(value):
        return entropy(value) >= 3.0
    return entropy(value) >= 3.0 and char_classes(value) >= 2


def hits_in(text: str, ctx: Context) -> Iterable[tuple[Assignment, str]]:
    """Each assignment in ``text`` whose key and value make a secret, with its kind."""
    for a in assignments(text, ctx.syntax):
        kind = keynames.classify(a.key)
        if kind is None:
            continue
        key_words = keynames.words(a.key)
        if accept(kind, a, ctx, key_words):
            yield a, kind


def _hit(a: Assignment, kind: str, offset: int = 0, key: str | None = None) -> Hit:
    rule = PASSWORD if kind == "password" else SECRET
    return Hit(
        offset + a.start,
        offset + a.end,
        a.value,
        rule.id,
        rule.kind,
        rule.title,
        key=key or a.key,
        confidence="medium",
        priority=1,
    )


#: A key holding a secret-looking word and followed by an assignment; a
#: command-line flag, an XML element, SQL's ``PASSWORD '...'``/``IDENTIFIED
#: BY``.  A line without one whose key names a secret holds no generic secret:
#: this cheap test runs before the line is parsed.
_CANDIDATE = re.compile(
    r"(?<![\w.\-])(?P<key>[\w.\-]*?(?:pass|pwd|_pw|secret|token|key|cred|auth|psk)[\w.\-]*)"
    r"[\"'`\]]*[ \t]*(?::=|=>|=|:)"
    r"|--[\w-]*(?:pass|pwd|secret|token|key|cred|auth)|<[\w:.\-]*(?:pass|secret|token|key)"
    r"|identified|password\s*=?\s*'",
    re.I,
)


def _worth_parsing(text: str) -> bool:
    for m in _CANDIDATE.finditer(text):
        key = m["key"]
        if key is None or keynames.classify(key) is not None:
            return True
    return False


def find(text: str, ctx: Context) -> Iterable[Hit]:
    if not _worth_parsing(text):
        return
    for a, kind in hits_in(text, ctx):
        yield _hit(a, kind)


_VARIABLE = re.compile(r'^[ \t]*variable[ \t]+"(?P<name>[\w-]+)"[ \t]*\{', re.M)
_DEFAULT = re.compile(r'^[ \t]*default[ \t]*=[ \t]*(?P<val>"(?:[^"\\\n]|\\.)*")', re.M)


def find_hcl_defaults(text: str, ctx: Context) -> Iterable[Hit]:
    """``variable "db_password" { default = "..." }``: the default is a value of
    ``db_password`` (the block ends at the first line that is just ``}``)."""
    for var in _VARIABLE.finditer(text):
        kind = keynames.classify(var["name"])
        if kind is None:
            continue
        close = re.compile(r"^\}[ \t]*$", re.M).search(text, var.end())
        body_end = close.start() if close else len(text)
        m = _DEFAULT.search(text, var.end(), body_end)
        if m is None:
            continue
        raw = m["val"]
        a = Assignment(var["name"], raw[1:-1], m.start("val") + 1, m.end("val") - 1, True, "kv")
        if accept(kind, a, ctx, keynames.words(var["name"])):
            yield _hit(a, kind)


RULES = (PASSWORD, SECRET)
DETECTOR = Detector("generic", KEYWORDS, find, RULES)
HCL_DEFAULTS = Detector(
    "hcl-variable-defaults",
    ("variable",),
    find_hcl_defaults,
    RULES,
    scope="document",
    syntaxes=frozenset({"hcl"}),
)
