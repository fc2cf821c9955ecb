# shellcheck shell=bash
# homelab-secrets action bootstrap: the Python environment every action step runs in.
#
# Every composite action step starts with
#
#     source "$GITHUB_ACTION_PATH/../../scripts/bootstrap.sh"
#     "$HOMELAB_SECRETS_PYTHON" -m homelab_secrets <command> --gha
#
# After it is sourced:
#   HOMELAB_SECRETS_PYTHON  the venv's python (the contract steps and tooling rely on)
#   PYTHONPATH              "<this repo>/src", and nothing else
#
# What it does
#   1. Finds a Python >= 3.10: $HOMELAB_SECRETS_BOOTSTRAP_PYTHON if set, else the
#      first of python3, python3.13, python3.12, python3.11, python3.10 on PATH
#      that is new enough. python3 comes first because it is the interpreter the
#      job chose (actions/setup-python, pyenv): each candidate costs a process
#      start, and a version manager's shim costs ~0.15 s, so probing four newer
#      names first would eat the warm-start budget.
#   2. Keys a venv on (sha256 of requirements/lock.txt, Python implementation and
#      exact version) under the first writable of
#        $HOMELAB_SECRETS_CACHE                 (explicit; tests point it at a shared dir)
#        $RUNNER_TOOL_CACHE/homelab-secrets     (kept across jobs on self-hosted runners)
#        $RUNNER_TEMP/homelab-secrets           (this job only)
#        ${TMPDIR:-/tmp}/homelab-secrets-<uid>  (mode 0700, must be ours)
#   3. Warm: the venv's completion marker exists -> export and return. No
#      network, no installer, one Python start.
#      Cold: runs this same file as a script (`bash bootstrap.sh --build ...`),
#      which takes a lock (flock, or mkdir where flock is missing) so that two
#      steps never build the same venv at once, rebuilds from scratch if an
#      earlier build died half-way (no marker), installs requirements/lock.txt
#      with --require-hashes (uv if on PATH, pip otherwise; override with
#      HOMELAB_SECRETS_INSTALLER=uv|pip), and writes the marker last. A step
#      waits up to HOMELAB_SECRETS_LOCK_TIMEOUT seconds (default 900) for
#      another step's build.
#
# Why PYTHONPATH and not `pip install .`: the venv is shared by every ref of
# this repo that has the same lock file (a new tag with the same dependencies
# reuses it). Installing the package would bake one ref's code into it, and a
# step running @v1.2 could import @v1.1's code. The action's own checkout is on
# disk at the same commit as the action.yml that called us, so importing from
# "$repo/src" always runs the code of the ref in use.
#
# It prints nothing on the warm path; on the cold path the installer's log,
# inside one "::group::"; never an environment value; and on failure exactly
# one "::error::" line (after the installer log's tail, if there is one).
# It works under callers' `set -euo pipefail` and returns (never exits) when
# sourced. Bash only (composite steps use `shell: bash`).

_homelab_secrets_fail() {
  printf '::error title=homelab-secrets bootstrap::%s\n' "$*" >&2
}

# ----------------------------------------------------------------------------- build (child)
# Runs as a separate process: `bash bootstrap.sh --build VENV PYTHON LOCK KEY`.
_homelab_secrets_build() {
  set -euo pipefail
  local venv=$1 python=$2 lock=$3 key=$4
  local dir lockfile log marker installer started elapsed
  dir=$(dirname -- "$venv")
  lockfile="$venv.lock"
  log="$venv.log"
  marker="$venv/.homelab-secrets-complete"

  # -- lock: one builder per venv; others wait, then find the marker
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$lockfile"
    if ! flock -w "${HOMELAB_SECRETS_LOCK_TIMEOUT:-900}" 9; then
      _homelab_secrets_fail "timed out waiting for another step to build $venv (lock $lockfile)"
      return 1
    fi
  else
    local waited=0 lockdir="$lockfile.d"
    until mkdir "$lockdir" 2>/dev/null; do
      # a builder that died leaves its lock dir; treat one older than 15 min as stale
      if [ -n "$(find "$lockdir" -maxdepth 0 -mmin +15 2>/dev/null)" ]; then
        rm -rf "$lockdir"
        continue
      fi
      if [ "$waited" -ge "$((${HOMELAB_SECRETS_LOCK_TIMEOUT:-900} * 5))" ]; then
        _homelab_secrets_fail "timed out waiting for another step to build $venv (lock $lockdir)"
        return 1
      fi
      sleep 0.2
      waited=$((waited + 1))
    done
    trap 'rm -rf "$lockdir"' EXIT
  fi

  if [ -f "$marker" ] && [ -x "$venv/bin/python" ]; then
    return 0 # another step finished it while we waited
  fi

  installer=${HOMELAB_SECRETS_INSTALLER:-}
  if [ -z "$installer" ]; then
    if command -v uv >/dev/null 2>&1; then installer=uv; else installer=pip; fi
  fi
  case $installer in
    uv | pip) ;;
    *)
      _homelab_secrets_fail "HOMELAB_SECRETS_INSTALLER must be uv or pip, not '$installer'"
      return 1
      ;;
  esac

  started=$(date +%s)
  rm -rf "$venv" # a half-built venv from a build that died: never reused
  printf '::group::homelab-secrets: setting up Python environment (%s, %s)\n' "$key" "$installer" >&2
  local rc=0
  (
    cd "$dir" # not the workspace: its pyproject.toml/uv.toml must not steer us
    if [ "$installer" = uv ]; then
      UV_PYTHON_DOWNLOADS=never uv venv --quiet --no-project --no-config --python "$python" "$venv" &&
        UV_PYTHON_DOWNLOADS=never uv pip install --no-config --python "$venv/bin/python" \
          --require-hashes --compile-bytecode --requirement "$lock"
    else
      "$python" -m venv "$venv" &&
        "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
          --require-hashes --requirement "$lock"
    fi
  ) >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2 || true
    printf '::endgroup::\n' >&2
    rm -rf "$venv"
    local hint=""
    if [ "$installer" = pip ] && grep -q -i 'ensurepip' "$log" 2>/dev/null; then
      hint=" ($python has no ensurepip: install python3-venv, or put uv on PATH)"
    fi
    _homelab_secrets_fail "could not install requirements/lock.txt with $installer into $venv (exit $rc)$hint; full log: $log"
    return 1
  fi
  printf '%s\n' "$key" >"$marker.tmp" && mv -f "$marker.tmp" "$marker"
  cat "$log" >&2
  elapsed=$(($(date +%s) - started))
  printf 'homelab-secrets: Python environment ready in %ss: %s\n' "$elapsed" "$venv" >&2
  printf '::endgroup::\n' >&2
}

# ----------------------------------------------------------------------------- sourced
_homelab_secrets_bootstrap() {
  local root lock python="" key="" hash="" cand out status dir venv
  root=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd) || {
    _homelab_secrets_fail "cannot find the homelab-secrets checkout around ${BASH_SOURCE[0]}"
    return 1
  }
  lock="$root/requirements/lock.txt"
  if [ ! -r "$lock" ]; then
    _homelab_secrets_fail "missing $lock: the action checkout is incomplete"
    return 1
  fi

  # -- 1. interpreter: one process start prints its path, version key and the lock hash
  local probe='import sys
v = sys.version_info
if v < (3, 10):
    print("old")
    print("%d.%d.%d" % tuple(v[:3]))
    sys.exit(0)
import hashlib
with open(sys.argv[1], "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
print("ok")
print(sys.executable)
print("%s-%d.%d.%d%s" % (sys.implementation.name, v[0], v[1], v[2], getattr(sys, "abiflags", "")))
print(digest)'
  local -a candidates=(python3 python3.13 python3.12 python3.11 python3.10)
  local tried=""
  if [ -n "${HOMELAB_SECRETS_BOOTSTRAP_PYTHON:-}" ]; then
    candidates=("$HOMELAB_SECRETS_BOOTSTRAP_PYTHON")
  fi
  for cand in "${candidates[@]}"; do
    command -v -- "$cand" >/dev/null 2>&1 || continue
    out=$("$cand" -I -S -c "$probe" "$lock" 2>/dev/null) || continue
    status="" python="" key="" hash=""
    {
      IFS= read -r status
      IFS= read -r python
      IFS= read -r key
      IFS= read -r hash
    } <<<"$out" || true
    if [ "$status" = ok ] && [ -n "$hash" ]; then
      break
    fi
    tried="$tried $cand ($python)"
    python=""
  done
  if [ -z "$python" ]; then
    _homelab_secrets_fail "no Python >= 3.10 found (tried: ${candidates[*]};${tried:- none ran}); add actions/setup-python before this step, or set HOMELAB_SECRETS_BOOTSTRAP_PYTHON"
    return 1
  fi

  # -- 2. where the venvs live
  dir=""
  local base
  if [ -n "${HOMELAB_SECRETS_CACHE:-}" ]; then
    if mkdir -p -- "$HOMELAB_SECRETS_CACHE" 2>/dev/null && [ -w "$HOMELAB_SECRETS_CACHE" ]; then
      dir=$HOMELAB_SECRETS_CACHE
    else
      _homelab_secrets_fail "HOMELAB_SECRETS_CACHE=$HOMELAB_SECRETS_CACHE is not a writable directory"
      return 1
    fi
  else
    for base in "${RUNNER_TOOL_CACHE:-}" "${RUNNER_TEMP:-}"; do
      # (act names a tool cache it has not created yet: create it as the runner would)
      if [ -n "$base" ] && mkdir -p -- "$base/homelab-secrets" 2>/dev/null &&
        [ -w "$base/homelab-secrets" ]; then
        dir="$base/homelab-secrets"
        break
      fi
    done
    if [ -z "$dir" ]; then
      dir="${TMPDIR:-/tmp}/homelab-secrets-$(id -u)"
      mkdir -m 0700 -- "$dir" 2>/dev/null || true # exists already: checked below
      # shared temp dirs: another user could have made it first (or a symlink)
      if [ -L "$dir" ] || [ ! -d "$dir" ] || [ ! -O "$dir" ] || [ ! -w "$dir" ]; then
        _homelab_secrets_fail "no usable cache directory: RUNNER_TOOL_CACHE and RUNNER_TEMP are unset or read-only, and $dir is not a private directory of ours"
        return 1
      fi
    fi
  fi
  dir=$(cd -P -- "$dir" && pwd) || {
    _homelab_secrets_fail "cannot enter the cache directory $dir"
    return 1
  }
  venv="$dir/v1-${hash:0:16}-$key"

  # -- 3. warm path, else build in a child process
  if [ ! -f "$venv/.homelab-secrets-complete" ] || [ ! -x "$venv/bin/python" ]; then
    bash "$root/scripts/bootstrap.sh" --build "$venv" "$python" "$lock" "$key" || return 1
  fi
  export HOMELAB_SECRETS_PYTHON="$venv/bin/python"
  export PYTHONPATH="$root/src"
}

if [ "${BASH_SOURCE[0]}" = "${0}" ]; then
  # executed, not sourced: the cold-path builder
  if [ "${1:-}" = --build ] && [ "$#" -eq 5 ]; then
    shift
    _homelab_secrets_build "$@"
    exit $?
  fi
  echo "usage: source scripts/bootstrap.sh   (from an action step; see the header)" >&2
  exit 2
fi

if _homelab_secrets_bootstrap; then
  unset -f _homelab_secrets_bootstrap _homelab_secrets_build _homelab_secrets_fail
else
  unset -f _homelab_secrets_bootstrap _homelab_secrets_build _homelab_secrets_fail
  return 1
fi
