"""Key rotation over a whole repository (``homelab-secrets rekey``).

* :mod:`.rewrap`: one file: a new data key for every value (what sops'
  ``rotate`` does), wrapped for the recipients its ``.sops.yaml`` rule now
  lists (what ``updatekeys`` does), checked by a decrypt before it is written;
* :mod:`.flow`: every SOPS file of the repository, and ``--new-age-key``: a
  new key pair stored in the manager *next to* the old one, ``.sops.yaml``
  and every file moved to the new recipient, the old key retired from the
  manager last (``--retire-old-key``), so CI can always decrypt and a rerun
  finishes what a failed run started.
"""
