"""Proxmox VE API tokens.

* ``PVEAPIToken=user@realm!tokenid=<uuid>`` (the HTTP header), and the same
  ``user@realm!tokenid=<uuid>`` without the prefix (bpg/proxmox ``api_token``);
* a UUID under a Proxmox token key: ``pm_api_token_secret`` (Telmate
  provider), ``PROXMOX_VE_API_TOKEN``, ``proxmox_token_secret``...

The value reported is the UUID secret; the ``user@realm!tokenid`` part is
an identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from homelab_secrets.scan import keynames
from homelab_secrets.scan.detectors.assign import assignments
from homelab_secrets.scan.detectors.base import Context, Detector, hits_from, plausible
from homelab_secrets.scan.detectors.generic import UUID
from homelab_secrets.scan.model import Hit, Rule

RULE = Rule("proxmox-api-token", "token", "Proxmox VE API token secret")
_UUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
_TOKEN = re.compile(
    rf"(?:PVEAPIToken=)?(?<![\w.-])[\w.-]+@[\w.-]+![\w.-]+[=:](?P<secret>{_UUID})(?![\w-])",
    re.I,
)
_PROXMOX_WORDS = frozenset({"pm", "proxmox", "pve"})


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(_TOKEN, text, RULE, group="secret")
    for a in assignments(text, ctx.syntax):
        words = keynames.words(a.key)
        if (
            _PROXMOX_WORDS.intersection(words)
            and keynames.classify(a.key) == "secret"
            and UUID.match(a.value)
            and plausible(a.value)
        ):
            yield Hit(a.start, a.end, a.value, RULE.id, RULE.kind, RULE.title, key=a.key)


DETECTOR = Detector(
    "proxmox", ("pveapitoken", "@pve!", "@pam!", "proxmox", "pm_api", "api_token"), find, (RULE,)
)
