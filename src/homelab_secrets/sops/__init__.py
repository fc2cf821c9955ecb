"""A pure-Python SOPS engine, byte-compatible with the `sops` 3.x binary.

Bytes and keys in, bytes out: nothing here knows GitHub, the environment
(except :mod:`.keys.age`'s documented identity lookup, which mirrors sops) or
the terminal.  See ``../shared/reference/sops-format.md`` for the format.
"""
