"""The job layer every source of secrets feeds (SOPS files, providers).

A set of named values and where they came from goes in; out come masks, env
exports, tool-shaped files (tfvars JSON, dotenv, Ansible vars) and the
cleanup manifest.  Nothing here knows where values came from, and nothing
outside this package masks or exports.

* :mod:`~homelab_secrets.secrets.env`: environment variable names and the
  text forms of name=value pairs (dotenv files to source or load, shell
  ``export`` lines) — every place that writes env-shaped text uses it.
"""
