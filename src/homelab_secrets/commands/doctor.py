"""``homelab-secrets doctor``: is this environment able to run us, and where
would age identities come from?

It reports the Python, the package, each runtime dependency's installed version
(from package metadata: nothing is imported) and every place sops looks for age
identities, by name and location only: no key is read, no ``SOPS_AGE_KEY_CMD``
is run, no value is printed.  Exit 0 when healthy, 1 (with one error line) when
a runtime dependency is missing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass

from homelab_secrets import gha

NAME = "doctor"
HELP = "check Python, dependencies and where age keys would come from (never their values)"

#: The runtime dependencies, as named in pyproject.toml (a test keeps them equal).
RUNTIME_DEPENDENCIES: tuple[str, ...] = (
    "cryptography",
    "httpx",
    "hyperscan",
    "PyGithub",
    "PyNaCl",
    "pyrage",
    "PyYAML",
    "ruamel.yaml",
)


@dataclass(frozen=True, kw_only=True)
class DoctorInputs:
    """Inputs of actions/doctor (see its action.yml)."""

    age_key: str = gha.text("age-key", secret=True)


#: The inputs of the action that runs this command with --gha (a test checks
#: them against actions/doctor/action.yml).
GHA_INPUTS = DoctorInputs


@dataclass(frozen=True)
class Report:
    version: str
    python_version: str
    python_executable: str
    package_path: str
    dependencies: dict[str, str | None]  #: name -> installed version, None if missing
    age_identity_sources: list[dict[str, str | bool]]

    @property
    def missing(self) -> list[str]:
        return [name for name, version in self.dependencies.items() if version is None]

    @property
    def available_sources(self) -> list[str]:
        return [str(s["name"]) for s in self.age_identity_sources if s["available"]]

    def as_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["healthy"] = not self.missing
        data["missing"] = self.missing
        return data


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the report as JSON")
    mode.add_argument(
        "--gha",
        action="store_true",
        help="run as the doctor action: read INPUT_* and write step outputs and a summary",
    )


def collect() -> Report:
    from importlib import metadata
    from pathlib import Path

    import homelab_secrets
    from homelab_secrets.sops.keys.age import identity_sources

    deps: dict[str, str | None] = {}
    for name in RUNTIME_DEPENDENCIES:
        try:
            deps[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            deps[name] = None
    return Report(
        version=homelab_secrets.__version__,
        python_version=".".join(str(n) for n in sys.version_info[:3]),
        python_executable=sys.executable,
        package_path=str(Path(homelab_secrets.__file__).resolve().parent),
        dependencies=deps,
        age_identity_sources=[
            {"name": s.name, "location": s.location, "available": s.available}
            for s in identity_sources()
        ],
    )


def render_text(report: Report) -> str:
    width = max(len(n) for n in report.dependencies)
    lines = [
        f"homelab-secrets {report.version}",
        f"  package   {report.package_path}",
        f"  python    {report.python_version} ({report.python_executable})",
        "runtime dependencies",
    ]
    lines += [
        f"  {name:<{width}}  {version or 'MISSING'}"
        for name, version in report.dependencies.items()
    ]
    lines.append("age identity sources, in the order sops tries them (names only, never values)")
    swidth = max(len(str(s["name"])) for s in report.age_identity_sources)
    for source in report.age_identity_sources:
        state = "found    " if source["available"] else "not found"
        lines.append(f"  {source['name']!s:<{swidth}}  {state}  {source['location']}")
    return "\n".join(lines) + "\n"


def _summary(report: Report, age_key_provided: bool) -> str:
    deps = [[name, version or "**missing**"] for name, version in report.dependencies.items()]
    sources = [
        [str(s["name"]), "found" if s["available"] else "-", str(s["location"])]
        for s in report.age_identity_sources
    ]
    return (
        f"### homelab-secrets doctor\n\n"
        f"homelab-secrets {gha.md_escape(report.version)} on Python "
        f"{gha.md_escape(report.python_version)}; `age-key` input: "
        f"{'provided' if age_key_provided else 'not provided'}\n\n"
        + gha.md_table(["dependency", "version"], deps)
        + "\n"
        + gha.md_table(["age identity source", "state", "location"], sources)
    )


def _missing_error(report: Report) -> Exception:
    from homelab_secrets.errors import UserError

    return UserError(
        f"missing runtime dependencies: {', '.join(report.missing)} "
        "(reinstall from requirements/lock.txt: `make setup`, or in an action delete "
        "the homelab-secrets venv from the tool cache)"
    )


def run(args: argparse.Namespace) -> int:
    if args.gha:
        return _run_gha()
    report = collect()
    if args.json:
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(report))
    if report.missing:
        raise _missing_error(report)
    return 0


def _run_gha() -> int:
    with gha.annotate_failures("homelab-secrets doctor"):
        inputs = gha.read_inputs(DoctorInputs)  # masks age-key before anything prints
        report = collect()
        with gha.group("homelab-secrets doctor"):
            sys.stdout.write(render_text(report))
            provided = "provided" if inputs.age_key else "not provided"
            sys.stdout.write(f"age-key input: {provided}\n")
            sys.stdout.flush()
        gha.set_output("version", report.version, secret=False)
        gha.set_output("python-version", report.python_version, secret=False)
        gha.set_output("age-key-sources", report.available_sources, secret=False)
        gha.set_output("age-key-provided", bool(inputs.age_key), secret=False)
        gha.set_output("healthy", not report.missing, secret=False)
        gha.append_summary(_summary(report, bool(inputs.age_key)))
        if report.missing:
            raise _missing_error(report)
    return 0
