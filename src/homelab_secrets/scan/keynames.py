"""Which key names hold secrets: ``db_password``, ``apiKey``, ``hec_token``,
``ansible_become_pass``, ``tls.key`` do; ``password_file``, ``api_token_id``,
``existingSecret``, ``public_key``, ``token_ttl`` do not.

A key is split into words (``camelCase``, ``snake_case``, ``kebab-case``,
``dotted.keys``); its **last** word says what the value is.
"""

from __future__ import annotations

import re
from typing import Literal

from homelab_secrets.scan.words import word_set

KeyKind = Literal["password", "secret"]

_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

PASSWORD_WORDS = word_set(
    """
    password passwd pass pwd passphrase passw passcode pw pword requirepass masterauth psk
    """
)
_PASS_NOT = word_set("bypass compass encompass surpass overpass underpass trespass")
SECRET_WORDS = word_set(
    """
    secret token apikey apitoken authtoken accesstoken secretkey privatekey
    accesskey authkey signingkey credential credentials creds bearer auth cookie hmac
    presharedkey sharedkey secretid
    """
)
#: ``<word>_key`` is a secret for these words (``api_key``, ``tls.key``, ``hec_key``).
KEY_QUALIFIERS = word_set(
    """
    api secret access private encryption encrypt decryption signing sign master license auth
    client app application service account webhook hec shared session jwt hmac cookie deploy
    tls ssl crypt cipher storage root admin sas subscription primary secondary preshared
    routing integration bot server ssh gpg pgp age sops vault token write read
    """
)
NON_SECRET_LAST = word_set(
    """
    id ids name names user username usernames login file files path paths dir directory url
    urls uri uris endpoint endpoints host hostname hosts port length len min max minimum
    maximum policy policies type types kind enabled enable disabled required require expiry
    expires expiration expire ttl timeout lifetime rotation rotate header headers prefix
    suffix hint format version ref refs reference arn env var vars variable variables cmd
    command regex pattern count size hash hashed digest checksum field fields mode method
    location label labels description desc help template reset changed updated created at
    date time age question prompt provider store backend manager strength complexity source
    sources index public pub fingerprint algorithm algo bits scope scopes audience issuer
    class mount engine role roles mapping map output outputs input param parameter
    placeholder example sample selector annotation annotations namespace generator chars
    characters charset special upper lower numeric digits policy_name rule rules valid
    validity usage attribute attributes flag flags option options setting settings check
    checks status state lookup entry entries
    """
)
NON_SECRET_FIRST = word_set(
    """
    existing use create generate generated enable disable auto rotate require allow mount
    read write load manage skip no with without show hide reset forgot change update has is
    should validate verify check min max num number count default random
    """
)
NON_SECRET_ANYWHERE = frozenset(["public", "pub", "publickey", "pubkey", "sha", "checksum"])


def words(key: str) -> tuple[str, ...]:
    """``"dbPassword"`` → ``("db", "password")``; ``AWS_SECRET_ACCESS_KEY`` →
    ``("aws", "secret", "access", "key")``."""
    parts: list[str] = []
    for chunk in _SPLIT.split(key):
        if chunk:
            parts.extend(p.lower() for p in _CAMEL.split(chunk) if p)
    return tuple(parts)


def _is_password_word(word: str) -> bool:
    if word in PASSWORD_WORDS:
        return True
    if word.endswith(("password", "passwd", "passphrase")):
        return True
    return word.endswith("pass") and word not in _PASS_NOT and len(word) <= 12


def classify(key: str) -> KeyKind | None:
    """``"password"`` / ``"secret"`` when a value under ``key`` is one, else None."""
    parts = words(key)
    if not parts:
        return None
    last = parts[-1]
    if last in NON_SECRET_LAST or (parts[0] in NON_SECRET_FIRST and len(parts) > 1):
        return None
    if any(p in NON_SECRET_ANYWHERE for p in parts):
        return None
    if _is_password_word(last):
        return "password"
    if last in SECRET_WORDS or last.endswith(("secret", "token", "apikey", "privatekey")):
        return "secret"
    if last in ("key", "keys") and len(parts) > 1 and parts[-2] in KEY_QUALIFIERS:
        return "secret"
    if last in ("value", "plain", "plaintext", "cleartext", "clear", "raw", "text"):
        if any(_is_password_word(p) for p in parts[:-1]):
            return "password"
        if any(p in SECRET_WORDS for p in parts[:-1]):
            return "secret"
    return None
