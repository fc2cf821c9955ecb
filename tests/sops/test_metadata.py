"""The sops section is validated like sops' ToInternal and written in its struct order."""

from __future__ import annotations

import pytest

from homelab_secrets.sops.metadata import AgeKey, Metadata, MetadataError, OtherKey
from homelab_secrets.sops.model import Branch, NilList


def raw(**over):
    base = {
        "age": [{"recipient": "age1abc", "enc": "ENC-ARMOR"}],
        "lastmodified": "2026-11-29T14:36:23Z",
        "mac": "ENC[...]",
        "version": "3.11.0",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_no_rule_means_the_default_unencrypted_suffix():
    assert Metadata.from_raw(raw()).rules.unencrypted_suffix == "_unencrypted"


@pytest.mark.parametrize(
    ("text", "aad"),
    [
        ("2026-11-29T10:00:00.5Z", "2026-11-29T10:00:00Z"),
        ("2026-11-29T10:00:00+00:00", "2026-11-29T10:00:00Z"),
        ("2026-11-29T10:00:00+02:00", "2026-11-29T10:00:00+02:00"),
    ],
)
def test_lastmodified_is_normalised_to_seconds_for_the_mac_aad(text, aad):
    assert Metadata.from_raw(raw(lastmodified=text)).lastmodified == aad


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"version": None}, "Version string empty"),
        ({"version": "abc"}, "Major.Minor.Patch"),
        ({"version": "3.7"}, "Major.Minor.Patch"),
        ({"lastmodified": None}, "lastmodified"),
        ({"age": None}, "No keys found in file"),
        ({"encrypted_regex": "a", "unencrypted_suffix": "b"}, "more than one"),
    ],
)
def test_invalid_metadata_fails_like_sops(over, message):
    with pytest.raises(MetadataError, match=message) as info:
        Metadata.from_raw(raw(**over))
    assert info.value.exit_code == 1


@pytest.mark.parametrize("version", ["99.0.0", "1.0", "v3.11.0", "2.0.0", "3.11.0-rc1"])
def test_versions_sops_accepts(version):
    assert Metadata.from_raw(raw(version=version)).version == version


def test_flat_store_strings_are_typed():
    m = Metadata.from_raw(
        raw(
            age=None,
            key_groups=[{"age": [{"recipient": "a1", "enc": "e"}]}] * 2,
            shamir_threshold="2",
            mac_only_encrypted="true",
        )
    )
    assert m.shamir_threshold == 2
    assert m.rules.mac_only_encrypted is True
    assert len(m.key_groups) == 2


def test_single_group_is_written_flat_in_sops_field_order():
    m = Metadata.from_raw(raw(encrypted_regex="^x"))
    branch = m.to_branch()
    assert [k for k, _ in branch] == ["age", "lastmodified", "mac", "encrypted_regex", "version"]
    assert list(branch.get("age")[0]) == [("recipient", "age1abc"), ("enc", "ENC-ARMOR")]


def test_several_groups_are_written_as_key_groups_with_nil_hc_vault():
    m = Metadata(
        key_groups=[[AgeKey("a1", "e1")], [AgeKey("a2", "e2")]],
        shamir_threshold=2,
        lastmodified="2026-11-29T14:36:23Z",
        mac="m",
    )
    branch = m.to_branch()
    assert [k for k, _ in branch][:2] == ["shamir_threshold", "key_groups"]
    group = branch.get("key_groups")[0]
    assert [k for k, _ in group] == ["hc_vault", "age"]
    assert isinstance(group.get("hc_vault"), NilList)


def test_other_key_types_are_preserved_verbatim_in_order():
    pgp = {"created_at": "2020-01-01T00:00:00Z", "enc": "-----BEGIN PGP", "fp": "FBC7"}
    kms = {
        "arn": "arn:aws:kms:x",
        "created_at": "2020-01-01T00:00:00Z",
        "enc": "blob",
        "aws_profile": "",
    }
    m = Metadata.from_raw(raw(pgp=[pgp], kms=[kms]))
    assert sorted(k.type for k in m.key_groups[0] if isinstance(k, OtherKey)) == ["kms", "pgp"]
    branch = m.to_branch()
    assert [k for k, _ in branch] == [
        "kms",
        "age",
        "lastmodified",
        "mac",
        "pgp",
        "unencrypted_suffix",
        "version",
    ]
    assert list(branch.get("kms")[0]) == [
        ("arn", "arn:aws:kms:x"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("enc", "blob"),
        ("aws_profile", ""),
    ]
    assert isinstance(branch.get("pgp")[0], Branch)


def test_repr_never_shows_wrapped_keys():
    m = Metadata.from_raw(raw())
    assert "ENC-ARMOR" not in repr(m)
