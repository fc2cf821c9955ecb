"""Reading an ansible-playbook run back (recap, results, --diff blocks) and
its summary: redacted, clipped, fitted; and the command that writes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import RunnerFiles
from homelab_secrets.cli import main
from homelab_secrets.workflows import ansible_log, ansible_render, markdown
from homelab_secrets.workflows.redaction import collect, redact

SECRET = "ans-Unit-Secret-6e2f"
NO_LOG = "'no_log: true' was specified for this result"
RECAP = "h : ok=30 changed=30 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0"

OUTPUT = f"""\

PLAY [all] *********************************************************************

TASK [write the app config] ****************************************************
--- before
+++ after: /srv/app/app.conf
@@ -0,0 +1,2 @@
+user=app
+password={SECRET}

changed: [web1]
--- before: /srv/app/app.conf
+++ after: /srv/app/app.conf
@@ -1 +1 @@
-password=old
+password={SECRET}

changed: [web2]

TASK [install packages] ********************************************************
ok: [web1] => (item=nginx)
changed: [web1] => (item=git)
ok: [web2]

TASK [restart] *****************************************************************
skipping: [web1]
skipping: [web2]

TASK [secret task] *************************************************************
ok: [web1] => {{"censored": "the output has been hidden due to the fact that {NO_LOG}"}}

TASK [break] *******************************************************************
fatal: [web2]: FAILED! => {{"msg": "password={SECRET}"}}

RUNNING HANDLER [reload nginx] *************************************************
changed: [web1]

PLAY RECAP *********************************************************************
web1   : ok=4    changed=3    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0
web2   : ok=2    changed=1    unreachable=0    failed=1    skipped=1    rescued=0    ignored=0
"""


def test_parse_a_run() -> None:
    run = ansible_log.parse(OUTPUT)
    names = [t.name for t in run.tasks]
    assert names == [
        "write the app config",
        "install packages",
        "restart",
        "secret task",
        "break",
        "reload nginx",
    ]
    write, install, restart, _, broken, handler = run.tasks
    assert write.results == {"web1": "changed", "web2": "changed"}
    assert len(write.diffs) == 2
    assert write.diffs[1].startswith("--- before: /srv/app/app.conf")
    assert install.results == {"web1": "changed", "web2": "ok"}  # the worst of a loop's results
    assert restart.results == {"web1": "skipping", "web2": "skipping"}
    assert broken.results == {"web2": "fatal"}
    assert not broken.diffs
    assert handler.handler
    assert handler.changed_hosts == ["web1"]
    assert [(r.host, r.get("changed"), r.get("failed")) for r in run.recap] == [
        ("web1", 3, 0),
        ("web2", 1, 1),
    ]
    assert (run.changed, run.failed, run.skipped, run.censored) == (4, 1, 2, 1)
    assert run.complete


def test_a_run_that_stopped_early() -> None:
    run = ansible_log.parse("ERROR! the playbook: site.yml could not be found\n")
    assert not run.complete
    assert not run.tasks
    text = ansible_render.render(
        run, ansible_render.RunContext("site.yml", exit_code=1), limit=10_000
    )
    assert "stopped before its recap** (exit code 1)" in text


def test_the_summary_is_redacted_and_complete() -> None:
    masks = collect(strings=[SECRET])
    run = ansible_log.parse(redact(OUTPUT, masks))
    ctx = ansible_render.RunContext("site.yml", "inventory/homelab.ini", "web*", check=True)
    text = ansible_render.render(run, ctx, limit=markdown.COMMENT_LIMIT)
    assert SECRET not in text
    assert text.startswith(
        "### Ansible check (--check --diff, nothing changed): `site.yml` "
        "on `inventory/homelab.ini`, limit `web*`"
    )
    assert "**1 host failure(s)**; 4 task result(s) would change." in text
    assert "2 task result(s) were skipped: check mode cannot preview" in text
    assert "1 result(s) hidden by `no_log`" in text
    assert "| `web2` | 2 | 1 | 0 | 1 | 1 | 0 | 0 |" in text
    assert "| `write the app config` | `web1`, `web2` |" in text
    assert text.count("<details><summary><code>write the app config</code></summary>") == 2
    assert "+password=***\n" in text
    assert text.count("<details>") == text.count("</details>")


def test_an_apply_summary() -> None:
    run = ansible_log.parse(OUTPUT.replace("failed=1", "failed=0"))
    ctx = ansible_render.RunContext("site.yml", check=False, environment="prod")
    text = ansible_render.render(run, ctx, limit=markdown.COMMENT_LIMIT)
    assert text.startswith("### Ansible apply: `site.yml` · environment `prod`")
    assert "**4 task result(s) changed.**" in text
    assert "#### Tasks that changed" in text
    assert "check mode cannot preview" not in text


def test_big_diffs_are_clipped_and_the_summary_fits() -> None:
    big = "".join(f"+line {i} {'x' * 80}\n" for i in range(5_000))
    tasks = "".join(
        f"TASK [file {n}] ***\n--- before\n+++ after: /f{n}\n{big}\nchanged: [h]\n"
        for n in range(30)
    )
    output = f"PLAY [all] ***\n{tasks}PLAY RECAP ***\n{RECAP}\n"
    run = ansible_log.parse(output)
    ctx = ansible_render.RunContext("site.yml")
    comment = ansible_render.render(run, ctx, limit=markdown.COMMENT_LIMIT - 512)
    assert markdown.size(comment) <= markdown.COMMENT_LIMIT - 512
    assert "diff clipped; the run log has all of it" in comment
    assert "more row(s) or diff(s) are not shown here" in comment
    assert comment.count("<details>") == comment.count("</details>")
    summary = ansible_render.render(run, ctx, limit=markdown.SUMMARY_LIMIT)
    assert markdown.size(summary) <= markdown.SUMMARY_LIMIT


def test_task_names_stay_inert() -> None:
    output = (
        "TASK [@admins <b>now</b> | `x`] ***\n--- before\n+++ after\n+a\n\nchanged: [h]\n"
        "PLAY RECAP ***\nh : ok=1 changed=1 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n"
    )
    text = ansible_render.render(
        ansible_log.parse(output), ansible_render.RunContext("p.yml"), limit=10_000
    )
    assert "<summary><code>@admins &lt;b&gt;now&lt;/b&gt; | `x`</code></summary>" in text
    assert "| `` @admins <b>now</b> \\| `x` `` | `h` |" in text


def test_the_command_redacts_env_values_and_vars_files(
    tmp_path: Path,
    runner_files: RunnerFiles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = tmp_path / "output.log"
    log.write_text(OUTPUT.replace("user=app", "user=from-doppler-Secret-1"))
    vars_file = tmp_path / "secrets.vars.yml"
    vars_file.write_text(f"db:\n  password: {SECRET}\n  port: 5432\n")
    monkeypatch.setenv("APP_USER", "from-doppler-Secret-1")
    code = main(
        [
            "ansible-summary", "--gha", "--log", str(log), "--playbook", "site.yml",
            "--mode", "check", "--redact-env-json", '["APP_USER"]', "--redact-file", str(vars_file),
        ]
    )  # fmt: skip
    assert code == 0
    summary = runner_files.summary_text()
    outputs = runner_files.outputs()
    for text in (summary, outputs["summary"], capsys.readouterr().out):
        assert SECRET not in text
        assert "from-doppler-Secret-1" not in text
    assert "+user=***" in summary
    assert (outputs["changed"], outputs["failed"]) == ("true", "true")


def test_redaction_sources(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"x": {"y": ["one-Secret-1", 2]}}')
    (tmp_path / "b.yaml").write_text("k: two-Secret-2\n---\nk2: three\n")
    masks = collect(files=[tmp_path / "a.json", tmp_path / "b.yaml"], strings=["", "  "])
    assert sorted(m.value for m in masks) == ["one-Secret-1", "three", "two-Secret-2"]
    text = redact('one-Secret-1 "two-Secret-2"\n', masks)
    assert text == '*** "***"\n'
    (tmp_path / "c.txt").write_text("x")
    from homelab_secrets.errors import UserError

    with pytest.raises(UserError, match="JSON or YAML"):
        collect(files=[tmp_path / "c.txt"])
    (tmp_path / "d.json").write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        collect(files=[tmp_path / "d.json"])
