"""Tailscale keys: ``tskey-auth-``, ``tskey-api-``, ``tskey-client-`` (OAuth
client secrets), ``tskey-scim-``, ``tskey-webhook-`` (and the older
``tskey-<id>-<secret>``)."""

from __future__ import annotations

from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector, bounded, hits_from
from homelab_secrets.scan.model import Hit, Rule

RULE = Rule("tailscale-key", "token", "Tailscale auth/API/OAuth key")
_KEY = bounded(r"tskey-(?:[a-z]+-)?[A-Za-z0-9]{6,40}-[A-Za-z0-9]{16,80}")


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(_KEY, text, RULE)


DETECTOR = Detector("tailscale", ("tskey-",), find, (RULE,))
