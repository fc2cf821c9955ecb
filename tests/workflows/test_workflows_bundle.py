"""Sealing and opening a saved plan: both schemes, the wrong key, a damaged
or altered file, the metadata checks (a plan from another commit is stale),
the configuration hash; and no key ever in a message."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from homelab_secrets.errors import UserError
from homelab_secrets.workflows import bundle, confighash, plancheck

PLAN = b"PK\x03\x04 a saved plan, with a secret: plan-Secret-3f1d"
LOCK = b'provider "registry.terraform.io/bpg/proxmox" {}\n'
META = bundle.PlanMetadata(
    tool="terraform",
    working_directory="envs/prd",
    commit="a" * 40,
    config_hash="sha256:" + "1" * 64,
    environment="prd",
    repository="o/infra",
    changes={"add": 1, "change": 0, "destroy": 2},
)


def _pair(scheme: str) -> tuple[str, str]:
    return bundle.generate_keypair(scheme)


@pytest.mark.parametrize("scheme", ["age", "sealedbox"])
def test_round_trip(scheme: str) -> None:
    public, private = _pair(scheme)
    sealed = bundle.seal(bundle.pack(bundle.Bundle(META, {"plan": PLAN, "lock": LOCK})), public)
    assert sealed.startswith(bundle.SEALED_MAGIC + scheme.encode() + b"\n")
    assert b"plan-Secret" not in sealed
    opened = bundle.unpack(bundle.open_sealed(sealed, private))
    assert opened.metadata == META
    assert opened.files == {"plan": PLAN, "lock": LOCK}
    assert "plan-Secret" not in repr(opened)


def test_several_age_recipients_and_a_key_file_with_comments() -> None:
    (pub1, priv1), (pub2, priv2) = _pair("age"), _pair("age")
    sealed = bundle.seal(bundle.pack(bundle.Bundle(META, {"plan": PLAN})), f"{pub1}\n{pub2}\n")
    key_file = f"# created: today\n# public key: {pub2}\n{priv2}\n"
    assert bundle.unpack(bundle.open_sealed(sealed, key_file)).files == {"plan": PLAN}
    assert bundle.unpack(bundle.open_sealed(sealed, priv1)).files == {"plan": PLAN}


@pytest.mark.parametrize("scheme", ["age", "sealedbox"])
def test_the_wrong_key_is_refused_without_quoting_it(scheme: str) -> None:
    public, _ = _pair(scheme)
    _, other = _pair(scheme)
    sealed = bundle.seal(bundle.pack(bundle.Bundle(META, {"plan": PLAN})), public)
    with pytest.raises(UserError, match="cannot open this sealed plan") as caught:
        bundle.open_sealed(sealed, other)
    assert other not in caught.value.message
    assert caught.value.exit_code == 128


@pytest.mark.parametrize("scheme", ["age", "sealedbox"])
@pytest.mark.parametrize("where", [-1, -40, 60, 200])
def test_a_damaged_or_altered_file_does_not_open(scheme: str, where: int) -> None:
    public, private = _pair(scheme)
    sealed = bytearray(bundle.seal(bundle.pack(bundle.Bundle(META, {"plan": PLAN})), public))
    sealed[where] ^= 0x01
    with pytest.raises(UserError, match=r"damaged or altered|not a sealed plan|scheme"):
        bundle.unpack(bundle.open_sealed(bytes(sealed), private))


def test_a_truncated_file_does_not_open() -> None:
    public, private = _pair("age")
    sealed = bundle.seal(bundle.pack(bundle.Bundle(META, {"plan": PLAN})), public)
    with pytest.raises(UserError):
        bundle.open_sealed(sealed[: len(sealed) // 2], private)


def test_the_scheme_must_match_the_key() -> None:
    age_public, age_private = _pair("age")
    box_public, box_private = _pair("sealedbox")
    sealed_age = bundle.seal(bundle.pack(bundle.Bundle(META, {"plan": PLAN})), age_public)
    sealed_box = bundle.seal(bundle.pack(bundle.Bundle(META, {"plan": PLAN})), box_public)
    with pytest.raises(UserError, match="sealed to an age recipient") as caught:
        bundle.open_sealed(sealed_age, box_private)
    assert box_private not in caught.value.message
    with pytest.raises(UserError, match="libsodium") as caught:
        bundle.open_sealed(sealed_box, age_private)
    assert age_private not in caught.value.message
    with pytest.raises(UserError, match="PLAN_PRIVATE_KEY is empty"):
        bundle.open_sealed(sealed_age, "  \n")


@pytest.mark.parametrize(
    "key",
    ["", "age1notavalidrecipient", "c2hvcnQ=", "not base64 at all", "age1x\nQUJD"],
)
def test_bad_public_keys(key: str) -> None:
    with pytest.raises(UserError, match="plan-public-key") as caught:
        bundle.seal(b"x", key)
    if key:
        assert key not in caught.value.message


def test_not_a_sealed_plan() -> None:
    with pytest.raises(UserError, match="not a sealed plan"):
        bundle.open_sealed(b"PK\x03\x04 a plain plan", "AGE-SECRET-KEY-1X")
    with pytest.raises(UserError, match="unknown scheme"):
        bundle.open_sealed(bundle.SEALED_MAGIC + b"rot13\nxyz", "AGE-SECRET-KEY-1X")


def test_a_forged_bundle_is_malformed() -> None:
    """Anyone with the public key can seal; what opens must still be a bundle."""
    public, private = _pair("age")
    for plaintext in (
        b"just bytes",
        bundle.BUNDLE_MAGIC + b"\xff\xff\xff\xff",
        bundle.BUNDLE_MAGIC + b"\x00\x00\x00\x02{}",
    ):
        with pytest.raises(UserError, match="malformed"):
            bundle.unpack(bundle.open_sealed(bundle.seal(plaintext, public), private))
    good = bundle.pack(bundle.Bundle(META, {"plan": PLAN}))
    with pytest.raises(UserError, match="does not match"):
        bundle.unpack(good[:-1] + b"X")
    with pytest.raises(UserError, match="trailing"):
        bundle.unpack(good + b"extra")


# --------------------------------------------------------------------------- plan checks


def _expected(**changes: str) -> plancheck.Expected:
    values = {
        "commit": META.commit,
        "working_directory": META.working_directory,
        "tool": META.tool,
        "config_hash": META.config_hash,
        "environment": META.environment,
        "repository": META.repository,
        **changes,
    }
    return plancheck.Expected(**values)


def test_the_plan_of_this_commit_and_configuration_passes() -> None:
    plancheck.check(META, _expected())


def test_a_plan_from_another_commit_is_stale() -> None:
    with pytest.raises(
        UserError,
        match="it is stale: it was made at commit aaaaaaaaaaaa, this run is at bbbbbbbbbbbb",
    ):
        plancheck.check(META, _expected(commit="b" * 40))


def test_every_difference_is_listed() -> None:
    found = plancheck.problems(
        META,
        _expected(
            commit="c" * 40,
            working_directory="envs/dev",
            tool="tofu",
            config_hash="sha256:" + "2" * 64,
            environment="dev",
            repository="o/other",
        ),
    )
    assert len(found) == 6
    assert any("repository o/infra" in f for f in found)
    assert any("configuration differs" in f for f in found)


# --------------------------------------------------------------------------- configuration hash


def _root(tmp_path: Path) -> Path:
    wd = tmp_path / "envs" / "prd"
    wd.mkdir(parents=True)
    (wd / "main.tf").write_text('resource "terraform_data" "a" {}\n')
    (wd / "modules").mkdir()
    (wd / "modules" / "x.tf").write_text("# module\n")
    (tmp_path / "shared.tfvars").write_text('a = "1"\n')
    return tmp_path


def _hash(root: Path, **kwargs: object) -> str:
    args = {"tool": "terraform", "environment": "prd", "var_files": ["../../shared.tfvars"]}
    args.update(kwargs)
    return confighash.config_hash(root, "envs/prd", **args)  # type: ignore[arg-type]


def test_the_hash_follows_the_configuration(tmp_path: Path) -> None:
    root = _root(tmp_path)
    first = _hash(root)
    assert first == _hash(root)
    assert first.startswith("sha256:")
    wd = root / "envs" / "prd"
    # Terraform's own data and state files do not count
    (wd / ".terraform").mkdir()
    (wd / ".terraform" / "providers.json").write_text("{}")
    (wd / ".terraform.lock.hcl").write_text("# lock\n")
    (wd / "terraform.tfstate").write_text("{}")
    (wd / ".homelab-secrets").mkdir()
    (wd / ".homelab-secrets" / "x").write_text("ours")
    assert _hash(root) == first
    # everything else does
    assert _hash(root, tool="tofu") != first
    assert _hash(root, environment="dev") != first
    assert _hash(root, backend_config=["bucket=x"]) != first
    (root / "shared.tfvars").write_text('a = "2"\n')
    second = _hash(root)
    assert second != first
    (wd / "modules" / "x.tf").write_text("# changed\n")
    assert _hash(root) != second


def test_a_missing_working_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        confighash.config_hash(tmp_path, "nope", tool="terraform")


def test_nacl_keys_are_base64_32_bytes() -> None:
    public, private = _pair("sealedbox")
    assert len(base64.b64decode(public)) == 32
    assert len(base64.b64decode(private)) == 32
