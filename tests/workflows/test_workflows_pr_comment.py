"""One pull-request comment per report, found again by its marker and
updated; other people's comments are left alone; errors name the request,
never the token; the fake answers like GitHub (in-process)."""

from __future__ import annotations

import pytest

from fakes import Fault
from homelab_secrets.errors import UserError
from homelab_secrets.providers.http import Clock, RetryPolicy
from homelab_secrets.workflows import pr_comment
from homelab_secrets.workflows.markdown import COMMENT_LIMIT
from workflows.fake_pr_comments import FakePullRequestComments

REPO = "o/infra"
TOKEN = "ghs_Unit-Token-123"
FAST = RetryPolicy(attempts=3, base_delay=0, max_delay=0)


def _client(fake: FakePullRequestComments):  # type: ignore[no-untyped-def]
    return fake.client(headers={"Authorization": f"Bearer {TOKEN}"})


def test_the_marker_hides_its_key() -> None:
    mark = pr_comment.marker("terraform-plan", "envs/prd|prd --> <script>")
    assert mark.startswith("<!-- homelab-secrets:terraform-plan:")
    assert mark.endswith(" -->")
    assert "script" not in mark
    assert mark.count("-->") == 1
    assert mark != pr_comment.marker("terraform-plan", "envs/dev|dev")


def test_create_then_update_the_same_comment() -> None:
    fake = FakePullRequestComments(TOKEN)
    mark = pr_comment.marker("terraform-plan", "envs/prd|prd")
    fake.add_comment(REPO, 7, "a person quoting " + mark, login="octocat", kind="User")
    with _client(fake) as client:
        action, first = pr_comment.upsert(client, REPO, 7, "plan one", mark, policy=FAST)
        assert action == "created"
        action, second = pr_comment.upsert(client, REPO, 7, "plan two", mark, policy=FAST)
        assert (action, second) == ("updated", first)
        other = pr_comment.marker("terraform-plan", "envs/dev|dev")
        assert pr_comment.upsert(client, REPO, 7, "dev plan", other, policy=FAST)[0] == "created"
    bodies = fake.bodies(REPO, 7)
    assert bodies == ["a person quoting " + mark, mark + "\nplan two", other + "\ndev plan"]


def test_our_comment_is_found_on_a_later_page() -> None:
    fake = FakePullRequestComments(TOKEN)
    mark = pr_comment.marker("k", "x")
    for i in range(pr_comment.PER_PAGE + 5):
        fake.add_comment(REPO, 1, f"chatter {i}", login="u", kind="User")
    ours = fake.add_comment(REPO, 1, mark + "\nold", login="github-actions[bot]", kind="Bot")
    with _client(fake) as client:
        assert pr_comment.upsert(client, REPO, 1, "new", mark, policy=FAST) == ("updated", ours)


def test_a_body_over_the_limit_is_refused_before_any_request() -> None:
    fake = FakePullRequestComments(TOKEN)
    with _client(fake) as client, pytest.raises(UserError, match="over GitHub's 65536"):
        pr_comment.upsert(client, REPO, 1, "x" * COMMENT_LIMIT, "<!-- m -->", policy=FAST)
    assert not fake.requests


def test_a_read_only_token_says_what_to_grant() -> None:
    fake = FakePullRequestComments(TOKEN, read_only=True)
    with _client(fake) as client, pytest.raises(UserError) as caught:
        pr_comment.upsert(client, REPO, 1, "plan", "<!-- m -->", policy=FAST)
    assert "HTTP 403" in caught.value.message
    assert "pull-requests: write" in caught.value.message
    assert TOKEN not in caught.value.message


def test_a_server_error_is_retried() -> None:
    fake = FakePullRequestComments(TOKEN)
    fake.inject(Fault.html(502), times=1)
    clock = Clock(sleep=lambda _s: None)
    with _client(fake) as client:
        assert (
            pr_comment.upsert(client, REPO, 2, "plan", "<!-- m -->", policy=FAST, clock=clock)[0]
            == "created"
        )
    assert len(fake.bodies(REPO, 2)) == 1
