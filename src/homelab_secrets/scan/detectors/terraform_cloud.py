"""Terraform Cloud / HCP Terraform API tokens: ``<14 characters>.atlasv1.<60-70>``."""

from __future__ import annotations

from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector, bounded, hits_from
from homelab_secrets.scan.model import Hit, Rule

RULE = Rule("terraform-cloud-token", "token", "Terraform Cloud / HCP Terraform API token")
_TOKEN = bounded(r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}")


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(_TOKEN, text, RULE)


DETECTOR = Detector("terraform-cloud", ("atlasv1",), find, (RULE,))
