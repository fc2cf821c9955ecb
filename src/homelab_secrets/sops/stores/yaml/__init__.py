"""The YAML store's engine: a port of the parts of go.yaml.in/yaml/v3 v3.0.4
(a Go port of libyaml that also keeps comments) and of sops'
``stores/yaml/store.go`` that sops 3.11 runs, so that we read and write
YAML exactly as sops does: which comment lands where, which scalar gets
which Go type, which error text comes out, and every byte of the output.

One job per module, in the order the bytes travel, each following its Go
file:

* ``yamlh``: marks, errors, escapes, lazily compiled patterns
  (``yamlh.go``, ``yaml.go``);
* ``reader``: bytes → text, BOMs, UTF-8/UTF-16 (``readerc.go``);
* ``scanner``: text → tokens, with comments (``scannerc.go``);
* ``parser``: tokens → events (``parserc.go``);
* ``composer``: events → ``yaml.Node`` documents (``decode.go``, its parser);
* ``resolver``: a scalar's tag and Go value (``resolve.go``);
* ``decoder``: the checks of ``yaml.Unmarshal`` (``decode.go``, its decoder);
* ``treewalk``: nodes → sops' tree, and the metadata (sops'
  ``stores/yaml/store.go``);
* ``sopsfile``: sops' metadata structs as yaml.v3 sees them, the removal of
  the ``sops`` key (sops' ``stores/stores.go``);
* ``fast``: the fast path for what sops itself writes (``store.go`` on that
  subset);
* ``load``: ``LoadPlainFile``/``LoadEncryptedFile``, fast path first
  (``stores/yaml/store.go``);
* ``emitter``: tree → bytes (``emitterc.go``, ``encode.go``, ``store.go``).

:mod:`homelab_secrets.sops.stores.yaml_store` is the store (the interface
every format shares); it imports :mod:`.load` or :mod:`.emitter` when first
used.  Nothing is imported here: start-up time matters (``decrypt`` races
the Go binary).
"""
