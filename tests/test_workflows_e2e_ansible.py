""".github/workflows/ansible.yml under act, called from another repository
(``example/homelab-ansible`` calls ``example/homelab-secrets/...@v1``; see
tests/workflows/workflow_world.py), running the real ``ansible-playbook``
(ansible-core from the dev venv) against localhost (connection local).

The SOPS vars are decrypted with the age key kept in the fake Doppler, the
SSH key (also from Doppler, multi-line) goes into an ssh-agent; the playbook
writes a file from the vars.  On a pull request: ``--check --diff``, nothing
written, the diff in the summary with the values redacted.  On a push to the
default branch: the real run.  The log and the summary show no value.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from act_harness import ActRun, assert_never_in_log, requires_act, run_act
from fakes import serve
from fakes.doppler import FakeDoppler
from support.sops_oracle import AgeKeyPair, requires_sops, run_sops
from workflows import workflow_world as world

pytestmark = [
    pytest.mark.e2e,
    requires_act,
    requires_sops,
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("ssh-agent", "ssh-add", "ssh-keygen")),
        reason="OpenSSH client tools not installed",
    ),
]

ST = "dp.st.lab.SG9tZWxhYkFuc2libGVXb3JrZmxvd1Rlc3RUb2tlbjk4NzY"
DB_PASSWORD = "ans-Db-Pa55w0rd-from-SOPS-4d2b"
DB_USER = "app-writer"
SOPS_PLAIN = f"db_password: {DB_PASSWORD}\ndb_user: {DB_USER}\n"

PLAYBOOK = """\
- name: the app
  hosts: homelab
  gather_facts: false
  tasks:
    - name: write the app config
      ansible.builtin.copy:
        dest: "{{ target_dir }}/app.conf"
        content: "user={{ db_user }}\\npassword={{ db_password }}\\n"
        mode: "0600"
    - name: the ssh-agent holds the key, the environment does not
      ansible.builtin.command: ssh-add -l
      register: agent
      changed_when: false
      check_mode: false
    - name: report
      vars:
        key_env: "{{ lookup('ansible.builtin.env', 'ANSIBLE_SSH_KEY') }}"
      ansible.builtin.debug:
        msg: "agent-keys={{ agent.stdout_lines | length }} key-env={{ key_env | length }}"
    - name: a command check mode cannot preview
      ansible.builtin.command: "true"
      changed_when: false
"""

CALLER = f"""\
name: homelab
on: [push, pull_request]
permissions: {{}}
jobs:
  ansible:
    uses: {world.OWNER_REPO}/.github/workflows/ansible.yml@{world.REF}
    permissions:
      contents: read
      id-token: write
    with:
      playbook: site.yml
      inventory: inventory.ini
      sops-vars: group_vars/secrets.enc.yaml
      ssh-key-secret: ANSIBLE_SSH_KEY
      mode: ${{{{ github.event_name == 'push' && 'apply' || 'check' }}}}
      doppler-api-host: DOPPLER_URL
    secrets:
      DOPPLER_TOKEN: ${{{{ secrets.DOPPLER_TOKEN }}}}
  report:
    needs: [ansible]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - env:
          SUMMARY: ${{{{ needs.ansible.outputs.summary }}}}
          MODE: ${{{{ needs.ansible.outputs.mode }}}}
          CHANGED: ${{{{ needs.ansible.outputs.changed }}}}
        run: |
          printf '%s' "$SUMMARY" >"$HS_TEST_PROBES/summary.md"
          echo "RESULT mode=$MODE"
          echo "RESULT changed=$CHANGED"
"""


@pytest.fixture(scope="module")
def age_key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture(scope="module")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("ssh")
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ci", "-f", str(work / "key")],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return (work / "key").read_text()


@pytest.fixture(scope="module")
def sops_vars(tmp_path_factory: pytest.TempPathFactory, age_key: AgeKeyPair) -> str:
    work = tmp_path_factory.mktemp("ansible-sops")
    (work / "home").mkdir()
    (work / "secrets.yaml").write_text(SOPS_PLAIN)
    enc = run_sops(
        ["encrypt", "--age", age_key.recipient, "secrets.yaml"], cwd=work, home=work / "home"
    )
    assert enc.returncode == 0, enc.stderr
    return enc.stdout.decode()


@pytest.fixture(scope="module")
def called(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return world.snapshot(tmp_path_factory.mktemp("called"))


def _run_playbook(
    tmp_path: Path,
    event: str,
    *,
    called: tuple[Path, str],
    cache: Path,
    age_key: AgeKeyPair,
    ssh_key: str,
    sops_vars: str,
) -> tuple[ActRun, world.Caller, Path]:
    target = tmp_path / "target"
    target.mkdir()
    fake = FakeDoppler()
    fake.add_config(
        "homelab", "lab", {"SOPS_AGE_KEY": age_key.identity, "ANSIBLE_SSH_KEY": ssh_key}
    )
    fake.add_service_token(ST, "homelab", "lab")
    with serve(fake) as url:
        inventory = (
            "[homelab]\n"
            f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
            "[homelab:vars]\n"
            f"target_dir={target}\n"
        )
        caller = world.make_caller(
            tmp_path,
            "homelab-ansible",
            {
                ".github/workflows/homelab.yml": CALLER.replace("DOPPLER_URL", url),
                "site.yml": PLAYBOOK,
                "inventory.ini": inventory,
                "group_vars/secrets.enc.yaml": sops_vars,
            },
        )
        head = world.git(caller.repo, "rev-parse", "HEAD")
        if event == "push":
            caller.write_event(world.push_event("homelab-ansible"))
        else:
            caller.write_event(world.pull_request_event("homelab-ansible", 3, head))
        world.install_tools(caller.repo.parent)
        run = run_act(
            caller.repo,
            event,
            "-e",
            str(caller.event),
            workflow=".github/workflows/homelab.yml",
            cache=cache,
            secrets={"DOPPLER_TOKEN": ST},
            env=world.world_env(caller, called[0], {"ANSIBLE_HOST_KEY_CHECKING": "False"}),
            local_repositories={f"{world.OWNER_REPO}@{world.REF}": called[0]},
        )
    return run, caller, target


def _no_values(run: ActRun, summary: str, ssh_key: str, age_key: AgeKeyPair) -> None:
    values = [DB_PASSWORD, DB_USER, ssh_key, age_key.identity, ST]
    assert_never_in_log(run, values)
    key_lines = [line.strip() for line in ssh_key.splitlines() if len(line.strip()) > 8]
    assert not [v for v in [DB_PASSWORD, DB_USER, *key_lines] if v in summary]


def test_a_pull_request_runs_check_and_diff_with_the_values_redacted(
    tmp_path: Path,
    action_cache: Path,
    called: tuple[Path, str],
    age_key: AgeKeyPair,
    ssh_key: str,
    sops_vars: str,
) -> None:
    run, caller, target = _run_playbook(
        tmp_path,
        "pull_request",
        called=called,
        cache=action_cache,
        age_key=age_key,
        ssh_key=ssh_key,
        sops_vars=sops_vars,
    )
    assert run.returncode == 0, run.log
    assert not (target / "app.conf").exists()  # check mode changed nothing
    assert run.results()["report"] == {"mode": "check", "changed": "true"}
    assert "agent-keys=1 key-env=0" in run.log  # the agent holds the key, the env does not
    # the diff is in the log, masked by the runner, and in the summary, redacted by us
    assert "+password=***" in run.log
    summary = (caller.probes / "summary.md").read_text()
    assert summary.startswith("### Ansible check (--check --diff, nothing changed): `site.yml`")
    assert "| `localhost` | 3 | 1 | 0 | 0 | 1 | 0 | 0 |" in summary
    assert "| `write the app config` | `localhost` |" in summary
    assert "+user=***\n+password=***\n" in summary
    assert "check mode cannot preview `command`/`shell`/`raw` tasks" in summary
    _no_values(run, summary, ssh_key, age_key)


def test_the_default_branch_applies(
    tmp_path: Path,
    action_cache: Path,
    called: tuple[Path, str],
    age_key: AgeKeyPair,
    ssh_key: str,
    sops_vars: str,
) -> None:
    run, caller, target = _run_playbook(
        tmp_path,
        "push",
        called=called,
        cache=action_cache,
        age_key=age_key,
        ssh_key=ssh_key,
        sops_vars=sops_vars,
    )
    assert run.returncode == 0, run.log
    assert (target / "app.conf").read_text() == f"user={DB_USER}\npassword={DB_PASSWORD}\n"
    assert run.results()["report"] == {"mode": "apply", "changed": "true"}
    summary = (caller.probes / "summary.md").read_text()
    assert summary.startswith("### Ansible apply: `site.yml`")
    assert "**1 task result(s) changed.**" in summary
    _no_values(run, summary, ssh_key, age_key)
