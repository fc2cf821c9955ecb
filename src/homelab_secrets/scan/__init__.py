"""The plaintext guard: find secrets committed in clear, knowing SOPS,
Ansible Vault, sealed secrets, Terraform and Ansible.

Public API:

* :func:`scan_bytes(path, data, policy=None) <homelab_secrets.scan.engine.scan_bytes>`
  and :class:`~homelab_secrets.scan.engine.Engine`: the pure core, one file's
  path and bytes in, :class:`~homelab_secrets.scan.model.Finding` list out;
* :class:`~homelab_secrets.scan.policy.Policy`: the ``.sops.yaml`` files of a tree;
* :func:`homelab_secrets.scan.job.run`: a whole scan as the ``scan`` command
  runs it (files, diff range or index; config, baseline, allow entries);
* :mod:`.report` / :mod:`.sarif`: text, JSON and SARIF.

Layout (one job per module): :mod:`.classify` (structure, ciphertext
blanked), :mod:`.envelope` (SOPS ``ENC[...]``), :mod:`.sopsfile` (SOPS
metadata and clear values), :mod:`.policy`, :mod:`.matcher` (the keyword
prefilter), :mod:`.detectors` (one module per token family),
:mod:`.placeholders`, :mod:`.keynames`, :mod:`.engine`, :mod:`.fingerprint`,
:mod:`.baseline`, :mod:`.config`, :mod:`.gitsource`, :mod:`.runner`,
:mod:`.job`.
"""

from homelab_secrets.scan.engine import Engine, scan_bytes
from homelab_secrets.scan.model import Finding
from homelab_secrets.scan.policy import Policy

__all__ = ["Engine", "Finding", "Policy", "scan_bytes"]
