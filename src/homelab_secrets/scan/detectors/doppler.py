"""Doppler tokens, every prefix: ``dp.st.`` service tokens (also
``dp.st.<config>.<token>``), ``dp.ct.`` CLI, ``dp.pt.`` personal, ``dp.sa.``
service-account, ``dp.said.`` OIDC identity, ``dp.scim.`` and ``dp.audit.``
tokens; the secret part is 40-44 alphanumerics."""

from __future__ import annotations

from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector, bounded, hits_from
from homelab_secrets.scan.model import Hit, Rule

RULE = Rule("doppler-token", "token", "Doppler token")
_TOKEN = bounded(
    r"dp\.(?:st|ct|pt|sa|said|scim|audit)\.(?:[a-z0-9][a-z0-9_-]{0,60}\.)?[A-Za-z0-9]{40,44}"
)


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(_TOKEN, text, RULE)


DETECTOR = Detector(
    "doppler",
    ("dp.st.", "dp.ct.", "dp.pt.", "dp.sa.", "dp.said.", "dp.scim.", "dp.audit."),
    find,
    (RULE,),
)
