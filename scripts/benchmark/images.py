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
    )
    report("production image, total", f"{total:.0f} MB", "", "< 500 MB", "docker image inspect (base built here)")


def section_build(args) -> None:
    sh("docker", "builder", "prune", "-af")
    start = time.monotonic()
    compose("desideliver-bench-prod", "docker-compose.prod.yml", "build", "backend", env=PROD_ENV)
    cold = time.monotonic() - start
    report("cold production build", f"{cold:.1f} s", "", "<= 40 s", "build cache pruned, base image present")
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
    )
