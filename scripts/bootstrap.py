"""The Python half of scripts/bootstrap.sh: requirement subsets and the wheelhouse.

Run by bootstrap.sh with the runner's interpreter (``python3 -I -S``), before
any venv exists, so it uses the standard library only. The probe may run on a
Python that is too old for us (it must say so), so the syntax here stays
within Python 3.6 and there are no annotations.

Commands (paths are absolute)::

    probe LOCK SUBSETS NAME
        ok / sys.executable / python key / subset sha256 / platform key,
        one per line (or "old" / version; or "error" / message). The warm path:
        one process start, no third-party import, no network.
    prepare LOCK SUBSETS NAME VENV_DIR NEW_WHEELHOUSE GROUPS POOL...
        write VENV_DIR/homelab-secrets-requirements.txt (the subset) and the
        lines no wheelhouse in POOL has a verified wheel for, split into at
        most GROUPS files VENV_DIR/homelab-secrets-missing-<n>.txt (one pip
        each, run side by side: pip's time goes into reading each project's
        index page, not into the download); the verified wheels are linked into
        NEW_WHEELHOUSE. Prints the number of lines missing.
    install LOCK SUBSETS NAME WHEELHOUSE VENV
        check every wheel in WHEELHOUSE against the subset's hashes and this
        interpreter, make VENV (as `python -m venv --without-pip` would) and
        unpack them into its site-packages. Exit 3 with one line on stderr
        when the wheelhouse is refused (nothing installed).

The subset of a name in requirements/subsets.txt is the lock's lines for the
distributions it names plus everything those need, as the lock records it in
its ``# via`` annotations (uv writes them for every platform and Python).
The lines are the lock's own bytes, hash lines and environment markers
included; only the annotations are left out, so the subset's hash (the venv
and cache key) changes only when one of its pins or hashes does.
"""

import hashlib
import os
import re
import sys

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")
_VIA = re.compile(r"^\s+#(?: via|  ) +([A-Za-z0-9][A-Za-z0-9._-]*)")


class Refused(Exception):
    """A wheelhouse that must not be used (the message names the file, never its content)."""


class Problem(Exception):
    """A declaration or lock this checkout cannot use."""


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


# ----------------------------------------------------------------------------- the lock


class Entry:
    """One requirement of the lock: its line, hash lines, marker and dependents."""

    def __init__(self, name, lines):
        self.name = name
        self.lines = lines  # the lock's bytes, annotations left out
        self.via = set()
        first = lines[0].rstrip(" \\\r\n")
        self.marker = first.split(";", 1)[1].strip() if ";" in first else ""

    @property
    def hashes(self):
        return set(_HASH.findall("".join(self.lines)))


def parse_lock(text):
    entries = []
    current = None
    for line in text.splitlines(True):
        if line[:1].isalnum():
            match = _NAME.match(line)
            current = Entry(canonical(match.group(0)), [line])
            entries.append(current)
        elif current is not None and line.strip().startswith("--hash="):
            current.lines.append(line)
        elif current is not None:
            via = _VIA.match(line)
            if via:
                current.via.add(canonical(via.group(1)))
    return entries


def parse_subsets(text):
    subsets = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, rest = line.partition(":")
        if not sep or not re.match(r"^[a-z][a-z0-9-]*$", name.strip()):
            raise Problem(
                f"requirements/subsets.txt line {number}: expected 'name: distribution ...'"
            )
        subsets[name.strip()] = [canonical(d) for d in rest.split()]
    return subsets


def select(entries, roots):
    """The entries of ``roots`` and of everything they need, in lock order."""
    known = {e.name for e in entries}
    if roots == ["*"]:
        return list(entries)
    for root in roots:
        if root not in known:
            raise Problem(
                f"requirements/subsets.txt names {root}, which requirements/lock.txt does not pin"
            )
    wanted = set(roots)
    grew = True
    while grew:
        grew = False
        for entry in entries:
            if entry.name not in wanted and entry.via & wanted:
                wanted.add(entry.name)
                grew = True
    return [e for e in entries if e.name in wanted]


def load(lock_path, subsets_path, name):
    with open(subsets_path, encoding="utf-8") as f:
        subsets = parse_subsets(f.read())
    if name not in subsets:
        raise Problem(
            "no subset '{}' in requirements/subsets.txt (known: {})".format(
                name, ", ".join(sorted(subsets))
            )
        )
    with open(lock_path, encoding="utf-8", newline="") as f:
        return select(parse_lock(f.read()), subsets[name])


def subset_text(entries):
    return "".join("".join(e.lines) for e in entries)


# ----------------------------------------------------------------------------- this interpreter


def python_key():
    v = sys.version_info
    flags = getattr(sys, "abiflags", "")
    return f"{sys.implementation.name}-{v[0]}.{v[1]}.{v[2]}{flags}"


def libc():
    if not sys.platform.startswith("linux"):
        return ""
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        value = ""
    name, _, version = value.partition(" ")
    return "glibc" + version if name == "glibc" else "musl"


def platform_key():
    machine = os.uname().machine
    extra = libc()
    if sys.platform == "darwin":
        import platform  # noqa: PLC0415 (macOS only: the wheels' minimum macOS)

        extra = "macos" + platform.mac_ver()[0].split(".")[0]
    return "-".join(p for p in (sys.platform, machine, extra) if p)


def marker_environment():
    import platform  # noqa: PLC0415 (cold path only)

    v = sys.version_info
    impl = sys.implementation
    iv = impl.version
    return {
        "os_name": os.name,
        "sys_platform": sys.platform,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_version": f"{v[0]}.{v[1]}",
        "python_full_version": f"{v[0]}.{v[1]}.{v[2]}",
        "implementation_name": impl.name,
        "implementation_version": f"{iv[0]}.{iv[1]}.{iv[2]}",
        "extra": "",
    }


# ----------------------------------------------------------------------------- PEP 508 markers

_TOKEN = re.compile(r"\s*(?:(\()|(\))|('[^']*'|\"[^\"]*\")|(===|==|!=|<=|>=|~=|<|>)|([A-Za-z_]+))")
_VERSION = re.compile(r"^\d+(\.\d+)*$")


def _tokens(marker):
    pos, out = 0, []
    marker = marker.strip()
    while pos < len(marker):
        match = _TOKEN.match(marker, pos)
        if not match or match.end() == pos:
            raise Problem(f"cannot read the environment marker {marker!r}")
        pos = match.end()
        kind = match.lastindex
        out.append((kind, match.group(kind)))
    return out


def _release(text):
    return [int(p) for p in text.split(".")]


def _compare(left, op, right):
    if op in ("in", "not in"):
        return (left in right) == (op == "in")
    if op == "===":
        return left == right
    if _VERSION.match(left) and _VERSION.match(right):
        a, b = _release(left), _release(right)
        width = max(len(a), len(b))
        a, b = a + [0] * (width - len(a)), b + [0] * (width - len(b))
        if op == "~=":
            prefix = len(_release(right)) - 1
            return a >= b and a[:prefix] == b[:prefix]
    elif op in ("==", "!="):
        a, b = left, right
    else:
        raise Problem(f"cannot compare {left!r} {op} {right!r} in an environment marker")
    return {
        "==": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]


def marker_applies(marker, env):
    """Evaluate a PEP 508 marker (or, and, parentheses, comparisons)."""
    if not marker:
        return True
    tokens = _tokens(marker)
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else (None, None)

    def take():
        token = peek()
        pos[0] += 1
        return token

    def value():
        kind, text = take()
        if kind == 3:
            return text[1:-1]
        if kind == 5 and text in env:
            return env[text]
        raise Problem(f"unknown marker value {text!r} in {marker!r}")

    def comparison():
        kind, _text = peek()
        if kind == 1:
            take()
            result = disjunction()
            if take()[0] != 2:
                raise Problem(f"unbalanced parentheses in {marker!r}")
            return result
        left = value()
        kind, op = take()
        if kind == 5 and op == "not":
            if take()[1] != "in":
                raise Problem(f"expected 'not in' in {marker!r}")
            op = "not in"
        elif not (kind == 4 or (kind == 5 and op == "in")):
            raise Problem(f"expected an operator in {marker!r}")
        return _compare(left, op, value())

    def conjunction():
        result = comparison()
        while peek() == (5, "and"):
            take()
            result = comparison() and result
        return result

    def disjunction():
        result = conjunction()
        while peek() == (5, "or"):
            take()
            result = conjunction() or result
        return result

    result = disjunction()
    if pos[0] != len(tokens):
        raise Problem(f"cannot read the environment marker {marker!r}")
    return result


# ----------------------------------------------------------------------------- wheels

_LEGACY_GLIBC = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def _platform_ok(tag, machine, libc_name):
    if tag == "any":
        return True
    if sys.platform.startswith("linux"):
        for prefix, glibc in _LEGACY_GLIBC.items():
            if tag == prefix + "_" + machine:
                return libc_name.startswith("glibc") and _glibc(libc_name) >= glibc
        match = re.match(r"^(manylinux|musllinux)_(\d+)_(\d+)_(.+)$", tag)
        if match:
            family, need, arch = (
                match.group(1),
                (int(match.group(2)), int(match.group(3))),
                match.group(4),
            )
            if arch != machine:
                return False
            if family == "musllinux":
                return libc_name == "musl"
            return libc_name.startswith("glibc") and _glibc(libc_name) >= need
        return tag == "linux_" + machine
    if sys.platform == "darwin":
        match = re.match(r"^macosx_\d+_\d+_(.+)$", tag)
        return bool(match) and match.group(1) in (machine, "universal2", "universal")
    return False


def _glibc(libc_name):
    parts = libc_name[len("glibc") :].split(".")
    try:
        return (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        return (0, 0)


def wheel_fits(filename):
    """Is this wheel (by its file name's tags) installable on this interpreter?"""
    parts = filename[: -len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return False
    py_tags, abi_tags, plat_tags = (p.split(".") for p in parts[-3:])
    v = sys.version_info
    impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, "")
    own_abi = impl + f"{v[0]}{v[1]}" + getattr(sys, "abiflags", "")

    def py_ok(tag):
        match = re.match(r"^(py|cp|pp)(\d)(\d*)$", tag)
        if not match or int(match.group(2)) != v[0]:
            return False
        minor = int(match.group(3)) if match.group(3) else None
        if match.group(1) == "py":
            return minor is None or minor <= v[1]
        if match.group(1) != impl or minor is None:
            return False
        return minor <= v[1] if "abi3" in abi_tags else minor == v[1]

    machine = os.uname().machine
    return (
        any(py_ok(t) for t in py_tags)
        and any(a in ("none", "abi3", own_abi) for a in abi_tags)
        and any(_platform_ok(t, machine, libc()) for t in plat_tags)
    )


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheel_project(filename):
    return canonical(filename.split("-", 1)[0])


def applicable(entries):
    env = marker_environment()
    return [e for e in entries if marker_applies(e.marker, env)]


def match_wheels(entries, wheelhouse):
    """Map each applicable entry to exactly one verified wheel of ``wheelhouse``.

    Every ``.whl`` there must be one of the lock's files for this subset (its
    sha256 among the entry's hashes) and fit this interpreter; each applicable
    entry must have exactly one; no other wheel may be there.
    """
    wanted = applicable(entries)
    by_hash = {}
    for entry in entries:
        for digest in entry.hashes:
            by_hash[digest] = entry
    found = {}
    for filename in sorted(os.listdir(wheelhouse)):
        if not filename.endswith(".whl"):
            continue
        entry = by_hash.get(sha256_of(os.path.join(wheelhouse, filename)))
        if entry is None:
            raise Refused(f"{filename}: its sha256 is not in requirements/lock.txt for this subset")
        if entry not in wanted:
            raise Refused(f"{filename}: requirements/lock.txt does not use it on this Python")
        if _wheel_project(filename) != entry.name or not wheel_fits(filename):
            raise Refused(f"{filename}: not a wheel for this interpreter and platform")
        if entry.name in found:
            raise Refused(f"{filename}: a second wheel of {entry.name}")
        found[entry.name] = os.path.join(wheelhouse, filename)
    missing = [e.name for e in wanted if e.name not in found]
    if missing:
        raise Refused("no wheel for {}".format(", ".join(missing)))
    return [found[e.name] for e in wanted]


def _site_packages(venv):
    lib = os.path.join(venv, "lib")
    found = [
        os.path.join(lib, d, "site-packages")
        for d in os.listdir(lib)
        if d.startswith("python") and os.path.isdir(os.path.join(lib, d, "site-packages"))
    ]
    if len(found) != 1:
        raise Problem(f"{venv} is not a venv with one site-packages")
    return found[0]


def unpack(wheel, site, venv):
    """Install one (verified) wheel: its files into site-packages (``.data``
    purelib/platlib there too, data under the venv; scripts and headers are
    left out: nothing here runs a console script)."""
    import zipfile  # noqa: PLC0415 (cold path only)

    with zipfile.ZipFile(wheel) as archive:
        dist_info = None
        for info in archive.infolist():
            name = info.filename
            parts = name.split("/")
            if name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0]:
                raise Refused(f"{os.path.basename(wheel)}: unsafe path in the wheel")
            if name.endswith("/"):
                continue
            if parts[0].endswith(".dist-info"):
                dist_info = parts[0]
            if parts[0].endswith(".data") and len(parts) > 2:
                scheme, rest = parts[1], parts[2:]
                if scheme in ("purelib", "platlib"):
                    target = os.path.join(site, *rest)
                elif scheme == "data":
                    target = os.path.join(venv, *rest)
                elif scheme in ("scripts", "headers"):
                    continue
                else:
                    raise Refused(f"{os.path.basename(wheel)}: unknown .data scheme {scheme}")
            else:
                target = os.path.join(site, *parts)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as out, archive.open(info) as src:
                while True:
                    block = src.read(1 << 20)
                    if not block:
                        break
                    out.write(block)
        if dist_info is None:
            raise Refused(f"{os.path.basename(wheel)}: no .dist-info in the wheel")
        with open(os.path.join(site, dist_info, "INSTALLER"), "w") as f:
            f.write("homelab-secrets-bootstrap\n")


# ----------------------------------------------------------------------------- commands


def cmd_probe(lock, subsets, name):
    v = sys.version_info
    if v < (3, 10):
        print("old")
        print(f"{v[0]}.{v[1]}.{v[2]}")
        return 0
    try:
        entries = load(lock, subsets, name)
    except (Problem, OSError) as exc:
        print("error")
        print(str(exc).replace("\n", " "))
        return 0
    print("ok")
    print(sys.executable)
    print(python_key())
    print(hashlib.sha256(subset_text(entries).encode("utf-8")).hexdigest())
    print(platform_key())
    return 0


def cmd_prepare(lock, subsets, name, venv, new_wheelhouse, groups, *pool):
    """Write the subset and the lines still to download; link verified wheels
    of earlier builds (other subsets share most of them) into ``new_wheelhouse``."""
    import shutil  # noqa: PLC0415

    entries = load(lock, subsets, name)
    with open(os.path.join(venv, "homelab-secrets-requirements.txt"), "w") as f:
        f.write(subset_text(entries))
    os.makedirs(new_wheelhouse, exist_ok=True)
    missing = []
    for entry in applicable(entries):
        have = None
        for directory in pool:
            if not os.path.isdir(directory):
                continue
            for filename in sorted(os.listdir(directory)):
                path = os.path.join(directory, filename)
                if (
                    filename.endswith(".whl")
                    and _wheel_project(filename) == entry.name
                    and wheel_fits(filename)
                    and sha256_of(path) in entry.hashes
                ):
                    have = path
                    break
            if have:
                break
        if have:
            target = os.path.join(new_wheelhouse, os.path.basename(have))
            try:
                os.link(have, target)
            except OSError:
                shutil.copyfile(have, target)
        else:
            missing.append(entry)
    # largest first into the lightest group; a project's number of files (its
    # hash lines) is what makes its index page slow for pip
    buckets = [[] for _ in range(max(1, int(groups)))]
    for entry in sorted(missing, key=lambda e: -len(e.hashes)):
        min(buckets, key=lambda b: sum(len(e.hashes) for e in b)).append(entry)
    for number, bucket in enumerate((b for b in buckets if b), 1):
        path = os.path.join(venv, f"homelab-secrets-missing-{number}.txt")
        with open(path, "w") as f:
            f.write(subset_text(sorted(bucket, key=entries.index)))
    print(len(missing))
    return 0


def cmd_install(lock, subsets, name, wheelhouse, venv):
    entries = load(lock, subsets, name)
    try:
        wheels = match_wheels(entries, wheelhouse)
    except Refused as exc:
        sys.stderr.write(f"{exc}\n")
        return 3
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        # `python -m venv --without-pip`, without a second interpreter start
        import venv as venv_module  # noqa: PLC0415

        try:
            venv_module.EnvBuilder(symlinks=True, with_pip=False).create(venv)
        except Exception as exc:  # what venv says, on one line
            raise Problem(f"HOMELAB-SECRETS-NO-VENV: cannot make a venv: {exc}") from exc
    site = _site_packages(venv)
    for wheel in wheels:
        unpack(wheel, site, venv)
    return 0


def main(argv):
    commands = {"probe": (cmd_probe, 3), "prepare": (cmd_prepare, 6), "install": (cmd_install, 5)}
    if not argv or argv[0] not in commands or len(argv) - 1 < commands[argv[0]][1]:
        sys.stderr.write(
            "usage: bootstrap.py probe|prepare|install ... (see scripts/bootstrap.sh)\n"
        )
        return 2
    func = commands[argv[0]][0]
    try:
        return func(*argv[1:])
    except Problem as exc:
        sys.stderr.write(f"{exc}\n")
        return 4


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
