"""sops' metadata structs as yaml.v3 decodes into them, and the removal of
the ``sops`` key from a loaded document.

Follows sops' ``stores/stores.go`` (``SopsFile``, ``Metadata`` and the key
structs: which field has which Go type, hence which YAML decodes into it
without an error) and ``stores/yaml/store.go``'s ``LoadEncryptedFile`` loop
that drops the ``sops`` item.  Shared by the complete path
(:mod:`.decoder`) and the fast path (:mod:`.fast`), which must not import
each other.
"""

from __future__ import annotations

from homelab_secrets.sops.model import Branch
from homelab_secrets.sops.stores.yaml.yamlh import SOPS_KEY

# Go destination types.
OUT_METADATA = "stores.Metadata"
STRING_PTR_MAP = "map[string]*string"
YAML11_BOOLS = frozenset(
    (
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "on",
        "On",
        "ON",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "off",
        "Off",
        "OFF",
    )
)


def _fields(**kinds: str) -> dict[str, str]:
    return kinds


# sops' metadata structs (stores/stores.go) as yaml.v3 sees them: field → Go type.
METADATA_STRUCTS: dict[str, dict[str, str]] = {
    "stores.agekey": _fields(recipient="string", enc="string"),
    "stores.pgpkey": _fields(created_at="string", enc="string", fp="string"),
    "stores.kmskey": _fields(
        arn="string",
        role="string",
        context=STRING_PTR_MAP,
        created_at="string",
        enc="string",
        aws_profile="string",
    ),
    "stores.gcpkmskey": _fields(resource_id="string", created_at="string", enc="string"),
    "stores.azkvkey": _fields(
        vault_url="string", name="string", version="string", created_at="string", enc="string"
    ),
    "stores.vaultkey": _fields(
        vault_address="string",
        engine_path="string",
        key_name="string",
        created_at="string",
        enc="string",
    ),
    "stores.hckmskey": _fields(key_id="string", created_at="string", enc="string"),
}
_KEY_LISTS = _fields(
    kms="[]stores.kmskey",
    gcp_kms="[]stores.gcpkmskey",
    hckms="[]stores.hckmskey",
    azure_kv="[]stores.azkvkey",
    hc_vault="[]stores.vaultkey",
    age="[]stores.agekey",
    pgp="[]stores.pgpkey",
)
METADATA_STRUCTS["stores.keygroup"] = dict(_KEY_LISTS)
METADATA_STRUCTS["stores.Metadata"] = {
    **_KEY_LISTS,
    "shamir_threshold": "int",
    "key_groups": "[]stores.keygroup",
    "lastmodified": "string",
    "mac": "string",
    "unencrypted_suffix": "string",
    "encrypted_suffix": "string",
    "unencrypted_regex": "string",
    "encrypted_regex": "string",
    "unencrypted_comment_regex": "string",
    "encrypted_comment_regex": "string",
    "mac_only_encrypted": "bool",
    "version": "string",
}


def erase_sops(branch: Branch) -> Branch:
    """store.go's ``for i, elt := range branch { if elt.Key == "sops" {
    branch = append(branch[:i], branch[i+1:]...) } }``, Go slice semantics
    included (the item after a removed one is not looked at)."""
    items = list(branch)
    length = len(items)
    for i in range(len(items)):
        key = items[i][0]
        if isinstance(key, str) and key == SOPS_KEY and i < length:
            items[i : length - 1] = items[i + 1 : length]
            length -= 1
    return Branch(items[:length])
