"""DNS for the edge that names only the backend replicas passing their readiness check.

usage: python ready_backends.py   (settings from the environment, see .env.example)

Caddy finds the replicas by DNS (`dynamic a` in the Caddyfile) but runs no health
checks on upstreams found that way (caddy#7036, still so in 2.11). This server does
it for Caddy: every
READY_BACKENDS_INTERVAL seconds it looks the replicas up in Docker's DNS (one
address per container, or per Swarm task with dnsrr), asks each one for
/health/ready/, and answers Caddy's A queries for the name with the replicas that
are ready. A new replica is sent traffic after its first passing probe; a ready one
is dropped after READY_BACKENDS_FAILS failed probes in a row (refused, 503, or no
answer within READY_BACKENDS_TIMEOUT: a frozen replica too).

When no replica is ready, every replica found is named (fail open, as cloud load
balancers do): a request then gets the backend's own 503 rather than the edge's 502.
If this server is down, Caddy falls back to its static upstream (Docker's DNS, all
replicas): the edge keeps serving, without the health checks.

Its health is a heartbeat file: after every round the prober asks its own port a real
A query and touches the file only if it was answered, so the container's health check
is the file's age (a shell `stat`, no Python start per probe). One bad packet or failed
send costs one answer, never the DNS loop; if the loop dies anyway, the process exits,
so the restart policy starts a new one.

Standard library only: it runs on the backend image with its own command.
"""

from __future__ import annotations

import errno
import http.client
import logging
import os
import signal
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

logger = logging.getLogger("ready_backends")

TYPE_A, CLASS_IN = 1, 1
RCODE_NXDOMAIN, RCODE_NOTIMP = 3, 4
# Answers that fit a plain 512-byte UDP reply (12 header + question + 16 per record).
MAX_ANSWERS = 28


class ConfigError(Exception):
    pass


def setting(name: str, default: str, convert=str, minimum: float | None = None):
    raw = os.environ.get(name, "") or default
    try:
        value = convert(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {convert.__name__}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


class Replicas:
    """Which replicas were found and which are ready; shared by the prober and the DNS thread."""

    def __init__(self, fails_to_drop: int) -> None:
        self._fails_to_drop = fails_to_drop
        self._lock = threading.Lock()
        self._found: list[str] = []
        self._ready: set[str] = set()
        self._failures: dict[str, int] = {}

    def record(self, results: dict[str, str | None]) -> None:
        """Takes one round of probes: address -> None if it passed, else why not."""
        with self._lock:
            for address in sorted(set(self._found) - set(results)):
                logger.info("%s gone", address)
            self._found = sorted(results)
            self._failures = {a: n for a, n in self._failures.items() if a in results}
            self._ready &= set(results)
            for address, failure in sorted(results.items()):
                if failure is None:
                    self._failures[address] = 0
                    if address not in self._ready:
                        self._ready.add(address)
                        logger.info("%s ready", address)
                    continue
                self._failures[address] = self._failures.get(address, 0) + 1
                if address in self._ready and self._failures[address] >= self._fails_to_drop:
                    self._ready.discard(address)
                    logger.warning(
                        "%s not ready (%d failed probes, the last: %s): no traffic",
                        address,
                        self._failures[address],
                        failure,
                    )

    def addresses(self) -> list[str]:
        with self._lock:
            ready = [a for a in self._found if a in self._ready]
            return ready or list(self._found)


def look_up(name: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror:
        return []  # no replica running
    return sorted({info[4][0] for info in infos})


def probe(address: str, port: int, path: str, timeout: float) -> str | None:
    """None when the replica answers 200; otherwise why not, for the log."""
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": "ready-backends"})
        status = connection.getresponse().status
        return None if status == 200 else f"answered {status}"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except (OSError, http.client.HTTPException) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def parse_query(packet: bytes):
    """(id, flags, question bytes, lower-case name, qtype, qclass), or None if malformed."""
    if len(packet) < 12:
        return None
    ident, flags, questions = struct.unpack("!HHH", packet[:6])
    if flags & 0x8000 or questions != 1:
        return None
    position, labels = 12, []
    while True:
        if position >= len(packet):
            return None
        length = packet[position]
        position += 1
        if length == 0:
            break
        if length > 63 or position + length > len(packet):
            return None  # a compression pointer or a truncated label: not a valid question
        labels.append(packet[position : position + length])
        position += length
    if position + 4 > len(packet):
        return None
    qtype, qclass = struct.unpack("!HH", packet[position : position + 4])
    name = b".".join(labels).decode("ascii", "replace").lower()
    return ident, flags, packet[12 : position + 4], name, qtype, qclass


def reply(ident: int, query_flags: int, question: bytes, rcode: int = 0, addresses=(), ttl: int = 1) -> bytes:
    # A response (QR), authoritative, the query's opcode and recursion-desired bit echoed.
    flags = 0x8000 | 0x0400 | (query_flags & 0x7900) | 0x0080 | rcode
    header = struct.pack("!HHHHHH", ident, flags, 1, len(addresses), 0, 0)
    records = b"".join(struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, ttl, 4) + socket.inet_aton(a) for a in addresses)
    return header + question + records


def answer(packet: bytes, name: str, replicas: Replicas) -> bytes | None:
    query = parse_query(packet)
    if query is None:
        return None
    ident, flags, question, asked, qtype, qclass = query
    if (flags >> 11) & 0xF != 0:
        return reply(ident, flags, question, RCODE_NOTIMP)
    if asked.rstrip(".") != name:
        return reply(ident, flags, question, RCODE_NXDOMAIN)
    if qtype != TYPE_A or qclass != CLASS_IN:
        return reply(ident, flags, question)  # the name exists, with no record of that type
    return reply(ident, flags, question, addresses=replicas.addresses()[:MAX_ANSWERS])


def serve_dns(sock: socket.socket, name: str, replicas: Replicas) -> None:
    """Answers queries until the socket is closed; any one query's failure (a packet that
    breaks the parser, a send the kernel refuses, e.g. EINVAL to source port 0) is logged
    and costs only its own answer."""
    while True:
        try:
            packet, client = sock.recvfrom(4096)
        except OSError as error:
            if error.errno == errno.EBADF:
                raise  # the socket is gone: the loop cannot go on
            logger.warning("receiving a DNS query failed: %s", error)
            continue
        try:
            response = answer(packet, name, replicas)
            if response is not None:
                sock.sendto(response, client)
        except Exception as error:
            logger.warning("answering a DNS query from %s failed: %s", client, error)


def dns_query(name: str, ident: int) -> bytes:
    labels = b"".join(bytes([len(part)]) + part.encode("ascii") for part in name.split(".") if part)
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", TYPE_A, CLASS_IN)


def dns_problem(name: str, port: int, timeout: float = 2.0) -> str | None:
    """What is wrong with the A query answer on ``port``, or None when it is answered."""
    ident = int.from_bytes(os.urandom(2), "big")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(dns_query(name, ident), ("127.0.0.1", port))
            response = sock.recv(4096)
        except OSError as error:
            return f"no DNS answer on udp/{port}: {error}"
    if len(response) < 12 or struct.unpack("!H", response[:2])[0] != ident or response[3] & 0xF:
        return f"a bad DNS answer on udp/{port}"
    return None


class Heartbeat:
    """Touches ``path`` when this server answers a real A query for ``name`` on ``port``;
    logs at ERROR when it stops answering (once, until it answers again)."""

    def __init__(self, path: Path, name: str, port: int, timeout: float = 2.0) -> None:
        self.path, self.name, self.port, self.timeout = path, name, port, timeout
        self.problem: str | None = None

    def __call__(self) -> None:
        problem = dns_problem(self.name, self.port, self.timeout)
        if problem and problem != self.problem:
            logger.error("unhealthy (the heartbeat stops): %s", problem)
        elif self.problem and not problem:
            logger.info("answering again on udp/%d", self.port)
        self.problem = problem
        if not problem:
            self.path.touch()


def supervise(dns: threading.Thread, probe_round, interval: float) -> None:
    """Probes every ``interval`` seconds while the DNS thread lives; exits when it dies."""
    while dns.is_alive():
        started = time.monotonic()
        probe_round()
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    logger.error("the DNS thread stopped: exiting, so that the container is restarted")
    sys.exit(1)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s ready-backends %(message)s", stream=sys.stdout
    )
    logging.Formatter.converter = time.gmtime
    try:
        name = setting("READY_BACKENDS_NAME", "backend").lower()
        port = setting("READY_BACKENDS_PORT", "8000", int, 1)
        path = setting("READY_BACKENDS_PATH", "/health/ready/")
        listen_port = setting("READY_BACKENDS_LISTEN_PORT", "5353", int, 1)
        interval = setting("READY_BACKENDS_INTERVAL", "1", float, 0.1)
        timeout = setting("READY_BACKENDS_TIMEOUT", "2", float, 0.1)
        fails = setting("READY_BACKENDS_FAILS", "2", int, 1)
    except ConfigError as error:
        sys.exit(f"ready-backends: {error}")
    # The container's private tmpfs; its health check reads the file's age.
    heartbeat_file = Path(os.environ.get("READY_BACKENDS_HEARTBEAT", "/tmp/ready-backends.heartbeat"))  # noqa: S108
    heartbeat = Heartbeat(heartbeat_file, name, listen_port, timeout)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    replicas = Replicas(fails)
    with ThreadPoolExecutor(max_workers=16) as pool:

        def probe_round() -> None:
            found = look_up(name)
            failures = pool.map(lambda address: probe(address, port, path, timeout), found)
            replicas.record(dict(zip(found, failures, strict=True)))

        # Listening only once the first round is in: until then Caddy's lookups are
        # refused and it uses its static upstream, rather than an empty answer.
        probe_round()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", listen_port))  # noqa: S104 (the proxy asks from another container)
        dns = threading.Thread(target=serve_dns, args=(sock, name, replicas), daemon=True, name="dns")
        dns.start()
        logger.info("answering for %r on udp/%d: replicas passing GET %s on port %d", name, listen_port, path, port)
        heartbeat()

        def round_and_heartbeat() -> None:
            probe_round()
            heartbeat()

        supervise(dns, round_and_heartbeat, interval)


if __name__ == "__main__":
    main()
