"""The edge's health-check DNS (deploy/caddy/ready_backends.py): which replicas it names,
and what it answers to good and hostile packets. Its end-to-end proof, a frozen
replica behind the real Caddy, is in tests/stack/test_replicas.py."""

import errno
import importlib.util
import os
import socket
import struct
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("ready_backends", ROOT / "deploy" / "caddy" / "ready_backends.py")
ready_backends = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ready_backends)


def query(name: str, qtype: int = 1, ident: int = 0x1234, flags: int = 0x0100, extra: bytes = b"") -> bytes:
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split(".") if part)
    header = struct.pack("!HHHHHH", ident, flags, 1, 0, 0, 1 if extra else 0)
    return header + labels + b"\0" + struct.pack("!HH", qtype, 1) + extra


def decode(response: bytes) -> tuple[int, int, list[str]]:
    ident, flags, _, count, _, _ = struct.unpack("!HHHHHH", response[:12])
    position = 12
    while response[position]:
        position += response[position] + 1
    position += 5
    addresses = []
    for _ in range(count):
        pointer, rtype, rclass, _, length = struct.unpack("!HHHIH", response[position : position + 12])
        assert (pointer, rtype, rclass, length) == (0xC00C, 1, 1, 4)
        addresses.append(socket.inet_ntoa(response[position + 12 : position + 16]))
        position += 16
    assert position == len(response)
    return ident, flags, addresses


@pytest.fixture
def replicas():
    return ready_backends.Replicas(fails_to_drop=2)


def test_a_dropped_replica_is_logged_with_why_its_last_probe_failed(replicas, caplog):
    replicas.record({"10.0.0.2": None})
    replicas.record({"10.0.0.2": "answered 503"})
    replicas.record({"10.0.0.2": "no answer within 2 s"})
    assert [record.getMessage() for record in caplog.records if "not ready" in record.getMessage()] == [
        "10.0.0.2 not ready (2 failed probes, the last: no answer within 2 s): no traffic"
    ]


@pytest.mark.parametrize("behaviour", ["answers 503", "never answers", "refuses"])
def test_a_probe_says_why_it_failed(behaviour):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if behaviour == "refuses":
        listener.close()
    else:
        listener.listen()

    def serve():
        client, _ = listener.accept()
        with client:
            client.recv(4096)
            if behaviour == "answers 503":
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            else:
                time.sleep(0.5)

    server = threading.Thread(target=serve, daemon=True)
    if behaviour != "refuses":
        server.start()
    failure = ready_backends.probe("127.0.0.1", port, "/health/ready/", timeout=0.2)
    expected = {
        "answers 503": "answered 503",
        "never answers": "no answer within 0.2 s",
        "refuses": "ConnectionRefusedError: [Errno 111] Connection refused",
    }
    assert failure == expected[behaviour]
    if server.is_alive():
        server.join(timeout=2)
    listener.close()


def test_a_replica_is_named_after_its_first_passing_probe(replicas):
    replicas.record({"10.0.0.2": None, "10.0.0.3": "answered 503"})
    assert replicas.addresses() == ["10.0.0.2"]
    replicas.record({"10.0.0.2": None, "10.0.0.3": None})
    assert replicas.addresses() == ["10.0.0.2", "10.0.0.3"]


def test_a_ready_replica_is_dropped_after_the_set_number_of_failures_in_a_row(replicas):
    replicas.record({"10.0.0.2": None, "10.0.0.3": None})
    replicas.record({"10.0.0.2": None, "10.0.0.3": "answered 503"})
    assert replicas.addresses() == ["10.0.0.2", "10.0.0.3"], "one failed probe is not enough"
    replicas.record({"10.0.0.2": None, "10.0.0.3": "answered 503"})
    assert replicas.addresses() == ["10.0.0.2"]
    replicas.record({"10.0.0.2": None, "10.0.0.3": None})
    assert replicas.addresses() == ["10.0.0.2", "10.0.0.3"], "one pass brings it back"


def test_a_replica_gone_from_dns_is_forgotten(replicas):
    replicas.record({"10.0.0.2": None, "10.0.0.3": None})
    replicas.record({"10.0.0.2": None})
    assert replicas.addresses() == ["10.0.0.2"]
    replicas.record({"10.0.0.2": None, "10.0.0.3": "answered 503"})
    assert replicas.addresses() == ["10.0.0.2"], "a returning address starts as not ready"


def test_with_no_replica_ready_every_replica_found_is_named(replicas):
    replicas.record({"10.0.0.2": "answered 503", "10.0.0.3": "answered 503"})
    assert replicas.addresses() == ["10.0.0.2", "10.0.0.3"]
    replicas.record({})
    assert replicas.addresses() == []


def test_an_a_query_for_the_name_gets_the_ready_replicas(replicas):
    replicas.record({"10.0.0.2": None, "10.0.0.3": None})
    ident, flags, addresses = decode(ready_backends.answer(query("backend."), "backend", replicas))
    assert ident == 0x1234
    assert flags & 0x8000 and flags & 0x0100 and flags & 0xF == 0  # a response, RD echoed, NOERROR
    assert addresses == ["10.0.0.2", "10.0.0.3"]
    # Case-insensitive, and an EDNS0 OPT record in the query (Go's resolver sends one) is fine.
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    assert decode(ready_backends.answer(query("BackEnd", extra=opt), "backend", replicas))[2] == addresses


def test_other_names_types_and_opcodes(replicas):
    replicas.record({"10.0.0.2": None})
    _, flags, addresses = decode(ready_backends.answer(query("db."), "backend", replicas))
    assert flags & 0xF == ready_backends.RCODE_NXDOMAIN and addresses == []
    _, flags, addresses = decode(ready_backends.answer(query("backend.", qtype=28), "backend", replicas))
    assert flags & 0xF == 0 and addresses == [], "AAAA: the name exists, no IPv6 record"
    _, flags, _ = decode(ready_backends.answer(query("backend.", flags=0x1000), "backend", replicas))
    assert flags & 0xF == ready_backends.RCODE_NOTIMP


def test_an_answer_fits_a_plain_udp_reply(replicas):
    replicas.record({f"10.0.1.{n}": None for n in range(1, 100)})
    response = ready_backends.answer(query("backend."), "backend", replicas)
    assert len(response) <= 512 and len(decode(response)[2]) == ready_backends.MAX_ANSWERS


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"\x12\x34",
        query("backend.")[:-3],  # truncated type and class
        query("backend.")[:14],  # truncated label
        query("backend.", flags=0x8100),  # a response, not a query
        struct.pack("!HHHHHH", 1, 0, 2, 0, 0, 0) + b"\0\0\1\0\1" * 2,  # two questions
        struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x0c\0\1\0\1",  # a pointer loop
    ],
)
def test_malformed_packets_get_no_answer(packet, replicas):
    assert ready_backends.answer(packet, "backend", replicas) is None


def test_the_server_answers_over_udp_and_survives_garbage(replicas):
    replicas.record({"10.0.0.2": None})
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    threading.Thread(target=ready_backends.serve_dns, args=(server, "backend", replicas), daemon=True).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(5)
    client.sendto(b"\xff" * 7, server.getsockname())
    client.sendto(query("backend."), server.getsockname())
    assert decode(client.recv(4096))[2] == ["10.0.0.2"]


def test_a_bad_setting_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("READY_BACKENDS_FAILS", "often")
    with pytest.raises(ready_backends.ConfigError, match="READY_BACKENDS_FAILS='often' is not a valid int"):
        ready_backends.setting("READY_BACKENDS_FAILS", "2", int, 1)
    monkeypatch.setenv("READY_BACKENDS_INTERVAL", "0")
    with pytest.raises(ready_backends.ConfigError, match=r"must be at least 0\.1"):
        ready_backends.setting("READY_BACKENDS_INTERVAL", "1", float, 0.1)


class RefusingFirstSend:
    """A real UDP socket whose first sendto fails as the kernel fails it for a query
    from source port 0 (EINVAL)."""

    def __init__(self, sock):
        self.sock, self.refused = sock, False

    def recvfrom(self, size):
        return self.sock.recvfrom(size)

    def sendto(self, data, address):
        if not self.refused:
            self.refused = True
            raise OSError(errno.EINVAL, "Invalid argument")
        return self.sock.sendto(data, address)


def dns_server(replicas, wrap=lambda sock: sock):
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=ready_backends.serve_dns, args=(wrap(server), "backend", replicas), daemon=True)
    thread.start()
    return server, thread


def test_a_failed_send_costs_one_answer_not_the_dns_loop(replicas):
    replicas.record({"10.0.0.2": None})
    server, thread = dns_server(replicas, RefusingFirstSend)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(5)
    client.sendto(query("backend.", ident=1), server.getsockname())  # its answer is refused
    client.sendto(query("backend.", ident=2), server.getsockname())
    ident, _, addresses = decode(client.recv(4096))
    assert (ident, addresses) == (2, ["10.0.0.2"])
    assert thread.is_alive()


def test_the_heartbeat_beats_only_while_a_real_query_is_answered(replicas, tmp_path, caplog):
    replicas.record({"10.0.0.2": None})
    server, _ = dns_server(replicas)
    heartbeat_file = tmp_path / "heartbeat"
    ready_backends.Heartbeat(heartbeat_file, "backend", server.getsockname()[1])()
    assert heartbeat_file.exists()
    os.utime(heartbeat_file, (time.time() - 60, time.time() - 60))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never answering: a dead DNS loop
        heartbeat = ready_backends.Heartbeat(heartbeat_file, "backend", silent.getsockname()[1], timeout=0.2)
        heartbeat()
        heartbeat()
    assert time.time() - heartbeat_file.stat().st_mtime > 50  # left to age: the health check fails
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and "no DNS answer" in errors[0].getMessage()


def test_when_the_dns_thread_dies_the_process_exits():
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    rounds = []
    with pytest.raises(SystemExit) as exited:
        ready_backends.supervise(dead, lambda: rounds.append(1), interval=0.01)
    assert exited.value.code == 1
    assert rounds == []
