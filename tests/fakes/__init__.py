"""Fakes of the external services we talk to: one small WSGI app per service.

The pattern lives in :mod:`fakes.base`; :mod:`fakes.notes` is a minimal
example of it. The Doppler, Infisical and GitHub fakes come with their issues,
each in its own module here.
"""

from fakes.base import (
    FakeService,
    Fault,
    RecordedRequest,
    Request,
    Response,
    empty_response,
    json_response,
    route,
    serve,
)

__all__ = [
    "FakeService",
    "Fault",
    "RecordedRequest",
    "Request",
    "Response",
    "empty_response",
    "json_response",
    "route",
    "serve",
]
