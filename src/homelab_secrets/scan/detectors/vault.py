"""HashiCorp Vault tokens: ``hvs.`` service, ``hvb.`` batch and ``hvr.``
recovery tokens (Vault >= 1.10).  Legacy ``s.xxxx`` tokens have no
distinctive shape: the generic rule finds them under ``vault_token`` keys."""

from __future__ import annotations

from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector, bounded, hits_from
from homelab_secrets.scan.model import Hit, Rule

RULE = Rule("vault-token", "token", "HashiCorp Vault token")
_TOKEN = bounded(r"hv[sbr]\.[A-Za-z0-9_-]{24,}")


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(_TOKEN, text, RULE)


DETECTOR = Detector("vault", ("hvs.", "hvb.", "hvr."), find, (RULE,))
