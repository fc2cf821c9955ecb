"""actions/sops-decrypt across jobs under act, with actions/cache standing in
(tests/fakes/actions_cache): each job starts as a fresh GitHub-hosted runner
does (no venv, no uv, pip only), the first saves its wheels, the second
restores them and installs nothing from the index, and a third job whose
cache entry an attacker rewrote refuses it and still decrypts right."""

from __future__ import annotations

import pytest

from act_harness import CHECKOUT, make_repo, requires_act, run_act
from conftest import ROOT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,  # pip downloads from PyPI in the first and the poisoned job
    requires_act,
]

STEPS = f"""
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - name: a fresh runner (nothing in this job's tool cache yet)
        run: echo "HOMELAB_SECRETS_CACHE=$RUNNER_TEMP/fresh-tool-cache" >> "$GITHUB_ENV"
      - name: POISON
        run: |
          # an attacker rewrote the entry: a byte more in one wheel
          entry=$(ls "$HOMELAB_SECRETS_TEST_ACTIONS_CACHE"/*.tar)
          mkdir "$RUNNER_TEMP/x" && tar -xf "$entry" -C "$RUNNER_TEMP/x"
          for w in "$RUNNER_TEMP"/x/pyrage-*.whl; do printf 'x' >> "$w"; done
          tar -cf "$entry" -C "$RUNNER_TEMP/x" .
      - id: d
        uses: ./actions/sops-decrypt
        with:
          files: secrets/prd.enc.yaml
          age-key: ${{{{ secrets.AGE_KEY }}}}
      - env:
          PATHS: ${{{{ steps.d.outputs.paths }}}}
        run: |
          file=$(python3 -c 'import json, os; print(json.loads(os.environ["PATHS"])[0])')
          echo "RESULT endpoint=$(grep -c 'endpoint: https://pve.lab.example:8006/' "$file")"
"""


def _job(name: str, needs: str | None, poison: bool) -> str:
    steps = STEPS if poison else STEPS.replace(_POISON_BLOCK, "")
    head = f"  {name}:\n    runs-on: ubuntu-latest\n"
    if needs:
        head += f"    needs: {needs}\n"
    return head + steps


_POISON_BLOCK = STEPS[STEPS.index("      - name: POISON") : STEPS.index("      - id: d")]

WORKFLOW = (
    "name: cache\non: push\npermissions: {}\njobs:\n"
    + _job("first", None, poison=False)
    + _job("second", "first", poison=False)
    + _job("poisoned", "second", poison=True)
)


def test_the_second_job_restores_the_wheels_and_a_poisoned_entry_is_refused(
    tmp_path: pytest.TempPathFactory,
) -> None:
    store = tmp_path / "actions-cache"  # type: ignore[operator]
    store.mkdir()
    files = {
        "secrets/prd.enc.yaml": (ROOT / "examples" / "secrets" / "prd.enc.yaml").read_text(),
    }
    repo = make_repo(tmp_path, WORKFLOW, files=files)  # type: ignore[arg-type]
    run = run_act(
        repo,
        "push",
        cache=None,
        secrets={"AGE_KEY": (ROOT / "examples" / "keys" / "demo-age-key.txt").read_text()},
        env={"HOMELAB_SECRETS_TEST_ACTIONS_CACHE": str(store), "HOMELAB_SECRETS_INSTALLER": "pip"},
        timeout=600,
    )
    assert run.returncode == 0, run.log[-6000:]
    first, second, poisoned = (run.lines(j) for j in ("first", "second", "poisoned"))
    text = {
        name: "\n".join(lines)
        for name, lines in zip(
            ("first", "second", "poisoned"), (first, second, poisoned), strict=True
        )
    }
    assert "actions-cache-stub: miss homelab-secrets-v2-sops-" in text["first"]
    assert "requirement line(s) to download" in text["first"]
    assert "actions-cache-stub: saved homelab-secrets-v2-sops-" in text["first"]
    # the second job: restored, nothing downloaded, nothing saved again
    assert "actions-cache-stub: restored homelab-secrets-v2-sops-" in text["second"]
    assert "(wheelhouse)" in text["second"]
    assert "to download" not in text["second"]
    assert "actions-cache-stub: saved" not in text["second"]
    # the poisoned one: refused with one warning, reinstalled from the index, still right
    assert "actions-cache-stub: restored" in text["poisoned"]
    warnings = [
        ln for ln in run.log.splitlines() if ln.startswith("[poisoned]") and "::warning" in ln
    ]
    assert len(warnings) == 1, warnings
    assert "ignored the cached wheels" in warnings[0]
    assert "its sha256 is not in requirements/lock.txt" in warnings[0]
    assert "requirement line(s) to download" in text["poisoned"]
    for job in ("first", "second", "poisoned"):
        assert run.results()[job]["endpoint"] == "1", job
    assert len(list(store.glob("*.tar"))) == 1  # one entry, never replaced
