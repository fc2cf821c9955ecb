"""A fake of GitHub's issue-comment REST endpoints (what ``pr-comment`` uses),
written from the public contract (REST API 2022-11-28, "Issue comments")::

    GET   /repos/{owner}/{repo}/issues/{number}/comments?per_page=&page=
          200 [{"id", "body", "user": {"login", "type"}, ...}]  (oldest first)
    POST  /repos/{owner}/{repo}/issues/{number}/comments   {"body"} -> 201 {comment}
    PATCH /repos/{owner}/{repo}/issues/comments/{id}       {"body"} -> 200 {comment}

Auth: ``Authorization: Bearer|token <token>``; 401 without, 403 for a read-only
token writing.  A body over 65,536 characters is a 422, as on GitHub ("Body is
too long").  Comments posted through the fake are by ``github-actions[bot]``
(type ``Bot``); tests add people's comments with :meth:`add_comment`.
"""

from __future__ import annotations

from typing import Any

from fakes import FakeService, Request, Response, json_response, route

LIMIT = 65_536


class FakePullRequestComments(FakeService):
    def __init__(self, token: str, *, read_only: bool = False) -> None:
        super().__init__()
        self.token = token
        self.read_only = read_only
        self.comments: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self._next_id = 1000

    def add_comment(self, repo: str, number: int, body: str, *, login: str, kind: str) -> int:
        with self.lock:
            self._next_id += 1
            self.comments.setdefault((repo, number), []).append(
                {"id": self._next_id, "body": body, "user": {"login": login, "type": kind}}
            )
            return self._next_id

    def bodies(self, repo: str, number: int) -> list[str]:
        with self.lock:
            return [c["body"] for c in self.comments.get((repo, number), [])]

    def _denied(self, request: Request, *, write: bool) -> Response | None:
        if request.bearer() != self.token:
            return json_response({"message": "Requires authentication"}, 401)
        if write and self.read_only:
            return json_response({"message": "Resource not accessible by integration"}, 403)
        return None

    def _body(self, request: Request) -> str | Response:
        try:
            body = request.json()["body"]
        except (ValueError, KeyError, TypeError):
            return json_response({"message": "Invalid request"}, 422)
        if not isinstance(body, str) or len(body) > LIMIT:
            return json_response({"message": "Validation Failed: body is too long"}, 422)
        return body

    @route("GET", "/repos/{owner}/{repo}/issues/{number}/comments")
    def list_comments(self, request: Request, owner: str, repo: str, number: str) -> Response:
        if denied := self._denied(request, write=False):
            return denied
        per_page = int((request.query.get("per_page") or ["30"])[0])
        page = int((request.query.get("page") or ["1"])[0])
        with self.lock:
            items = list(self.comments.get((f"{owner}/{repo}", int(number)), []))
        return json_response(items[(page - 1) * per_page : page * per_page])

    @route("POST", "/repos/{owner}/{repo}/issues/{number}/comments")
    def create_comment(self, request: Request, owner: str, repo: str, number: str) -> Response:
        if denied := self._denied(request, write=True):
            return denied
        body = self._body(request)
        if isinstance(body, Response):
            return body
        new_id = self.add_comment(
            f"{owner}/{repo}", int(number), body, login="github-actions[bot]", kind="Bot"
        )
        return json_response({"id": new_id, "body": body}, 201)

    @route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
    def update_comment(self, request: Request, owner: str, repo: str, comment_id: str) -> Response:
        if denied := self._denied(request, write=True):
            return denied
        body = self._body(request)
        if isinstance(body, Response):
            return body
        with self.lock:
            for comments in self.comments.values():
                for comment in comments:
                    if comment["id"] == int(comment_id):
                        comment["body"] = body
                        return json_response(comment)
        return json_response({"message": "Not Found"}, 404)
