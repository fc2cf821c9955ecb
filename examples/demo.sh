#!/usr/bin/env bash
# The main job on the bundled demo repo (run by `make demo`, from examples/).
# Everything here uses the DEMO-ONLY key in keys/ and demo values: printing
# them is fine. Real workflows never print decrypted values.
set -euo pipefail
cd "$(dirname "$0")"
bin=${HOMELAB_SECRETS_BIN:-../.venv/bin}
export SOPS_AGE_KEY_FILE=keys/demo-age-key.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== 1. decrypt a file the real sops encrypted (secrets/prd.enc.yaml), one value extracted"
"$bin/homelab-secrets" decrypt --extract '["proxmox"]["endpoint"]' secrets/prd.enc.yaml
echo

echo "== 2. same bytes as sops itself prints, for every file in secrets/"
for f in secrets/*; do
  if [ -x "$bin/sops" ]; then
    cmp <("$bin/homelab-secrets" decrypt "$f") <("$bin/sops" decrypt "$f") && echo "   $f: identical to sops"
  else
    "$bin/homelab-secrets" decrypt "$f" >/dev/null && echo "   $f: decrypted (sops not installed to compare)"
  fi
done

echo "== 3. encrypt with .sops.yaml's rule; sops opens our file"
cp plain/prd.yaml "$work/prd.yaml"
"$bin/homelab-secrets" encrypt --filename-override secrets/prd.enc.yaml plain/prd.yaml >"$work/ours.enc.yaml"
grep -c 'ENC\[AES256_GCM' "$work/ours.enc.yaml" | sed 's/^/   encrypted values: /'
if [ -x "$bin/sops" ]; then
  cmp <("$bin/sops" decrypt "$work/ours.enc.yaml") <("$bin/homelab-secrets" decrypt "$work/ours.enc.yaml") \
    && echo "   sops decrypts ours to the same bytes"
fi

echo "== 4. the CI job locally: decrypt every secret for Terraform, then clean up"
"$bin/homelab-secrets" sops-decrypt 'secrets/*.enc.*' --output-dir "$work/out" \
  --format tfvars-json --terraform-dir "$work/tf" --manifest-dir "$work/state"
find "$work/out/secrets" "$work/tf" -type f -printf '%m %p\n' | sed 's/^/   /'
"$bin/homelab-secrets" cleanup --manifest-dir "$work/state"
echo "   left behind: $(find "$work/out" "$work/tf" -type f 2>/dev/null | wc -l) files"

echo "== 5. the roadmap's flow against a stand-in Doppler on 127.0.0.1 (no account needed)"
coproc DOPPLER { "$bin/python" stand_in_doppler.py; }
read -r url <&"${DOPPLER[0]}"
export DOPPLER_TOKEN="dp.st.prd.demodemodemodemodemodemodemodemodemodemo"  # DEMO-ONLY
unset SOPS_AGE_KEY_FILE  # the age key now comes from Doppler (SOPS_AGE_KEY there)
echo "   fetch --only 'PROXMOX_VE_*' --name-transform tf-var --format env:"
"$bin/homelab-secrets" fetch --api-host "$url" --only 'PROXMOX_VE_*' --name-transform tf-var \
  --format env | sed 's/^/   /'
echo "   run: Doppler values + secrets/prd.enc.yaml (decrypted with the age key from Doppler)"
echo "   in one command's environment; what it prints of them is masked:"
# shellcheck disable=SC2016  # expanded by the child shell, from run's environment
"$bin/homelab-secrets" run --api-host "$url" --sops-file secrets/prd.enc.yaml -- \
  sh -c 'echo "   PROXMOX_VE_API_TOKEN=$PROXMOX_VE_API_TOKEN"; env | grep -c "^PROXMOX_" | sed "s/^/   PROXMOX_* variables: /"'
kill "$DOPPLER_PID" 2>/dev/null || true
