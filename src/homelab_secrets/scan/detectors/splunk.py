"""Splunk HTTP Event Collector tokens: ``Authorization: Splunk <uuid>``, and a
UUID under a token key that is about Splunk: the key says so (``hec_token``,
``SPLUNK_HEC_TOKEN``, ``splunk_token``) or a parent of it, a few lines up,
does (``splunk_hec:`` / ``token:``, the OpenTelemetry exporter)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from homelab_secrets.scan import keynames
from homelab_secrets.scan.detectors.assign import assignments
from homelab_secrets.scan.detectors.base import Context, Detector, hits_from, plausible
from homelab_secrets.scan.detectors.generic import UUID
from homelab_secrets.scan.model import Hit, Rule

RULE = Rule("splunk-hec-token", "token", "Splunk HTTP Event Collector token")
_UUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
_HEADER = re.compile(
    rf"Authorization[\"']?\s*[:=]\s*[\"']?Splunk\s+(?P<token>{_UUID})(?![\w-])", re.I
)
_ANY_UUID = re.compile(rf"(?<![\w-]){_UUID}(?![\w-])")
_SPLUNK = re.compile(r"splunk|(?<![a-z])hec(?![a-z])", re.I)
#: How many lines above a value a parent key may name Splunk.
CONTEXT_LINES = 6


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(_HEADER, text, RULE, group="token")
    for m in _ANY_UUID.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        line = text[start : end if end != -1 else len(text)]
        for a in assignments(line, ctx.syntax):
            if a.start > m.start() - start or a.end < m.end() - start:
                continue
            if keynames.classify(a.key) != "secret" or not UUID.match(a.value):
                continue
            above = text[:start].rsplit("\n", CONTEXT_LINES + 1)[1:]
            if (_SPLUNK.search(a.key) or any(map(_SPLUNK.search, above))) and plausible(a.value):
                yield Hit(
                    start + a.start,
                    start + a.end,
                    a.value,
                    RULE.id,
                    RULE.kind,
                    RULE.title,
                    key=a.key,
                )


DETECTOR = Detector(
    "splunk", ("splunk", "hec_", "_hec", "hec-", "-hec"), find, (RULE,), scope="document"
)
