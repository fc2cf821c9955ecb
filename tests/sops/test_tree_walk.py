"""Which values get encrypted, under which AAD, and what the MAC covers."""

from __future__ import annotations

import copy
import hashlib

import pytest

from homelab_secrets.sops.cipher import Cipher
from homelab_secrets.sops.model import Branch, Comment, GoTime, Uint64
from homelab_secrets.sops.tree import (
    MAC_ONLY_ENCRYPTED_INIT,
    Rules,
    TreeError,
    decrypt_tree,
    encrypt_tree,
)

KEY = b"k" * 32


def sample() -> list[Branch]:
    return [
        Branch(
            [
                ("db", Branch([(Comment(" inside db"), None), ("password", "p1"), ("user", "u")])),
                ("password", "p2"),
                ("list", [Branch([("password", "p3"), ("x", "y")])]),
                ("cfg_unencrypted", Branch([("deep", Branch([("secret", "s")]))])),
            ]
        )
    ]


def encrypted_paths(branches: list[Branch]) -> list[str]:
    found: list[str] = []

    def visit(value, path):
        if isinstance(value, Branch):
            for k, v in value:
                if isinstance(k, Comment):
                    if k.value.startswith("ENC["):
                        found.append(".".join(path) + "#")
                    continue
                visit(v, [*path, k])
        elif isinstance(value, list):
            for v in value:
                visit(v, path)
        elif isinstance(value, str) and value.startswith("ENC["):
            found.append(".".join(path))

    for b in branches:
        visit(b, [])
    return found


def test_default_rule_leaves_unencrypted_suffix_subtrees_clear():
    b = sample()
    encrypt_tree(b, Cipher(KEY), Rules())
    assert encrypted_paths(b) == [
        "db#",
        "db.password",
        "db.user",
        "password",
        "list.password",
        "list.x",
    ]
    assert b[0].get("cfg_unencrypted").get("deep").get("secret") == "s"


def test_encrypted_regex_matches_any_path_component_unanchored():
    b = sample()
    encrypt_tree(b, Cipher(KEY), Rules(encrypted_regex="^pass"))
    assert encrypted_paths(b) == ["db.password", "password", "list.password"]


def test_encrypted_regex_on_a_parent_covers_its_comments_and_children():
    b = sample()
    encrypt_tree(b, Cipher(KEY), Rules(encrypted_regex="^db$"))
    assert encrypted_paths(b) == ["db#", "db.password", "db.user"]


def test_aad_is_map_keys_joined_without_list_indices():
    b = [Branch([("list", [Branch([("k", "v")]), ["inner"]])])]
    encrypt_tree(b, Cipher(KEY), Rules())
    c = Cipher(KEY)
    outer = b[0].get("list")
    assert c.decrypt(outer[0].get("k"), "list:k:") == "v"
    assert c.decrypt(outer[1][0], "list:") == "inner"


def test_top_level_comment_aad_is_a_lone_colon():
    b = [Branch([(Comment(" top"), None), ("a", "b")])]
    encrypt_tree(b, Cipher(KEY), Rules())
    assert Cipher(KEY).decrypt(b[0][0][0].value, ":") == Comment(" top")


def test_comments_in_lists_become_items_and_come_back_as_comments():
    b = [Branch([("c", [Comment(" before"), "x"])])]
    original = copy.deepcopy(b)
    mac = encrypt_tree(b, Cipher(KEY), Rules())
    assert isinstance(b[0].get("c")[0], str)
    assert b[0].get("c")[0].endswith("type:comment]")
    assert decrypt_tree(b, Cipher(KEY), Rules()) == mac
    assert b == original


def test_mac_covers_unencrypted_values_in_go_form_and_skips_nulls_and_comments():
    b = [
        Branch(
            [
                ("a_unencrypted", 5),
                ("b_unencrypted", True),
                ("c_unencrypted", 1.5),
                ("d_unencrypted", GoTime("2001-12-14T00:00:00Z")),
                ("f_unencrypted", 1e21),
                ("n", None),
                (Comment(" x"), None),
                ("s", "secret"),
            ]
        )
    ]
    mac = encrypt_tree(b, Cipher(KEY), Rules())
    expected = (
        hashlib.sha512(
            b"5"
            + b"True"
            + b"1.5"
            + b"2001-12-14T00:00:00Z"
            + b"1000000000000000000000"
            + b"secret"
        )
        .hexdigest()
        .upper()
    )
    assert mac == expected


def test_mac_only_encrypted_prefixes_sha256_sops_and_hashes_encrypted_only():
    b = [Branch([("plain_unencrypted", "p"), ("s", "secret")])]
    mac = encrypt_tree(b, Cipher(KEY), Rules(mac_only_encrypted=True))
    assert mac == hashlib.sha512(MAC_ONLY_ENCRYPTED_INIT + b"secret").hexdigest().upper()


def test_reordering_values_changes_the_mac_renaming_clear_keys_does_not():
    def mac_of(items):
        return encrypt_tree([Branch(items)], Cipher(KEY), Rules())

    base = mac_of([("a_unencrypted", "1"), ("b_unencrypted", "2")])
    assert mac_of([("b_unencrypted", "2"), ("a_unencrypted", "1")]) != base
    assert mac_of([("z_unencrypted", "1"), ("b_unencrypted", "2")]) == base


def test_encrypted_comment_regex_encrypts_only_what_follows_the_marker():
    b = [
        Branch(
            [
                (Comment(" sops:enc"), None),
                ("a", "1"),
                ("b", "2"),
                (Comment(" sops:enc"), None),
                ("e", Branch([("f", "3"), ("g", "4")])),
            ]
        )
    ]
    encrypt_tree(b, Cipher(KEY), Rules(encrypted_comment_regex="sops:enc"))
    assert encrypted_paths(b) == ["a", "e.f", "e.g"]


def test_unencrypted_comment_regex_keeps_marked_values_clear():
    b = [Branch([(Comment(" clear"), None), ("a", "1"), ("b", "2")])]
    encrypt_tree(b, Cipher(KEY), Rules(unencrypted_comment_regex="clear"))
    assert encrypted_paths(b) == ["b"]


def test_non_string_keys_are_refused_naming_the_container():
    with pytest.raises(TreeError, match=r"non-string key \(type int\) under 'outer'") as info:
        encrypt_tree([Branch([("outer", Branch([(1, "a")]))])], Cipher(KEY), Rules())
    assert info.value.exit_code == 23


def test_uint64_values_cannot_be_walked():
    with pytest.raises(TreeError, match="unknown type: uint64") as info:
        encrypt_tree([Branch([("big", Uint64(2**63))])], Cipher(KEY), Rules())
    assert info.value.exit_code == 23


def test_decrypting_a_clear_value_where_a_secret_belongs_fails_without_the_value():
    b = [Branch([("db", Branch([("password", "hunter2")]))])]
    with pytest.raises(TreeError) as info:
        decrypt_tree(b, Cipher(KEY), Rules())
    assert info.value.exit_code == 25
    assert "db.password" in info.value.message
    assert "hunter2" not in info.value.message


def test_a_plain_comment_where_an_encrypted_one_belongs_is_kept_and_reported():
    b = [Branch([(Comment(" legacy"), None), ("a", Cipher(KEY).encrypt("x", "a:"))])]
    seen: list[tuple[str, ...]] = []
    decrypt_tree(b, Cipher(KEY), Rules(), seen.append)
    assert b[0][0][0] == Comment(" legacy")
    assert seen == [()]
