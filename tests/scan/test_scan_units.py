"""The scanner's small parts: fingerprints, key names, placeholders, SOPS
envelopes, the keyword matcher's two backends, config globs, git diff
parsing, SARIF; and that nothing holding a value shows it in a repr."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homelab_secrets.scan import config, envelope, fingerprint, keynames, sarif
from homelab_secrets.scan.gitsource import _parse_diff
from homelab_secrets.scan.matcher import KeywordMatcher
from homelab_secrets.scan.model import Finding, Hit, value_prefix
from homelab_secrets.scan.placeholders import is_placeholder


def test_fingerprints_are_keyed_hmacs_of_the_value_only() -> None:
    a = fingerprint.of_value("hunter2-Xtra")
    assert a == fingerprint.of_value("  hunter2-Xtra\n")  # surrounding space ignored
    assert a != fingerprint.of_value("hunter2-Xtrb")
    assert a != fingerprint.of_value("hunter2-Xtra", key=b"another key")
    assert len(a) == 32
    assert int(a, 16) >= 0
    assert fingerprint.key_from_environment({}) == fingerprint.DEFAULT_KEY
    assert fingerprint.key_from_environment({fingerprint.KEY_ENV: "k"}) == b"k"
    assert fingerprint.of_policy("forbidden-file", "a") != fingerprint.of_policy(
        "forbidden-file", "b"
    )


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("db_password", "password"), ("dbPassword", "password"), ("DB_PASS", "password"),
        ("ansible_become_pass", "password"), ("passphrase", "password"), ("PGPASSWORD", "password"),
        ("api_key", "secret"), ("apiKey", "secret"), ("hec_token", "secret"),
        ("tls.key", "secret"),
        ("AWS_SECRET_ACCESS_KEY", "secret"), ("client_secret", "secret"),
        ("token_secret", "secret"),
        ("password_file", None), ("api_token_id", None), ("existingSecret", None),
        ("public_key", None), ("token_ttl", None), ("secretName", None), ("bypass", None),
        ("keyboard", None), ("homelab-secrets", None), ("password_length", None),
    ],
)  # fmt: skip
def test_key_names(key: str, kind: str | None) -> None:
    assert keynames.classify(key) == kind


@pytest.mark.parametrize(
    "value",
    [
        "{{ vault_db_password }}", "${DB_PASSWORD}", "${DB_PASSWORD:?set it}", "$DB_PASSWORD",
        "$(cat /run/secrets/db)", "${{ secrets.DB_PASSWORD }}", "<your-password>", "changeme",
        "TODO", "xxxxxxxx", "********", "...", "your_api_key_here", "!vault |", "!secret db_pw",
        "%(password)s", "/run/secrets/db", "~/.ssh/id_rsa", "DB_PASSWORD", "AKIAIOSFODNN7EXAMPLE",
        "$6$rounds=4096$salt$abc", "sha256:0123456789abcdef0123", "lookup('env', 'X')", "",
    ],
)  # fmt: skip
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    ["Tr0ub4dor&3", "correct horse battery staple", "hunter2-Xtra", "Summer2024!", "p@ss w0rd"],
)
def test_passwords_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value, ("db", "password"))


def test_envelopes_are_checked_for_shape() -> None:
    iv, tag = "A" * 43 + "=", "B" * 21 + "A=="
    good = f"ENC[AES256_GCM,data:aGVsbG8=,iv:{iv},tag:{tag},type:str]"
    assert envelope.is_envelope(good)
    assert envelope.blank(f"x: {good}\n".encode()) == b"x: " + b" " * len(good) + b"\n"
    for bad in (
        good.replace("aGVsbG8=", "hunter2"),  # not base64
        good.replace(tag, "B" * 20 + "=="),  # a tag that is not 16 bytes
        good.replace(tag, "B" * 22 + "=="),  # not canonical base64
        good.replace(iv, "AAAA"),  # an IV that is too short
        good.replace("type:str", "type:secret"),
        "ENC[AES256_GCM,data:hunter2]",
    ):
        assert not envelope.is_envelope(bad)
        assert envelope.blank(bad.encode()) == bad.encode()


_WORDS = ["pass", "ghp_", "-----begin", "key", "token", "dp.st.", "age-secret-key-"]


@given(st.lists(st.sampled_from([*_WORDS, "x", "PASS", "Key", " ", "\n", "é"]), max_size=60))
def test_both_matcher_backends_find_the_same_occurrences(parts: list[str]) -> None:
    data = "".join(parts).encode()
    fast = KeywordMatcher(_WORDS, backend="hyperscan")
    slow = KeywordMatcher(_WORDS, backend="python")
    assert sorted(fast.scan(data)) == sorted(slow.scan(data))


def test_matcher_rejects_keywords_it_cannot_match_caselessly() -> None:
    with pytest.raises(ValueError, match="lower-case"):
        KeywordMatcher(["Pass"])


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("tests/scan/corpus/**", "tests/scan/corpus/a/b.env", True),
        ("tests/scan/corpus/**", "tests/scan/other.env", False),
        ("*.env", "deep/dir/app.env", True),
        ("*.env", "app.envx", False),
        ("node_modules", "web/node_modules/x/y.js", True),
        ("docs/*.md", "docs/a.md", True),
        ("docs/*.md", "docs/sub/a.md", False),
        ("docs/**/*.md", "docs/sub/a.md", True),
    ],
)
def test_config_globs(glob: str, path: str, hit: bool) -> None:
    assert bool(config.glob_regex(glob).match(path)) is hit


def test_config_rejects_what_it_does_not_know() -> None:
    with pytest.raises(Exception, match="unknown keys"):
        config.parse("exlude: []\n", "cfg.yaml")
    with pytest.raises(Exception, match="needs a reason"):
        config.parse(f"allow:\n  - fingerprint: {'a' * 32}\n", "cfg.yaml")


def test_diff_parsing_keeps_new_side_lines_renames_and_binaries() -> None:
    diff = (
        b"diff --git a/app.env b/app.env\nindex 1..2 100644\n--- a/app.env\n+++ b/app.env\n"
        b"@@ -2,0 +3,2 @@\n+A=1\n+B=2\n@@ -9 +11 @@\n-x\n+y\n"
        b"diff --git a/old.yaml b/new.yaml\nsimilarity index 100%\nrename from old.yaml\n"
        b"rename to new.yaml\n"
        b"diff --git a/k.p12 b/k.p12\nnew file mode 100644\n"
        b"Binary files /dev/null and b/k.p12 differ\n"
    )
    changes = {c.path: c.lines for c in _parse_diff(diff)}
    assert changes == {"app.env": {3, 4, 11}, "new.yaml": set(), "k.p12": set()}


def test_reprs_and_prefixes_never_show_a_value() -> None:
    secret = "hunter2-Xtra-Long"
    hit = Hit(0, 10, secret, "generic-password", "password", "t")
    assert secret not in repr(hit)
    assert value_prefix(secret) == "hunt"
    assert value_prefix("abcdefg") == "a"  # at most a quarter of a short value
    assert value_prefix("a\nbcdefghijk") == "a?b"


def test_sarif_lists_every_rule_and_no_value() -> None:
    f = Finding("a.env", 2, 13, "generic-password", "password", "Password", "0" * 32, 20, "hunt")
    doc = json.loads(sarif.to_sarif([f]))
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert {"github-token", "sops-unencrypted-file", "forbidden-file", "generic-password"} <= set(
        ids
    )
    result = run["results"][0]
    assert ids[result["ruleIndex"]] == "generic-password"
    assert result["partialFingerprints"] == {"homelabSecretsFingerprint/v1": "0" * 32}
    assert "hunt" not in json.dumps(result)
