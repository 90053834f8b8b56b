"""The production image's size and build times."""

import os
import tempfile
import time
import uuid
from pathlib import Path

from tests.stack.checkout import copy_checkout

from .common import PROD_ENV, compose, image_size_mb, report, sh


def section_image(args) -> None:
    base = os.environ.get("PYTHON_IMAGE", "python:3.13-slim")
    compose("desideliver-bench-prod", "docker-compose.prod.yml", "build", "backend", env=PROD_ENV)
    total, base_size = image_size_mb(PROD_ENV["BACKEND_IMAGE"]), image_size_mb(base)
    report(
        "production image, added to its base",
        f"{total - base_size:.0f} MB",
        f"base {base_size:.0f} MB",
        "<= 100 MB",
        "docker image inspect: image size minus base image size",
        measured=total - base_size,
    )
    report(
        "production image, total",
        f"{total:.0f} MB",
        "",
        "< 500 MB",
        "docker image inspect (base built here)",
        measured=total,
    )
    largest = largest_added_paths(PROD_ENV["BACKEND_IMAGE"], base)
    report(
        "production image: the ten largest paths it adds",
        ", ".join(f"{path} {size / 1e6:.1f} MB" for path, size in largest),
        "",
        "",
        "du in the image, minus what the base image holds at the same path",
    )


def section_build(args) -> None:
    sh("docker", "builder", "prune", "-af")
    start = time.monotonic()
    compose("desideliver-bench-prod", "docker-compose.prod.yml", "build", "backend", env=PROD_ENV)
    cold = time.monotonic() - start
    report(
        "cold production build", f"{cold:.1f} s", "", "<= 40 s", "build cache pruned, base image present", measured=cold
    )
    with tempfile.TemporaryDirectory() as tmp:
        context = copy_checkout(Path(tmp))
        views = context / "backend" / "products" / "views.py"
        views.write_text(views.read_text() + f"\n# bench {uuid.uuid4().hex}\n")
        start = time.monotonic()
        compose("desideliver-bench-prod", "docker-compose.prod.yml", "build", "backend", env=PROD_ENV, cwd=context)
        warm = time.monotonic() - start
    report(
        "rebuild after a one-line .py change",
        f"{warm:.1f} s",
        f"cold {cold:.1f} s ({warm / cold:.2f}x)",
        "<= 3 s",
        "same build, one source line changed",
        measured=warm,
    )


# The image's own roots; their entries (site-packages' packages, the app's directories) are listed.
ADDED_ROOTS = ("/opt/venv/lib/python3*/site-packages", "/opt/venv/bin", "/app", "/usr/local/bin")


def largest_added_paths(image: str, base: str, count: int = 10) -> list[tuple[str, int]]:
    """The ``count`` largest entries of the image's own roots, in bytes (du's apparent
    size), leaving out whatever the base image has at the same path."""
    script = f'for root in {" ".join(ADDED_ROOTS)}; do [ -e "$root" ] && du -ab --max-depth=1 "$root"; done'

    def sizes(of: str) -> dict[str, int]:
        out = sh("docker", "run", "--rm", "--user", "0", "--entrypoint", "sh", of, "-c", script, check=False).stdout
        return {path: int(size) for size, path in (line.split("\t", 1) for line in out.splitlines() if "\t" in line)}

    return largest_entries(sizes(image), sizes(base), count)


def largest_entries(sizes: dict[str, int], inherited: dict[str, int], count: int) -> list[tuple[str, int]]:
    """The largest paths of ``sizes`` that are not in ``inherited``; a root (a path with
    listed entries below it) is left out, so site-packages does not hide its packages."""
    own = {path: size for path, size in sizes.items() if path not in inherited}
    entries = [path for path in own if not any(other.startswith(path + "/") for other in own)]
    return sorted(((path, own[path]) for path in entries), key=lambda item: -item[1])[:count]
