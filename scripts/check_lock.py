"""Check that requirements.lock pins every requirement, at a version its range allows.

    .venv/bin/python scripts/check_lock.py      (run by `make lint`; `make lock` regenerates the lock)

Reads every requirements*.txt at the repository's root (following `-r`), skips the kit's
own editable package, and fails listing each requirement the lock misses or pins outside
its range, so a range edited without `make lock` cannot reach main.
"""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"


def requirements(path: Path) -> list[Requirement]:
    found = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-e"):
            continue
        if line.startswith("-r"):
            found += requirements(path.parent / line[2:].strip())
            continue
        found.append(Requirement(line))
    return found


def pinned() -> dict[str, list[str]]:
    """Package name -> the versions the lock pins (one per environment marker)."""
    versions: dict[str, list[str]] = {}
    for raw in LOCK.read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if line and not line.startswith("#") and "==" in line:
            name, version = line.split("==", 1)
            versions.setdefault(canonicalize_name(name), []).append(version.strip())
    return versions


def main() -> int:
    lock = pinned()
    every = [req for path in sorted(ROOT.glob("requirements*.txt")) for req in requirements(path)]
    wanted = list({str(req): req for req in every}.values())  # a file -r'd by another is read twice
    assert wanted, "no requirements found: is this the repository's root?"
    problems = []
    for req in wanted:
        versions = lock.get(canonicalize_name(req.name))
        if not versions:
            problems.append(f"{req}: not in requirements.lock")
        elif not all(req.specifier.contains(v, prereleases=True) for v in versions):
            problems.append(f"{req}: the lock pins {', '.join(versions)}")
    if problems:
        print("requirements.lock disagrees with the requirements; run `make lock`:", *problems, sep="\n  ")
        return 1
    print(f"requirements.lock pins all {len(wanted)} requirements within their ranges.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
