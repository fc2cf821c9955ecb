"""Doppler (or Infisical) -> GitHub Actions secrets: write only what changed,
never lose a secret, prune only what the sync itself wrote.

One job per module:

* :mod:`~.config` — ``sync.yaml``: the schema and its dataclasses;
  :mod:`~.config_reader` reads the YAML into them, every problem with its line;
* :mod:`~.plan` — pure: what each target should hold, GitHub's rules,
  keyed fingerprints, the add / update / unchanged / delete plan;
* :mod:`~.state` — the fingerprints and owned names kept in a GitHub variable;
* :mod:`~.ratelimit` — the run's pace and the one retry loop of GitHub calls;
* :mod:`~.access` — what a refused token is and what it lacks, in words;
* :mod:`~.github` — PyGithub + libsodium sealed boxes, one target at a time;
* :mod:`~.runner` — a run's phases: check and plan everything, then write,
  prune only after a clean run, record;
* :mod:`~.report` — the table, the job summary, the progress bar.

``homelab-secrets sync`` (:mod:`homelab_secrets.commands.sync`) is the edge
that reads the environment and talks to Actions.
"""
