"""A stand-in Doppler on 127.0.0.1 for the demo (no account needed): the
project's fake Doppler (tests/fakes/doppler.py), which the real Doppler CLI
is tested against, holding DEMO-ONLY values and the DEMO-ONLY age key.

Prints the URL on its first line, then serves until stdin closes.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fakes import serve  # noqa: E402
from fakes.doppler import FakeDoppler  # noqa: E402

TOKEN = "dp.st.prd." + "demo" * 10  # DEMO-ONLY, accepted by this stand-in alone


def main() -> int:
    age_key = next(
        line
        for line in (HERE / "keys" / "demo-age-key.txt").read_text().splitlines()
        if line.startswith("AGE-SECRET-KEY-")
    )
    fake = FakeDoppler()
    fake.add_config(
        "iac-conf-mgmt",
        "prd",
        {
            "PROXMOX_VE_ENDPOINT": "https://pve.demo.lan:8006/",
            "PROXMOX_VE_API_TOKEN": "terraform@pve!demo=DEMO-ONLY-not-a-real-token",
            "SOPS_AGE_KEY": age_key,
        },
    )
    fake.add_service_token(TOKEN, "iac-conf-mgmt", "prd")
    with serve(fake) as url:
        print(url, flush=True)
        sys.stdin.read()  # until the demo closes our stdin
    return 0


if __name__ == "__main__":
    sys.exit(main())
