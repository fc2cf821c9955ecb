"""Differential testing against the real sops: generated documents of every
store, encrypted and decrypted by both tools, exit codes and bytes compared.

For each document (YAML, JSON, dotenv, INI, binary; valid ones, and a share
of the mistakes people make):

* both tools encrypt it: the exit codes must be equal; when both succeed the
  two files must have the same shape (random parts masked);
* sops decrypts our file, we decrypt sops' file, sops decrypts its own: the
  three outputs and exit codes must be equal.

The budget is fixed: ``DIFF_DOCS`` documents per store in CI (``CI=true``)
from a fixed seed, so a red CI is reproducible; locally a random seed (shown
in the failure, and set with ``HOMELAB_SECRETS_DIFF_SEED``) explores new
documents every run.  A failure prints the document and how to replay it.
Known deliberate differences (README "SOPS compatibility") are not generated.
"""

from __future__ import annotations

import os
import random
import re
import string
from collections.abc import Callable
from pathlib import Path

import pytest

from support.sops_oracle import IN_CI, AgeKeyPair, requires_sops, run_ours, run_sops

pytestmark = [requires_sops, pytest.mark.slow]

#: Documents per store and chunk; chunks spread over the xdist workers.
DIFF_DOCS = int(os.environ.get("HOMELAB_SECRETS_DIFF_DOCS") or 40)
CHUNKS = 2
CI_SEED = 20261206
SEED = int(
    os.environ.get("HOMELAB_SECRETS_DIFF_SEED") or (CI_SEED if IN_CI else random.randrange(2**32))
)


# ------------------------------------------------------------------ generators
WORDS = ["alpha", "beta", "db", "password", "token", "x", "k_unencrypted", "Über", "naïve", "a b"]
YAML_SCALARS = [
    "plain", "two words", "123", "-7", "0x1F", "0o17", "017", "1_000", "3.14", "1e3", "-.5",
    ".inf", "-.Inf", ".nan", "true", "False", "yes", "on", "off", "y", "~", "null", "",
    "2024-01-02", "2024-01-02T03:04:05Z", "2024-1-2 3:04:05.5", "'single'", "'it''s'",
    '"double"', '"esc \\t \\u00e9 \\x41"', '"multi\\nline"', "9223372036854775807",
    "-9223372036854775809", "1.0", "0.1", "100000000000000000000", "ENC[looks,like,sops]",
    "!!str 12", "!!binary aGVsbG8=", "!!float 3", "'@at'", "[1, 2]", "{a: 1}", "[]", "{}",
    "☃ snow", "a#b", "x:y", "'#hash'", "<<",
]  # fmt: skip
#: Rarer scalars, mistakes among them: both tools must refuse them alike.
YAML_RARE = [
    "9223372036854775808", "!!int '5'", "`back`", "%percent", "*notalias", "- dash", "a: b",
    "#notacomment", "@at", "!!binary not-base64", "&anchor value", "!custom tag", "| x",
    "[unclosed", "{a: 1, a: 2}", '"bad \\q escape"', "tab\there",
]  # fmt: skip


def yaml_scalar(r: random.Random) -> str:
    return r.choice(YAML_RARE if r.random() < 0.05 else YAML_SCALARS)


def yaml_key(r: random.Random, used: set[str]) -> str:
    for _ in range(20):
        key = r.choice(
            [r.choice(WORDS), "".join(r.choices(string.ascii_lowercase, k=r.randint(1, 6)))]
        )
        if r.random() < 0.1:
            key = r.choice(["'quoted key'", '"dq key"', "123", "true", "!!binary aGk=", "k:x"])
        if key not in used and key != "sops":
            used.add(key)
            return key
    return f"k{len(used)}"


def yaml_block(r: random.Random, indent: int, depth: int, lines: list[str]) -> None:
    """A block mapping at ``indent``."""
    used: set[str] = set()
    pad = " " * indent
    for _ in range(r.randint(1, 4)):
        if r.random() < 0.25:
            lines.append(f"{' ' * r.choice([indent, indent, 0])}# c{r.randint(0, 9)}")
        if r.random() < 0.1:
            lines.append("")
        key = yaml_key(r, used)
        roll = r.random()
        if depth < 3 and roll < 0.25:
            lines.append(f"{pad}{key}:")
            yaml_block(r, indent + r.choice([2, 4]), depth + 1, lines)
        elif depth < 3 and roll < 0.45:
            lines.append(f"{pad}{key}:")
            yaml_sequence(r, indent + r.choice([0, 2, 4]), depth + 1, lines)
        elif roll < 0.55:
            chomp = r.choice(["", "-", "+"])
            style = r.choice(["|", ">"])
            lines.append(f"{pad}{key}: {style}{chomp}")
            for _ in range(r.randint(1, 3)):
                lines.append(f"{pad}  {r.choice(['text', 'more text', '  indented', ''])}")
        else:
            comment = f" # t{r.randint(0, 9)}" if r.random() < 0.15 else ""
            lines.append(f"{pad}{key}: {yaml_scalar(r)}{comment}".rstrip())


def yaml_sequence(r: random.Random, indent: int, depth: int, lines: list[str]) -> None:
    pad = " " * indent
    for _ in range(r.randint(1, 3)):
        if r.random() < 0.2:
            lines.append(f"{pad}# item comment")
        roll = r.random()
        if depth < 3 and roll < 0.25:
            lines.append(f"{pad}- {yaml_key(r, set())}: {yaml_scalar(r)}")
            lines.append(f"{pad}  {yaml_key(r, set())}x: {yaml_scalar(r)}")
        elif roll < 0.35:
            lines.append(f"{pad}- |")
            lines.append(f"{pad}    block {r.randint(0, 9)}")
            if r.random() < 0.5:
                lines.append("")
        else:
            lines.append(f"{pad}- {yaml_scalar(r)}".rstrip())


def gen_yaml(r: random.Random) -> bytes:
    docs = []
    for _ in range(r.choice([1, 1, 1, 2])):
        lines: list[str] = []
        yaml_block(r, 0, 0, lines)
        if r.random() < 0.1:
            anchor = "".join(r.choices(string.ascii_lowercase, k=3))
            lines.append(f"anch: &{anchor} {{x: 1}}")
            lines.append(f"alias_of: *{anchor}")
        docs.append("\n".join(lines) + "\n")
    text = "---\n".join(docs)
    if r.random() < 0.08:  # a mistake: bad indentation, an unclosed quote, a tab
        text = r.choice([text + "  bad: [\n", text + 'x: "open\n', "\t" + text, text + " - y\n"])
    return text.encode()


def json_value(r: random.Random, depth: int) -> str:
    roll = r.random()
    if depth < 3 and roll < 0.2:
        items = [json_value(r, depth + 1) for _ in range(r.randint(0, 3))]
        return "[" + ", ".join(items) + "]"
    if depth < 3 and roll < 0.4:
        return json_object(r, depth + 1)
    return r.choice(
        [
            '"s"', '"two words"', '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t"', '"\\u00e9\\u2028"',
            '"<&>"', '""', "0", "-0", "42", "-7", "3.25", "1e21", "1e-7", "1.5E+3",
            "12345678901234567890", "0.1", "true", "false", "null", '"ENC[x]"', '"☃"',
        ]
    )  # fmt: skip


def json_object(r: random.Random, depth: int) -> str:
    keys = [r.choice([*WORDS, "", "sopsy", "a.b"]) for _ in range(r.randint(0, 4))]
    return "{" + ", ".join(f'"{k}": {json_value(r, depth)}' for k in keys) + "}"


def gen_json(r: random.Random) -> bytes:
    text = json_object(r, 0)
    if r.random() < 0.08:  # mistakes both refuse
        text = r.choice(["[" + text + "]", "x" + text, '"just a string"', "42"])
    return (text + r.choice(["", "\n", "\n\n"])).encode()


def gen_dotenv(r: random.Random) -> bytes:
    lines = []
    for _ in range(r.randint(1, 6)):
        roll = r.random()
        if roll < 0.15:
            lines.append("# " + r.choice(WORDS))
        elif roll < 0.2:
            lines.append("")
        else:
            key = r.choice(["A", "DB_URL", "token", "x_unencrypted", "WITH SPACE", "É"])
            value = r.choice(
                ["v", "", "a=b", " lead", "trail ", '"quoted"', "'single'", "x\\ny", "☃", "#h"]
            )
            lines.append(f"{key}{r.randint(0, 99)}={value}")
    if r.random() < 0.05:
        lines.append("no equals sign")  # a mistake both refuse
    return ("\n".join(lines) + r.choice(["\n", ""])).encode()


def gen_ini(r: random.Random) -> bytes:
    lines = []
    if r.random() < 0.3:
        lines.append(f"top{r.randint(0, 9)} = {r.choice(['v', 'x y'])}")
    for s in range(r.randint(1, 3)):
        if r.random() < 0.2:
            lines.append(r.choice(["; section comment", "# hash comment"]))
        lines.append(f"[{r.choice(['db', 'api', 'sec tion'])}{s}]")
        for k in range(r.randint(0, 4)):
            if r.random() < 0.15:
                lines.append("; key comment")
            sep = r.choice([" = ", "=", ": "])
            value = r.choice(["v", "two words", "", "1", "true", "a;b", '"q"', "☃", "x=y"])
            lines.append(f"{r.choice(['key', 'pass', 'k_unencrypted'])}{k}{sep}{value}".rstrip())
    return ("\n".join(lines) + "\n").encode()


def gen_binary(r: random.Random) -> bytes:
    return r.choice(
        [
            bytes(r.randrange(256) for _ in range(r.randint(0, 64))),
            "".join(r.choices(string.printable, k=r.randint(1, 80))).encode(),
            b"",
        ]
    )


STORES: dict[str, tuple[str, Callable[[random.Random], bytes]]] = {
    "yaml": ("doc.yaml", gen_yaml),
    "json": ("doc.json", gen_json),
    "dotenv": ("doc.env", gen_dotenv),
    "ini": ("doc.ini", gen_ini),
    "binary": ("doc.bin", gen_binary),
}

_RANDOM_PARTS = [
    (re.compile(rb"ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:[^,]*,type:"), b"ENC[~,type:"),
    (
        re.compile(rb"-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----", re.S),
        b"AGE",
    ),
    (re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), b"TIME"),
]


def masked(data: bytes, fmt: str) -> list[bytes]:
    for rx, repl in _RANDOM_PARTS:
        data = rx.sub(repl, data)
    lines = data.split(b"\n")
    if fmt == "ini" and b"[sops]" in lines:  # sops 3.11 writes [sops] in random order
        i = lines.index(b"[sops]")
        lines = lines[:i] + sorted(re.sub(rb"\s+=", b" =", ln) for ln in lines[i:])
    return lines


# ------------------------------------------------------------------ the test
@pytest.fixture(scope="module")
def key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.mark.parametrize("chunk", range(CHUNKS))
@pytest.mark.parametrize("fmt", list(STORES))
def test_generated_documents_behave_alike(tmp_path: Path, key: AgeKeyPair, fmt, chunk) -> None:
    name, generate = STORES[fmt]
    r = random.Random(f"{SEED}-{fmt}-{chunk}")
    home = tmp_path / "home"
    home.mkdir()
    env = {"SOPS_AGE_KEY": key.identity}
    for n in range(DIFF_DOCS):
        doc = generate(r)
        replay = (
            f"document {n} of seed {SEED} ({fmt}, chunk {chunk}); replay with "
            f"HOMELAB_SECRETS_DIFF_SEED={SEED}:\n{doc!r}"
        )
        (tmp_path / name).write_bytes(doc)
        args = ["encrypt", "--age", key.recipient, name]
        theirs = run_sops(args, cwd=tmp_path, home=home)
        ours = run_ours(args, cwd=tmp_path, home=home)
        assert ours.returncode == theirs.returncode, (replay, theirs.stderr, ours.stderr)
        assert "internal error" not in ours.stderr, replay
        if theirs.returncode != 0:
            continue
        assert masked(ours.stdout, fmt) == masked(theirs.stdout, fmt), replay
        (tmp_path / f"theirs-{name}").write_bytes(theirs.stdout)
        (tmp_path / f"ours-{name}").write_bytes(ours.stdout)
        expected = run_sops(["decrypt", f"theirs-{name}"], cwd=tmp_path, home=home, env=env)
        got = run_ours(["decrypt", f"theirs-{name}"], cwd=tmp_path, home=home, env=env)
        back = run_sops(["decrypt", f"ours-{name}"], cwd=tmp_path, home=home, env=env)
        assert got.returncode == expected.returncode == back.returncode, (
            replay,
            expected.stderr,
            got.stderr,
            back.stderr,
        )
        assert got.stdout == expected.stdout, replay
        assert back.stdout == expected.stdout, replay
