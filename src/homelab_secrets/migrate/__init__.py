"""Doppler -> Infisical migration (``homelab-secrets migrate --from doppler
--to infisical``).

* :mod:`.mapping`: which Doppler project/config goes to which Infisical
  project/environment/path (a mapping file, or one mapping from flags);
* :mod:`.diff`: pure: the source's values against the target folder's, by
  name: create, update, unchanged, values Infisical would trim, values with
  ``${...}`` Infisical would expand, names only in the target; keyed
  fingerprints of the sets;
* :mod:`.runner`: per mapping, read both sides, write what differs in
  batches (the provider's idempotent upsert), read everything back and
  compare fingerprints; a failing mapping is reported and the others go on;
* :mod:`.report`: what happened, names and fingerprints only.

Nothing is ever deleted, in the source or the target; a rerun after a
partial failure writes only what is still missing or different.
"""
