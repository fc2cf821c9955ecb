"""The last part of ``init``'s plan: the encrypted files made committable
(``.gitignore``), the guard (pre-commit entry, caller workflows), and what is
left to do by hand.

Terraform's usual ``.gitignore`` ignores ``*.tfvars``: an encrypted
``terraform.enc.tfvars`` would then never be committed.  Each encrypted file
git would ignore gets one anchored negation (``!/terraform.enc.tfvars``)
under a comment, appended; nothing else in ``.gitignore`` changes.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets.onboard import discover, guard
from homelab_secrets.onboard.plan import Plan, read_text, text_step

if TYPE_CHECKING:
    from homelab_secrets.onboard.init import InitOptions

GUARD_CHECK = "guard / plaintext guard"
DECRYPT_CHECK = "decrypt SOPS files"


def gitignore(root: Path, git: discover.GitView, result: Plan) -> None:
    ignored = sorted(git.check_ignored(s.candidate.target for s in result.sealed))
    if not ignored:
        return
    old = read_text(root / ".gitignore")
    body = "".join(f"!/{target}\n" for target in ignored)
    head = "" if not old or old.endswith("\n") else "\n"
    new = f"{old or ''}{head}# SOPS-encrypted (homelab-secrets init): safe to commit\n{body}"
    title = f"un-ignore the encrypted {', '.join(ignored)} in .gitignore"
    result.steps.append(text_step(title, root, ".gitignore", old, new))
    result.manual.append(
        "check with `git status` that the encrypted files show up (a folder git ignores "
        "hides what is in it, whatever .gitignore says about the files)"
    )


def guard_steps(options: InitOptions, root: Path, existing: list[str], result: Plan) -> None:
    """The hook entry and the workflows; ``existing``: the SOPS files there are."""
    action = options.action
    if options.pre_commit:
        old = read_text(root / guard.PRE_COMMIT)
        new = guard.pre_commit(old, action)
        if new != old:
            title = f"add the {guard.HOOK_ID} hook to {guard.PRE_COMMIT}"
            result.steps.append(text_step(title, root, guard.PRE_COMMIT, old, new))
    if not options.workflows:
        return
    sops = set(existing) | {s.candidate.target for s in result.sealed}
    wanted = [
        (
            guard.GUARD_WORKFLOW,
            "/.github/workflows/scan-secrets.yml@",
            guard.guard_workflow(action, options.branch),
        )
    ]
    if sops:
        github = options.ci.provider == "github"
        wanted.append(
            (
                guard.DECRYPT_WORKFLOW,
                "/actions/sops-decrypt@" if github else f"{action.repo}@",
                guard.decrypt_workflow(action, options.branch, options.ci, sorted(sops)),
            )
        )
    else:
        result.manual.append(f"no SOPS file yet: {guard.DECRYPT_WORKFLOW} was not written")
    for rel, needle, text in wanted:
        other = guard.already_called(root, needle, rel)
        old = read_text(root / rel)
        if other is not None:
            result.manual.append(f"{other} already does what {rel} would: it was not written")
        elif old is None:
            result.steps.append(text_step(f"write {rel}", root, rel, None, text))
        elif old != text:
            missing = sorted(f for f in sops if rel == guard.DECRYPT_WORKFLOW and f not in old)
            hint = f"; add to its files: {', '.join(missing)}" if missing else ""
            result.manual.append(f"{rel} exists with other content: left alone{hint}")


def remaining(options: InitOptions, where: str, result: Plan) -> None:
    """What only the person can do (names only), after what the plan noted.
    ``where``: the manager's scope, e.g. ``doppler project P, config C``."""
    ci, action, notes = options.ci, options.action, []
    if ci.provider == "doppler":
        notes.append(
            f"let CI read the key: a read-only Doppler service token of {where} as the "
            "repository secret DOPPLER_TOKEN (`gh secret set DOPPLER_TOKEN`), or OIDC "
            'with a service-account identity and no stored secret (README, "The all-in-one '
            'action")'
        )
    elif ci.provider == "infisical":
        notes.append(
            f"let CI read the key: a machine identity that may read {where}, its "
            "universal-auth credentials as the repository secrets INFISICAL_CLIENT_ID and "
            "INFISICAL_CLIENT_SECRET (`gh secret set ...`)"
        )
    else:
        notes.append(
            f"let CI read the key: the private key of {result.recipient} as the repository "
            f"secret {ci.key_name} (`gh secret set {ci.key_name} < your-key-file`)"
        )
    checks = f"`{GUARD_CHECK}`" + (f" and `{DECRYPT_CHECK}`" if options.workflows else "")
    notes.append(
        f"require the checks {checks} on {options.branch}: Settings, Branches, branch "
        "protection rule (or a ruleset), with pull requests required"
    )
    if options.pre_commit:
        notes.append("run `pre-commit install` in every clone (the hook checks staged changes)")
    if action.placeholder:
        notes.append(
            f"{action.repo} in the workflows and {guard.PRE_COMMIT} stands for your copy of "
            "homelab-secrets: run init with --action-repo OWNER/NAME (or edit them)"
        )
    if not action.pinned:
        notes.append(
            f"pin {action.repo}@{action.ref} to a commit SHA (--action-ref SHA) so a moved tag "
            "cannot change what CI runs"
        )
    if result.key_cmd:
        notes.append(
            "read your copy from the keychain: add to your shell profile (or .envrc) "
            f"`export SOPS_AGE_KEY_CMD={shlex.quote(result.key_cmd)}`"
        )
    notes.append("review the changes (`git status`, `git diff`) and commit them")
    result.manual.extend(notes)
