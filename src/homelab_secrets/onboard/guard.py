"""The guard ``init`` adds: the pre-commit hook entry and two caller
workflows.

* ``.pre-commit-config.yaml``: our hook ``homelab-secrets-scan`` (the
  plaintext guard on staged changes), appended to ``repos`` by a text edit
  (:mod:`.yamledit`), nothing else in the file touched; a file that already
  lists the hook is left alone.
* ``.github/workflows/secrets-guard.yml``: the required pull-request check,
  a caller of the reusable ``scan-secrets.yml`` (its header is the model).
* ``.github/workflows/secrets-decrypt.yml``: CI decrypts every SOPS file
  with the key in the secrets manager through the all-in-one action (or
  ``actions/sops-decrypt`` and a ``SOPS_AGE_KEY`` secret when the key is in
  no manager), so a file encrypted without the CI key fails a pull request,
  not a deploy; it is also the template of a job that uses the values.

A workflow is not written when one already calls the same thing, or when
the file exists with other content (the person's edits win).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.onboard import yamledit

HOOK_ID = "homelab-secrets-scan"
PRE_COMMIT = ".pre-commit-config.yaml"
GUARD_WORKFLOW = ".github/workflows/secrets-guard.yml"
DECRYPT_WORKFLOW = ".github/workflows/secrets-decrypt.yml"
CHECKOUT = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0"
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}\Z")
_REF = re.compile(r"[A-Za-z0-9._/-]{1,200}\Z")


@dataclass(frozen=True)
class ActionRef:
    """Where callers find homelab-secrets: your copy, at a release or commit."""

    repo: str = "org/homelab-secrets"
    ref: str = "v1"

    def __post_init__(self) -> None:
        if not _REPO.match(self.repo) or not _REF.match(self.ref):
            raise UserError(
                f"{self.repo}@{self.ref} is not OWNER/NAME@REF (e.g. my-user/homelab-secrets@v1)",
                ExitCode.USAGE,
            )

    def uses(self, path: str = "") -> str:
        return f"{self.repo}{path}@{self.ref}"

    @property
    def pinned(self) -> bool:
        return bool(re.fullmatch(r"[0-9a-f]{40}", self.ref))

    @property
    def placeholder(self) -> bool:
        return self.repo.startswith("org/")


@dataclass(frozen=True)
class CIKey:
    """Where CI gets the age key: a provider's scope, or a GitHub secret."""

    provider: str  #: doppler | infisical | github
    key_name: str = "SOPS_AGE_KEY"
    api_url: str = ""
    project_id: str = ""
    project_slug: str = ""
    environment: str = ""
    path: str = "/"


# ------------------------------------------------------------------ pre-commit
def pre_commit(original: str | None, action: ActionRef) -> str:
    """``.pre-commit-config.yaml`` with our hook (``original`` when it has it)."""
    entry = {
        "repo": f"https://github.com/{action.repo}",
        "rev": action.ref,
        "hooks": [{"id": HOOK_ID}],
    }

    def render(pad: int, newline: str) -> str:
        p = " " * pad
        return (
            f"{p}- repo: {entry['repo']}{newline}"
            f"{p}  rev: {action.ref}{newline}"
            f"{p}  hooks:{newline}"
            f"{p}    - id: {HOOK_ID}  # the plaintext guard on staged changes{newline}"
        )

    if original is None or not original.strip():
        head = "# pre-commit (https://pre-commit.com): run `pre-commit install` once per clone.\n"
        return (original or "") + head + "repos:\n" + render(2, "\n")
    doc = yamledit.load(original, PRE_COMMIT)
    if not isinstance(doc, dict):
        raise UserError(f"{PRE_COMMIT}: is not a mapping; fix it first", ExitCode.USAGE)
    repos = doc.get("repos")
    for repo in repos if isinstance(repos, list) else []:
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        if any(isinstance(h, dict) and h.get("id") == HOOK_ID for h in hooks or []):
            return original
    lines = original.splitlines(keepends=True)
    newline = yamledit.newline_of(lines)
    edits = yamledit.Edits(lines)
    if repos is None and "repos" not in doc:
        if not lines[-1].endswith(("\n", "\r")):
            edits.replace(len(lines) - 1, lines[-1] + newline)
        edits.insert(len(lines), f"repos:{newline}" + render(2, newline))
    elif isinstance(repos, list) and repos and not yamledit.marked(repos).fa.flow_style():
        at = yamledit.end_of_value(lines, doc, "repos")
        edits.insert(at, render(yamledit.dash_column(lines, repos), newline))
    else:
        raise UserError(
            f"{PRE_COMMIT}: `repos` is not a block list; add the {HOOK_ID} hook by hand",
            ExitCode.ERROR,
        )
    text = edits.apply()
    expected = yamledit.plain(doc)
    expected["repos"] = [*(expected.get("repos") or []), entry]
    yamledit.check(text, expected, PRE_COMMIT, f"add the {HOOK_ID} hook by hand")
    return text


# ------------------------------------------------------------------ workflows
def _on(branch: str) -> str:
    return (
        f"on:\n  pull_request:\n  push:\n    branches: [{json.dumps(branch)}]\npermissions: {{}}\n"
    )


def guard_workflow(action: ActionRef, branch: str) -> str:
    return (
        "# Written by `homelab-secrets init`: the plaintext guard as a required pull-request\n"
        "# check (the reusable scan-secrets.yml of homelab-secrets). Make the\n"
        f'# "guard / plaintext guard" check required in the branch protection rule of {branch}.\n'
        "name: secrets-guard\n" + _on(branch) + "jobs:\n"
        "  guard:\n"
        f"    uses: {action.uses('/.github/workflows/scan-secrets.yml')}\n"
        "    permissions:\n"
        "      contents: read # your history\n"
        "      security-events: write # the SARIF upload (required by the workflow)\n"
        "    with:\n"
        "      upload-sarif: true # false where code scanning is not available\n"
    )


def _provider_inputs(ci: CIKey) -> list[str]:
    if ci.provider == "doppler":
        lines = ["doppler-token: ${{ secrets.DOPPLER_TOKEN }} # a service token of the config"]
    else:
        lines = [
            "provider: infisical",
            f"infisical-api-url: {json.dumps(ci.api_url)}",
            "infisical-client-id: ${{ secrets.INFISICAL_CLIENT_ID }}",
            "infisical-client-secret: ${{ secrets.INFISICAL_CLIENT_SECRET }}",
            f"infisical-project-id: {json.dumps(ci.project_id)}"
            if ci.project_id
            else f"infisical-project-slug: {json.dumps(ci.project_slug)}",
            f"infisical-environment: {json.dumps(ci.environment)}",
            f"infisical-path: {json.dumps(ci.path or '/')}",
        ]
    if ci.key_name != "SOPS_AGE_KEY":
        lines.append(f"age-key-secret: {json.dumps(ci.key_name)}")
    return lines


def decrypt_workflow(action: ActionRef, branch: str, ci: CIKey, files: list[str]) -> str:
    """The caller workflow that decrypts ``files`` in CI (see the module docstring)."""
    listed = "".join(f"            {f}\n" for f in files)
    if ci.provider == "github":
        where = f"the GitHub secret {ci.key_name}"
        step = (
            f"      - uses: {action.uses('/actions/sops-decrypt')}\n"
            "        with:\n"
            f"          age-key: ${{{{ secrets.{ci.key_name} }}}}\n"
            "          files: |\n" + listed
        )
    else:
        where = f"{ci.key_name} in {ci.provider.capitalize()}"
        inputs = "".join(f"          {line}\n" for line in _provider_inputs(ci))
        step = (
            f"      - uses: {action.uses()}\n"
            "        with:\n" + inputs + "          export-env: false\n"
            "          sops-files: |\n" + listed
        )
    return (
        "# Written by `homelab-secrets init`: CI decrypts every SOPS file of this repository\n"
        f"# with the age key kept as {where}, so a file encrypted without\n"
        "# the CI key fails a pull request, not a deploy. Jobs that need the values start the\n"
        "# same way: the decrypted copies are under $RUNNER_TEMP/homelab-secrets (0600).\n"
        "name: secrets-decrypt\n" + _on(branch) + "jobs:\n"
        "  decrypt:\n"
        "    name: decrypt SOPS files\n"
        "    # pull requests from forks get no secrets: they skip this job\n"
        "    if: github.event_name == 'push' || "
        "github.event.pull_request.head.repo.full_name == github.repository\n"
        "    runs-on: ubuntu-latest\n"
        "    timeout-minutes: 10\n"
        "    concurrency:\n"
        "      group: secrets-decrypt-${{ github.ref }}\n"
        "      cancel-in-progress: true\n"
        "    permissions:\n"
        "      contents: read\n"
        "    steps:\n"
        f"      - uses: {CHECKOUT}\n"
        "        with:\n"
        "          persist-credentials: false\n" + step + "      - if: always()\n"
        f"        uses: {action.uses('/actions/sops-cleanup')}\n"
    )


def already_called(root: Path, needle: str, skip: str) -> str | None:
    """A workflow (other than ``skip``) whose text mentions ``needle``."""
    folder = root / ".github" / "workflows"
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        rel = path.relative_to(root).as_posix()
        if rel != skip and needle in path.read_text(encoding="utf-8", errors="replace"):
            return rel
    return None
