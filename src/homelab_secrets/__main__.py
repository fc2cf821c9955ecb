"""`python -m homelab_secrets` is the same as the `homelab-secrets` command."""

import sys

from homelab_secrets.cli import main

sys.exit(main())
