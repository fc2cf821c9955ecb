"""Detectors, one small module per token family (see :mod:`.base` for the
interface).  :data:`DETECTORS` is the registry the engine compiles into one
keyword prefilter; its order does not matter (overlaps are resolved by
:attr:`~homelab_secrets.scan.model.Hit.priority`)."""

from __future__ import annotations

from homelab_secrets.scan.detectors import (
    age,
    aws,
    basic_auth,
    cloud_init,
    commands,
    doppler,
    generic,
    github,
    jwt,
    netrc,
    private_key,
    proxmox,
    splunk,
    tailscale,
    terraform_cloud,
    vault,
    wireguard,
)
from homelab_secrets.scan.detectors.base import Context, Detector, syntax_for

DETECTORS: tuple[Detector, ...] = (
    github.DETECTOR,
    age.DETECTOR,
    doppler.DETECTOR,
    proxmox.DETECTOR,
    splunk.DETECTOR,
    tailscale.DETECTOR,
    wireguard.DETECTOR,
    vault.DETECTOR,
    terraform_cloud.DETECTOR,
    aws.DETECTOR,
    private_key.DETECTOR,
    jwt.DETECTOR,
    basic_auth.DETECTOR,
    commands.DETECTOR,
    netrc.DETECTOR,
    netrc.PGPASS_DETECTOR,
    cloud_init.DETECTOR,
    generic.DETECTOR,
    generic.HCL_DEFAULTS,
)

__all__ = ["DETECTORS", "Context", "Detector", "syntax_for"]
