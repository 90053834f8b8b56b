"""HAProxy as the edge, for comparison with Caddy on the same stack in the same run.

Debian's package (HAProxy 3.0 on trixie, the official image's 3.0 LTS line) on the
base image, since no registry can be reached; haproxy.cfg beside this file does what
the Caddyfile does on the measured path."""

import contextlib
from pathlib import Path

from .common import sh

IMAGE, CONTAINER, PORT = "desideliver-bench/haproxy:3.0", "desideliver-bench-haproxy", 19103
CONFIG = Path(__file__).with_name("haproxy.cfg")

DOCKERFILE = """FROM {base}
RUN apt-get update && apt-get install -y --no-install-recommends haproxy openssl \\
 && rm -rf /var/lib/apt/lists/* \\
 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \\
      -subj /CN=localhost -keyout /tmp/key.pem -out /tmp/cert.pem \\
 && cat /tmp/cert.pem /tmp/key.pem > /etc/haproxy/edge.pem && rm /tmp/key.pem /tmp/cert.pem
ENTRYPOINT ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
"""


@contextlib.contextmanager
def haproxy_edge(base_image: str, network: str):
    """HAProxy on the stack's edge network, published on 127.0.0.1:19103; yields its container."""
    sh("docker", "build", "-q", "-t", IMAGE, "-", input=DOCKERFILE.format(base=base_image))
    sh("docker", "rm", "-f", CONTAINER, check=False)
    container = sh(
        "docker", "run", "-d", "--name", CONTAINER, "--network", network,
        "-p", f"127.0.0.1:{PORT}:443", "-v", f"{CONFIG}:/usr/local/etc/haproxy/haproxy.cfg:ro", IMAGE,
    ).stdout.strip()  # fmt: skip
    try:
        version = sh("docker", "exec", container, "haproxy", "-v").stdout.split()[2]
        yield container, version
    finally:
        sh("docker", "rm", "-f", CONTAINER, check=False)
