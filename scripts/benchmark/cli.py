"""Options, the sections in order, and the final table."""

import argparse
import os
import shutil
import sys
import time

from . import dev, images, native, onboarding, production, recovery
from .common import COLUMNS, PEER, rows, sh

# Run in this order: the image and build sections leave the image the others start.
SECTIONS = {
    "image": images.section_image,
    "build": images.section_build,
    "dev": dev.section_dev,
    "gunicorn": production.section_gunicorn,
    "metrics": production.section_metrics,
    "tracing": production.section_tracing,
    "edge": production.section_edge,
    "edge-knobs": production.section_edge_knobs,
    "email": production.section_email,
    "recovery": recovery.section_recovery,
    "native": native.section_native,
    "onboarding": onboarding.section_onboarding,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="scripts/bench", description="Measure the stack on real containers (docs/PERFORMANCE.md)."
    )
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))} (choose from {', '.join(SECTIONS)})")
    for tool in ("docker", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is not installed")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        for name, section in SECTIONS.items():
            if name in chosen:
                print(f"== {name}", flush=True)
                section(args)
    finally:
        production.prod_compose("down", "-v", check=False)
    engine = sh("docker", "version", "-f", "{{.Server.Version}}").stdout.strip()
    print(f"\nDesiDeliver bench, {started}, {os.cpu_count()} CPUs, Docker Engine {engine}; {PEER}")
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    for row in [COLUMNS, *rows]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
