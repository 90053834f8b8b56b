"""What uv.lock says production installs: the runtime dependencies (no dev group) and
everything they pull in, for this platform (Linux, CPython 3.13), name -> version."""

import re
import tomllib

from tests.stack.stack import REPO_DIR

# The lock covers every platform; a dependency behind one of these markers is not installed here.
_NOT_HERE = re.compile(r"sys_platform == 'win32'|platform_system == 'Windows'|sys_platform == 'darwin'")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_pins() -> dict[str, str]:
    lock = tomllib.loads((REPO_DIR / "uv.lock").read_text())
    packages = {canonical(package["name"]): package for package in lock["package"]}
    project = packages["desideliver-backend"]
    wanted = list(project.get("dependencies", []))
    pins: dict[str, str] = {}
    extras_taken: set[tuple[str, str]] = set()
    while wanted:
        dependency = wanted.pop()
        name = canonical(dependency["name"])
        if _NOT_HERE.search(dependency.get("marker", "")):
            continue
        package = packages[name]
        if name not in pins:
            pins[name] = package["version"]
            wanted += package.get("dependencies", [])
        # A package met first without an extra (celery, for flower) may be asked for with
        # one later (celery[redis]): the extra's dependencies count all the same.
        for extra in dependency.get("extra", []):
            if (name, extra) not in extras_taken:
                extras_taken.add((name, extra))
                wanted += package.get("optional-dependencies", {}).get(extra, [])
    return pins
