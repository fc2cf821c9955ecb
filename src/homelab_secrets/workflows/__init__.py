"""Helpers the reusable workflows call (``.github/workflows/terraform.yml``,
``ansible.yml``), one job per module, pure where possible:

* :mod:`.tfplan`: a ``terraform show -json`` plan as a :class:`~.tfplan.PlanDigest`
  (what changes, never a value) and the plan's sensitive values (to redact);
* :mod:`.markdown`: Markdown that is safe to post (code spans, fences) and fits
  a size limit (PR comments: 65,536 characters; job summaries: 1 MiB per step);
* :mod:`.plan_render`: the plan summary and the PR comment from a digest;
* :mod:`.bundle`: a saved plan and its metadata (commit, configuration hash,
  tool, working directory) sealed to a public key (age or a libsodium sealed
  box), opened and checked with the private key;
* :mod:`.confighash`: the configuration fingerprint recorded at plan time and
  checked at apply; :mod:`.plancheck`: is a sealed plan the one to apply here
  (same repository, commit, root, tool, environment, configuration);
* :mod:`.redaction`: every known value (job environment, var files, the
  plan's sensitive values) replaced with ``***`` in text we publish;
* :mod:`.pr_comment`: one pull-request comment per plan, updated in place;
* :mod:`.ansible_log`, :mod:`.ansible_render`: an ``ansible-playbook``
  run (recap, changed tasks, ``--diff`` blocks) and its summary.

The commands that expose them are ``plan-keygen``, ``plan-summary``,
``plan-seal``, ``plan-open``, ``pr-comment``, ``ansible-summary`` and
``ssh-agent-add`` (:mod:`homelab_secrets.commands`).
"""
