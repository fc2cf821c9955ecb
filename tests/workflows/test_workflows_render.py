"""Markdown that fits: the plan summary and the PR comment, big plans
truncated under GitHub's limits (65,536 characters for a comment, 1 MiB for
a step summary), text from the plan kept inert."""

from __future__ import annotations

import re

import pytest

from homelab_secrets.workflows import markdown, plan_render
from homelab_secrets.workflows.tfplan import OutputChange, PlanDigest, ResourceChange

CTX = plan_render.PlanContext(
    tool="terraform",
    working_directory="envs/prd",
    environment="prd",
    commit="0123456789abcdef0123",
    run_url="https://github.com/o/r/actions/runs/1",
    artifact="tfplan-envs-prd-prd",
    next_step="The apply job applies exactly this plan.",
)


def _digest(resources: list[ResourceChange], outputs: tuple[OutputChange, ...] = ()) -> PlanDigest:
    counts: dict[str, int] = {}
    for r in resources:
        counts[r.action] = counts.get(r.action, 0) + 1
    return PlanDigest("1.15.5", tuple(resources), outputs, counts=counts)


def _big(n: int, *, long: bool = False) -> PlanDigest:
    pad = "x" * 200 if long else ""
    resources = []
    for i in range(n):
        action = ("create", "update", "delete", "replace")[i % 4]
        attributes = ("tags", "size") if action in ("update", "replace") else ()
        resources.append(
            ResourceChange(f'module.m{pad}.proxmox_vm.vm["{i:05d}"]', action, attributes)
        )
    return _digest(resources)


def _rows(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith("| `"))


def _balanced(text: str) -> None:
    assert text.count("<details>") == text.count("</details>")
    fences = [line for line in text.splitlines() if re.match(r"^`{3,}", line)]
    assert len(fences) % 2 == 0


def test_a_small_plan_shows_counts_tables_and_footer() -> None:
    d = _digest(
        [
            ResourceChange("a.vm", "replace", ("image",), replace=("image",)),
            ResourceChange("a.old", "delete", reason="delete_because_no_resource_config"),
            ResourceChange("a.web", "update", ("tags",)),
            ResourceChange("a.new", "create"),
            ResourceChange("a.b", "no-op", moved_from="a.a"),
        ],
        (OutputChange("url", "update", False), OutputChange("token", "create", True)),
    )
    text = plan_render.render(d, CTX, limit=markdown.COMMENT_LIMIT)
    assert text.startswith("### Terraform plan: `envs/prd` · environment `prd`\n")
    assert "**2 to add, 1 to change, 2 to destroy**, 1 moved, 2 outputs to change." in text
    assert "The apply job applies exactly this plan." in text
    order = [
        text.index(t)
        for t in ("#### Replace", "#### Destroy", "#### Update", "#### Create", "#### Move")
    ]
    assert order == sorted(order)  # most dangerous first
    assert "| `-/+` | `a.vm` | `image` (forces replacement) |" in text
    assert "| `=` | `a.b` | moved from `a.a` |" in text
    assert "| `-` | `a.old` | no longer in the configuration |" in text
    assert "| `+` | `token` (sensitive) |" in text
    assert "commit `0123456789ab`" in text
    assert "[workflow run](https://github.com/o/r/actions/runs/1)" in text


def test_no_changes() -> None:
    text = plan_render.render(_digest([]), CTX, limit=markdown.COMMENT_LIMIT)
    assert "**No changes.**" in text
    assert "####" not in text


def test_opentofu_is_named() -> None:
    ctx = plan_render.PlanContext(tool="tofu")
    assert plan_render.render(_digest([]), ctx, limit=1000).startswith("### OpenTofu plan: `.`")


@pytest.mark.parametrize("n", [3_000, 20_000])
def test_a_big_plan_fits_a_comment_and_says_what_it_left_out(n: int) -> None:
    d = _big(n, long=True)
    comment = plan_render.render(d, CTX, limit=markdown.COMMENT_LIMIT - 512, marker="<!-- m -->")
    assert len(comment) <= markdown.COMMENT_LIMIT - 512
    assert markdown.size(comment) <= markdown.COMMENT_LIMIT - 512
    assert comment.startswith("<!-- m -->\n")
    assert f"**{n // 2} to add, {n // 4} to change, {n // 2} to destroy**" in comment
    shown = _rows(comment)
    match = re.search(r"\*(\d+) more changes are not shown here", comment)
    assert match, comment[-500:]
    assert shown + int(match[1]) == n
    # the most dangerous come first, and the footer survives
    assert "#### Replace" in comment
    assert "[workflow run]" in comment
    _balanced(comment)


def test_a_huge_plan_fits_the_step_summary() -> None:
    d = _big(40_000, long=True)
    summary = plan_render.render(d, CTX, limit=markdown.SUMMARY_LIMIT, full_list_hint="see the log")
    assert markdown.size(summary) <= markdown.SUMMARY_LIMIT
    assert "more changes are not shown here (size limit); see the log." in summary


def test_a_plan_that_fits_is_not_truncated() -> None:
    d = _big(200)
    text = plan_render.render(d, CTX, limit=markdown.COMMENT_LIMIT)
    assert "not shown here" not in text
    assert _rows(text) == 200


@pytest.mark.parametrize(
    "address",
    [
        'a.b["x|y"]',
        'a.b["`tick`"]',
        'a.b["@someone please look"]',
        'a.b["<script>alert(1)</script>"]',
        'a.b["line\nbreak"]',
        'a.b["**bold** [link](http://x)"]',
    ],
)
def test_addresses_stay_inert_in_a_table(address: str) -> None:
    text = plan_render.render(_digest([ResourceChange(address, "create")]), CTX, limit=10_000)
    row = next(line for line in text.splitlines() if line.startswith("| `+` |"))
    cells = re.split(r"(?<!\\)\|", row)
    assert len(cells) == 5  # | sym | address | changes | -> 3 cells + 2 edges
    assert "\n" not in row


def test_code_spans_and_fences_cannot_be_closed_by_their_content() -> None:
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.code("`x`") == "`` `x` ``"
    assert markdown.code("a|b") == "`a\\|b`"
    assert markdown.fenced("```\ninside\n```", "diff").startswith("````diff\n")
    assert markdown.html_code("<b>&") == "<code>&lt;b&gt;&amp;</code>"


def test_truncate_cuts_at_a_line_and_closes_an_open_fence() -> None:
    text = "head\n```diff\n" + "".join(f"+line {i}\n" for i in range(10_000)) + "```\n"
    cut = markdown.truncate(text, 2_000)
    assert markdown.size(cut) <= 2_000
    assert cut.endswith("*(truncated)*\n")
    _balanced(cut)
    assert markdown.truncate("short", 100) == "short"


def test_fit_with_a_head_larger_than_the_limit() -> None:
    out = markdown.fit("x\n" * 5_000, [], "", 1_000, left_out=lambda n: f"{n} more")
    assert markdown.size(out) <= 1_000


def test_clip_lines() -> None:
    text = "".join(f"{i}\n" for i in range(100))
    clipped, cut = markdown.clip_lines(text, max_lines=10, max_bytes=10_000)
    assert cut
    assert clipped.count("\n") == 10
    same, cut = markdown.clip_lines(text, max_lines=1_000, max_bytes=10_000)
    assert not cut
    assert same == text
