"""Values that stand for a secret without being one.

A template or a reference is how a repository *should* hold a secret, so
none of these is ever reported:

* templating: Jinja / Go / Helm ``{{ vault_x }}``, ``{% ... %}``, Ansible
  ``lookup(...)``, ``!vault`` / ``!secret`` / ``!env_var`` tags;
* variables: ``${VAR}``, ``${VAR:?}``, ``$VAR``, ``$(cmd)``, ``%(name)s``,
  ``%VAR%``, ``@VAR@``, GitHub ``${{ secrets.X }}``;
* Terraform references (``var.x``, ``local.x``, ``data.sops_file.s.data["k"]``,
  ``random_password.db.result``, ``module.m.out``) and function calls
  (``file("...")``, ``sensitive(var.x)``);
* ``<your-token>``, ``changeme``, ``TODO``, ``XXXX``, ``****``, ``...``,
  values naming themselves (``password: password``, ``your_api_key_here``);
* documentation examples (AWS ``...EXAMPLE`` keys, ``example.com`` users);
* hashes (``$6$...`` crypt, ``sha256:...``, ``sha512-...`` integrity);
* paths (``/run/secrets/db``, ``~/.ssh/id_rsa``) and ALL_CAPS names of
  environment variables.
"""

from __future__ import annotations

import re

from homelab_secrets.scan.words import word_set

_TEMPLATE = re.compile(
    r"\{\{.*?\}\}|\{%|\$\{|\$\(|%\([\w.-]+\)[sd]|\blookup\s*\(|\bquery\s*\(|"
    r"^!(?:vault|secret|env_var|env|include|ref|sub|getatt)\b|^@[\w.-]+@$|^%[\w.-]+%$"
    r"|^\{[A-Za-z_]",
    re.I,
)
#: ``$VAR``, ``$env:VAR``, ``$SECRET_NAME``: a shell / PowerShell variable.
_SHELL_VAR = re.compile(r"^\$(?:env:)?[A-Za-z_][\w]*$")
#: Terraform / HCL references and function calls (unquoted).
_REFERENCE = re.compile(
    r"^(?:var|local|data|module|each|count|path|terraform|self|resource)\.[\w\-\[\]\"'*.]+$"
    r"|^[a-z][a-z0-9_]*\.[a-z][\w-]*\.(?:result|id|value|secret|password|token|key|\w+)"
    r"|^[a-z_][a-z0-9_]*\(",
)
_ANGLE = re.compile(r"^<[^<>]*>$|^\[[^\[\]]*\]$|^\{[^{}:,]*\}$")
#: Whole-value stop words (compared lower-cased, without quotes).
STOP_VALUES = word_set(
    """
    null nil none ~ true false yes no on off undefined undef required optional changeme
    change_me change-me changeit changethis password passwd pass secret token apikey api_key
    api-key key example sample dummy placeholder redacted hidden masked todo tbd fixme n/a
    na default empty string str text value test testing string? bool int integer number
    object secretstr sensitive notset not_set unset unknown env prompt ask auto generate
    generated random none_set replace replaceme
    """
)
_PLACEHOLDER_WORDS = re.compile(
    r"\b(?:your|my|some|enter|insert|put|paste|replace)[-_ ]?"
    r"(?:own[-_ ]?)?(?:super[-_ ]?)?(?:secret|password|pass|passwd|token|api[-_ ]?key|key|"
    r"credential|value|pw)"
    r"|change[-_ ]?(?:me|it|this)|replace[-_ ]?(?:me|this)|\bx{3,}\b|\*{3,}|\.{3}|…"
    r"|\b(?:placeholder|redacted|dummy|example|sample|demo|not[-_ ]?(?:a[-_ ]?)?real|fake|"
    r"todo|fixme|tbd)\b|_here\b|\bhere$",
    re.I,
)
_HASH = re.compile(
    r"^\$(?:1|2[abxy]?|5|6|y|gy|7|argon2(?:id|i|d)?|pbkdf2[-\w]*|scrypt|sha1|md5)\$"
    r"|^\{(?:SSHA|SHA|SSHA512|CRYPT|BCRYPT|PBKDF2[-\w]*)\}"
    r"|^(?:sha1|sha256|sha384|sha512|md5|h1|blake2b|sha224)[:-][A-Za-z0-9+/=_-]{16,}$",
    re.I,
)
_PATH = re.compile(r"^(?:/|~/|\./|\.\./)[\w@%+=:,./~-]*$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_DOC_EXAMPLE = re.compile(r"EXAMPLE|example\.(?:com|org|net)|\bfoo(?:bar)?\b|\blorem\b", re.I)
_REPEATED = re.compile(r"(.{1,8}?)\1{3,}|^(?:0123456789?|123456789?|abcdefgh?i?j?)$", re.I)


def is_templated(value: str) -> bool:
    """A template or variable that a tool fills in later."""
    return bool(_TEMPLATE.search(value) or _SHELL_VAR.match(value))


def is_reference(value: str) -> bool:
    """A Terraform-style reference or function call (meaningful unquoted only)."""
    return bool(_REFERENCE.match(value))


def is_placeholder(value: str, key_words: tuple[str, ...] = ()) -> bool:
    """True when ``value`` (already unquoted) is not a secret but stands for one.

    ``key_words`` are the words of the key it was assigned to: a value made
    only of them (``password: password``, ``db_pass: DB_PASS``) names itself.
    """
    text = value.strip()
    if not text:
        return True
    low = text.lower()
    if low in STOP_VALUES or is_templated(text):
        return True
    if _ANGLE.match(text) or _HASH.match(text) or _PATH.match(text):
        return True
    if _ENV_NAME.match(text):
        return True
    repeated = _REPEATED.search(text)
    if repeated and (repeated.end() - repeated.start()) * 2 >= len(text):
        return True
    if _PLACEHOLDER_WORDS.search(text) or _DOC_EXAMPLE.search(text):
        return True
    if key_words:
        squashed = re.sub(r"[^a-z0-9]", "", low)
        whole_key = "".join(key_words)
        if squashed in (whole_key, key_words[-1]):
            return True
        # "bench-api-key" for API_KEY, "mydbpassword" for db_password: the key and a word
        rest = squashed.replace(whole_key, "", 1)
        if len(key_words) > 1 and rest != squashed and rest.isalpha() and len(rest) <= 8:
            return True
    return False
