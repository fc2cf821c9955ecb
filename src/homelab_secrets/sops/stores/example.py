"""The document ``sops edit`` opens for a file that does not exist yet.

sops' ``EmitExample`` (``stores/stores.go``: ``ExampleComplexTree`` for YAML
and JSON, ``ExampleSimpleTree`` for INI, ``ExampleFlatTree`` for dotenv, a
line of text for the binary store), written by the format's own store.
"""

from __future__ import annotations

from homelab_secrets.sops.model import Branch, Comment

WELCOME = "Welcome to SOPS! Edit this file as you please!"


def tree(fmt: str) -> list[Branch]:
    """sops' example tree for ``fmt`` (not the binary store's)."""
    if fmt == "ini":
        section = Branch(
            [
                (Comment(" This is an example file."), None),
                ("hello", WELCOME),
                ("example_key", "example_value"),
            ]
        )
        return [Branch([("Welcome!", section)])]
    if fmt == "dotenv":
        return [
            Branch(
                [
                    (Comment(" This is an example file."), None),
                    ("hello", WELCOME),
                    ("example_key", "example_value"),
                    ("example_multiline", "foo\nbar\nbaz"),
                ]
            )
        ]
    return [
        Branch(
            [
                ("hello", WELCOME),
                ("example_key", "example_value"),
                (Comment(" Example comment"), None),
                ("example_array", ["example_value1", "example_value2"]),
                ("example_number", 1234.56789),
                ("example_booleans", [True, False]),
            ]
        )
    ]


def document(fmt: str) -> bytes:
    """The example file's bytes in ``fmt``, as sops' store writes them."""
    if fmt == "binary":
        return WELCOME.encode()
    from homelab_secrets.sops.stores import get_store

    return get_store(fmt).emit_plain(tree(fmt))
