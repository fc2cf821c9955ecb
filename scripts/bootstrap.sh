# shellcheck shell=bash
# homelab-secrets action bootstrap: the Python environment every action step runs in.
#
# Every composite action step starts with
#
#     source "$GITHUB_ACTION_PATH/../../scripts/bootstrap.sh" SUBSET
#     "$HOMELAB_SECRETS_PYTHON" -m homelab_secrets <command> --gha
#
# SUBSET names a line of requirements/subsets.txt: the runtime distributions
# the action's command imports (sops: cryptography pyrage). With no argument
# (and no positional parameters in the caller) the whole lock ("all").
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
#      start, and a version manager's shim costs ~0.15 s.
#      That one process (scripts/bootstrap.py probe) also reads the subset: the
#      lines of requirements/lock.txt it installs, and their sha256.
#   2. Keys a venv on (that sha256, Python implementation and exact version)
#      under the first writable of
#        $HOMELAB_SECRETS_CACHE                 (explicit; tests point it at a shared dir)
#        $RUNNER_TOOL_CACHE/homelab-secrets     (kept across jobs on self-hosted runners)
#        $RUNNER_TEMP/homelab-secrets           (this job only)
#        ${TMPDIR:-/tmp}/homelab-secrets-<uid>  (mode 0700, must be ours)
#      Beside it, the wheelhouse w2-<same key>: the wheel files the venv was
#      made from, which the actions keep across jobs and runs with actions/cache
#      (`bootstrap.sh --cache-key SUBSET` prints its path and cache key;
#      HOMELAB_SECRETS_ACTIONS_CACHE=false keeps a job off the cache).
#   3. Warm: the venv's completion marker exists -> export and return. No
#      network, no installer, one Python start.
#      Cold: runs this same file as a script (`bash bootstrap.sh --build ...`),
#      which takes a lock (flock, or mkdir where flock is missing) so that two
#      steps never build the same venv at once, rebuilds from scratch if an
#      earlier build died half-way (no marker), then
#        a. a wheelhouse is there (restored by actions/cache): every wheel's
#           sha256 must be one of the subset's lock hashes, each needed line
#           must have exactly one wheel that fits this Python and platform, and
#           nothing else may be there; then they are unpacked into a new venv
#           (python -m venv --without-pip). No network, no installer. Anything
#           else: one ::warning::, the wheelhouse is deleted, and b/c run.
#        b. uv on PATH (or HOMELAB_SECRETS_INSTALLER=uv): uv venv + uv pip
#           install --require-hashes of the subset (uv's own cache).
#        c. otherwise pip, the interpreter's own (python -m pip, else the pip
#           wheel ensurepip carries): wheels of earlier builds that match are
#           reused, `pip download --only-binary :all: --require-hashes --no-deps`
#           fetches the rest, and they are unpacked as in a. The new wheelhouse
#           is what the action's save step keeps (the step gets the output
#           homelab-secrets-cache=save). A platform with no wheel for a line
#           falls back to `pip install --require-hashes` (builds from source).
#      It writes the marker last. A step waits up to
#      HOMELAB_SECRETS_LOCK_TIMEOUT seconds (default 900) for another's build.
#      A python3 that can run neither (no pip, no ensurepip, no uv on PATH,
#      nothing restored) fails with one line naming what to install.
#
# Why PYTHONPATH and not `pip install .`: the venv is shared by every ref of
# this repo whose subset is the same (a new tag with the same dependencies
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
# Runs as a separate process: `bash bootstrap.sh --build VENV PYTHON ROOT SUBSET KEY WHEELS`.
_homelab_secrets_build() {
  set -euo pipefail
  local venv=$1 python=$2 root=$3 subset=$4 key=$5 wheels=$6
  local dir lockfile log marker installer started elapsed how="" pip_whl=""
  local helper="$root/scripts/bootstrap.py"
  local -a spec=("$root/requirements/lock.txt" "$root/requirements/subsets.txt" "$subset")
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

  started=$(date +%s)
  rm -rf "$venv" "$wheels.new" # a half-built venv from a build that died: never reused
  : >"$log"

  # -- a. the wheelhouse (restored by actions/cache, or kept from an earlier build)
  if [ -d "$wheels" ]; then
    printf '::group::homelab-secrets: setting up Python environment (%s, %s, cached wheels)\n' \
      "$subset" "$key" >&2
    local arc=0
    "$python" -I -S "$helper" install "${spec[@]}" "$wheels" "$venv" >>"$log" 2>&1 || arc=$?
    if [ "$arc" -eq 0 ]; then
      how=wheelhouse
    elif [ "$arc" -eq 3 ]; then # refused: not exactly the lock's wheels for this subset and Python
      printf '::endgroup::\n' >&2
      printf '::warning title=homelab-secrets bootstrap::ignored the cached wheels in %s: %s; installing again\n' \
        "$wheels" "$(tail -n 1 "$log")" >&2
      rm -rf "$venv" "$wheels"
      : >"$log"
    else
      tail -n 40 "$log" >&2 || true
      printf '::endgroup::\n' >&2
      rm -rf "$venv"
      _homelab_secrets_fail "could not set up $venv from the cached wheels in $wheels (exit $arc; $python cannot make a venv? install python3-venv); full log: $log"
      return 1
    fi
  fi

  if [ -z "$how" ]; then
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
    local -a pip=()
    if [ "$installer" = pip ]; then
      if "$python" -c 'import pip' >/dev/null 2>&1; then
        pip=("$python" -m pip)
      else
        # no pip module: the pip wheel that ensurepip carries runs as it is
        pip_whl=$("$python" -c 'import ensurepip, glob, os
bundled = os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")
found = ""
try:
    package = ensurepip._get_packages()["pip"]  # Debian: /usr/share/python-wheels
    found = package.wheel_path or os.path.join(bundled, package.wheel_name or "")
except Exception:
    pass
if not os.path.isfile(found):
    found = ([""] + sorted(glob.glob(os.path.join(bundled, "pip-*.whl"))))[-1]
print(found)' 2>/dev/null) || pip_whl=""
        if [ -n "$pip_whl" ] && [ -f "$pip_whl" ]; then
          pip=("$python" "$pip_whl/pip")
        else
          _homelab_secrets_fail "$python has no pip (nor ensurepip) and uv is not on PATH, so nothing can install the action's packages: install python3-pip (apt-get install python3-pip), or put uv on PATH"
          return 1
        fi
      fi
    fi
    printf '::group::homelab-secrets: setting up Python environment (%s, %s, %s)\n' \
      "$subset" "$key" "$installer" >&2
    local rc=0
    (
      set -euo pipefail
      cd "$dir" # not the workspace: its pyproject.toml/uv.toml/pip.conf must not steer us
      if [ "$installer" = uv ]; then
        UV_PYTHON_DOWNLOADS=never uv venv --quiet --no-project --no-config --python "$python" "$venv"
        "$python" -I -S "$helper" prepare "${spec[@]}" "$venv" "$wheels.new" 1 >/dev/null
        rm -rf "$wheels.new" # uv keeps its own cache; nothing to hand to actions/cache
        UV_PYTHON_DOWNLOADS=never uv pip install --no-config --python "$venv/bin/python" \
          --require-hashes --compile-bytecode --requirement "$venv/homelab-secrets-requirements.txt"
      else
        mkdir -p "$venv" # the venv itself: bootstrap.py install, once the wheels are here
        # wheels of this machine's other subsets that match are reused; the rest
        # is downloaded by up to 4 pips side by side (each spends its time reading
        # index pages, on one core)
        local cpus groups pids=() n failed=0
        cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
        groups=$((cpus < 2 ? 2 : cpus > 4 ? 4 : cpus))
        missing=$("$python" -I -S "$helper" prepare "${spec[@]}" "$venv" "$wheels.new" "$groups" \
          "$dir"/w2-*-"$key")
        echo "homelab-secrets: $missing requirement line(s) to download"
        for n in "$venv"/homelab-secrets-missing-*.txt; do
          [ -f "$n" ] || continue
          "${pip[@]}" download --disable-pip-version-check --no-input --progress-bar off \
            --only-binary=:all: --no-deps --require-hashes --dest "$wheels.new" \
            --requirement "$n" >"${n%.txt}.log" 2>&1 &
          pids+=("$!")
        done
        for n in "${pids[@]}"; do wait "$n" || failed=1; done
        cat "$venv"/homelab-secrets-missing-*.log 2>/dev/null || true
        if [ "$failed" -ne 0 ]; then
          grep -q -e 'No matching distribution' -e 'Could not find a version' \
            "$venv"/homelab-secrets-missing-*.log || exit 1
          # no wheel for this platform (armv7, ...): pip builds it; nothing to cache then
          rm -rf "$wheels.new"
          echo "homelab-secrets: not every line has a wheel here; pip installs from source"
          "$python" -m venv --without-pip "$venv" || {
            echo "HOMELAB-SECRETS-NO-VENV"
            exit 1
          }
          exec "${pip[@]}" --python "$venv/bin/python" install --disable-pip-version-check \
            --no-input --require-hashes --requirement "$venv/homelab-secrets-requirements.txt"
        fi
        "$python" -I -S "$helper" install "${spec[@]}" "$wheels.new" "$venv"
      fi
    ) >>"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
      tail -n 40 "$log" >&2 || true
      printf '::endgroup::\n' >&2
      rm -rf "$venv" "$wheels.new"
      local hint=""
      if grep -q 'HOMELAB-SECRETS-NO-VENV' "$log" 2>/dev/null; then
        hint=" ($python cannot make a venv: install python3-venv, or put uv on PATH)"
      fi
      _homelab_secrets_fail "could not install requirements/lock.txt ($subset) with $installer into $venv (exit $rc)$hint; full log: $log"
      return 1
    fi
    how=$installer
    if [ -d "$wheels.new" ]; then
      rm -rf "$wheels"
      mv -f "$wheels.new" "$wheels"
      how=download
      # the action's save step keeps the new wheelhouse for the next jobs and runs
      if [ -n "${GITHUB_OUTPUT:-}" ] && [ -w "${GITHUB_OUTPUT:-}" ] &&
        ! [[ ${HOMELAB_SECRETS_ACTIONS_CACHE:-true} =~ ^(false|0|off|no)$ ]]; then
        printf 'homelab-secrets-cache=save\n' >>"$GITHUB_OUTPUT"
      fi
    fi
  fi
  printf '%s\n' "$key" >"$marker.tmp" && mv -f "$marker.tmp" "$marker"
  cat "$log" >&2
  elapsed=$(($(date +%s) - started))
  printf 'homelab-secrets: Python environment ready in %ss (%s): %s\n' "$elapsed" "$how" "$venv" >&2
  printf '::endgroup::\n' >&2
}

# ----------------------------------------------------------------------------- locate
# Sets (in the caller's locals, by bash's dynamic scope) root, python, key, hash,
# platform, venv and wheels for the subset in $subset.
_homelab_secrets_locate() {
  root=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd) || {
    _homelab_secrets_fail "cannot find the homelab-secrets checkout around ${BASH_SOURCE[0]}"
    return 1
  }
  local lock="$root/requirements/lock.txt" subsets="$root/requirements/subsets.txt"
  local f
  for f in "$lock" "$subsets" "$root/scripts/bootstrap.py"; do
    if [ ! -r "$f" ]; then
      _homelab_secrets_fail "missing ${f#"$root"/}: the action checkout is incomplete"
      return 1
    fi
  done

  # -- 1. interpreter: one process start prints its path, version key and the subset's hash
  local -a candidates=(python3 python3.13 python3.12 python3.11 python3.10)
  local tried="" cand out status
  if [ -n "${HOMELAB_SECRETS_BOOTSTRAP_PYTHON:-}" ]; then
    candidates=("$HOMELAB_SECRETS_BOOTSTRAP_PYTHON")
  fi
  python=""
  for cand in "${candidates[@]}"; do
    command -v -- "$cand" >/dev/null 2>&1 || continue
    out=$("$cand" -I -S "$root/scripts/bootstrap.py" probe "$lock" "$subsets" "$subset" 2>/dev/null) || continue
    status="" python="" key="" hash="" platform=""
    {
      IFS= read -r status
      IFS= read -r python
      IFS= read -r key
      IFS= read -r hash
      IFS= read -r platform
    } <<<"$out" || true
    if [ "$status" = error ]; then
      _homelab_secrets_fail "$python"
      python=""
      return 1
    fi
    if [ "$status" = ok ] && [ -n "$platform" ]; then
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
  local dir="" base
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
  venv="$dir/v2-${hash:0:16}-$key"
  wheels="$dir/w2-${hash:0:16}-$key"
}

# ----------------------------------------------------------------------------- sourced
_homelab_secrets_bootstrap() {
  local subset=${1:-all}
  local root python key hash platform venv wheels
  _homelab_secrets_locate || return 1
  # -- 3. warm path, else build in a child process
  if [ ! -f "$venv/.homelab-secrets-complete" ] || [ ! -x "$venv/bin/python" ]; then
    bash "$root/scripts/bootstrap.sh" --build "$venv" "$python" "$root" "$subset" "$key" "$wheels" ||
      return 1
  fi
  export HOMELAB_SECRETS_PYTHON="$venv/bin/python"
  export PYTHONPATH="$root/src"
}

# ----------------------------------------------------------------------------- cache key
# `bash bootstrap.sh --cache-key SUBSET`: the step before actions/cache/restore.
# Writes to $GITHUB_OUTPUT (stdout without it):
#   path     the wheelhouse, the only thing actions/cache restores and saves
#   key      homelab-secrets-v2-<subset>-<os-arch-libc>-<python>-<sha256 of the subset>
#   restore  true unless the venv is already here (nothing to restore or save)
#            or HOMELAB_SECRETS_ACTIONS_CACHE=false (this job never uses the cache)
_homelab_secrets_cache_key() {
  local subset=$1
  local root python key hash platform venv wheels restore=true
  _homelab_secrets_locate || return 1
  if [ -f "$venv/.homelab-secrets-complete" ] && [ -x "$venv/bin/python" ]; then
    restore=false
  fi
  case ${HOMELAB_SECRETS_ACTIONS_CACHE:-true} in
    false | 0 | off | no) restore=false ;;
  esac
  # the key names everything the wheels depend on: the subset's lock lines
  # (sha256), the Python, OS, architecture and C library. What is restored is
  # checked against the lock anyway (a. above): the key is a hint, not trust.
  local text
  text=$(printf 'path=%s\nkey=homelab-secrets-v2-%s-%s-%s-%s\nrestore=%s' \
    "$wheels" "$subset" "$platform" "$key" "$hash" "$restore")
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s\n' "$text" >>"$GITHUB_OUTPUT"
  else
    printf '%s\n' "$text"
  fi
}

if [ "${BASH_SOURCE[0]}" = "${0}" ]; then
  # executed, not sourced: the cold-path builder, or the cache key step
  if [ "${1:-}" = --build ] && [ "$#" -eq 7 ]; then
    shift
    _homelab_secrets_build "$@"
    exit $?
  fi
  if [ "${1:-}" = --cache-key ] && [ "$#" -le 2 ]; then
    _homelab_secrets_cache_key "${2:-all}"
    exit $?
  fi
  echo "usage: source scripts/bootstrap.sh [SUBSET]   (from an action step; see the header)" >&2
  echo "       bash scripts/bootstrap.sh --cache-key [SUBSET]" >&2
  exit 2
fi

if _homelab_secrets_bootstrap "$@"; then
  unset -f _homelab_secrets_bootstrap _homelab_secrets_build _homelab_secrets_fail \
    _homelab_secrets_locate _homelab_secrets_cache_key
else
  unset -f _homelab_secrets_bootstrap _homelab_secrets_build _homelab_secrets_fail \
    _homelab_secrets_locate _homelab_secrets_cache_key
  return 1
fi
