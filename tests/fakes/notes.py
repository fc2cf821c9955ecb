"""A tiny fake ("notes" API): the example every real fake follows.

API (as a contract would describe it)::

    GET    /v1/notes             200 {"notes": [{"name", "text"}...]}   (sorted by name)
    GET    /v1/notes/{name}      200 {"name", "text"} | 404
    PUT    /v1/notes/{name}      {"text": str} -> 201 created | 204 updated | 422
    DELETE /v1/notes/{name}      204 | 404
    every call: Authorization: Bearer <token>, else 401
"""

from __future__ import annotations

from fakes.base import FakeService, Request, Response, empty_response, json_response, route

TOKEN = "test-token"


class NotesFake(FakeService):
    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.notes: dict[str, str] = {}

    def _denied(self, request: Request) -> Response | None:
        if request.bearer() != self.token:
            return json_response({"message": "Requires authentication"}, 401)
        return None

    @route("GET", "/v1/notes")
    def list_notes(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        with self.lock:
            notes = [{"name": k, "text": v} for k, v in sorted(self.notes.items())]
        return json_response({"notes": notes})

    @route("GET", "/v1/notes/{name}")
    def get_note(self, request: Request, name: str) -> Response:
        if denied := self._denied(request):
            return denied
        with self.lock:
            if name not in self.notes:
                return json_response({"message": f"note {name} not found"}, 404)
            return json_response({"name": name, "text": self.notes[name]})

    @route("PUT", "/v1/notes/{name}")
    def put_note(self, request: Request, name: str) -> Response:
        if denied := self._denied(request):
            return denied
        try:
            text = request.json()["text"]
        except (ValueError, KeyError, TypeError):
            return json_response({"message": 'body must be {"text": string}'}, 422)
        if not isinstance(text, str):
            return json_response({"message": "text must be a string"}, 422)
        with self.lock:
            created = name not in self.notes
            self.notes[name] = text
        return json_response({}, 201) if created else empty_response(204)

    @route("DELETE", "/v1/notes/{name}")
    def delete_note(self, request: Request, name: str) -> Response:
        if denied := self._denied(request):
            return denied
        with self.lock:
            if self.notes.pop(name, None) is None:
                return json_response({"message": f"note {name} not found"}, 404)
        return empty_response(204)
