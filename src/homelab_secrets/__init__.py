"""homelab-secrets: one safe way to handle secrets in a homelab's CI."""

__version__ = "0.1.0"
