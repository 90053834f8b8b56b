"""The debugger really stops in a view: Django's server under debugpy, driven over
the Debug Adapter Protocol the way VS Code's "attach" configuration drives it."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

BACKEND_DIR = Path(__file__).resolve().parents[3] / "backend"
VIEWS = BACKEND_DIR / "products" / "catalogue_cache.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DapClient:
    def __init__(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buffer = b""
        self.seq = 0
        self.messages = []

    def send(self, command: str, **arguments) -> int:
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command, "arguments": arguments}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        return self.seq

    def _read_message(self) -> dict:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        header, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = int(header.split(b":")[1])
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return json.loads(rest[:length])

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("debugpy closed the connection")
        return chunk

    def wait(self, predicate, what: str) -> dict:
        for message in self.messages:
            if predicate(message):
                self.messages.remove(message)
                return message
        while True:
            message = self._read_message()
            if predicate(message):
                return message
            self.messages.append(message)

    def response(self, seq: int) -> dict:
        message = self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq, f"response {seq}")
        assert message["success"], message
        return message

    def event(self, name: str) -> dict:
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name, name)


@pytest.fixture
def server_under_debugpy():
    debug_port, http_port = free_port(), free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "desideliver_backend.settings.local", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "debugpy",
            "--listen",
            f"127.0.0.1:{debug_port}",
            "--wait-for-client",
            "manage.py",
            "runserver",
            f"127.0.0.1:{http_port}",
            "--noreload",
            "--skip-checks",
        ],
        cwd=BACKEND_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield debug_port, http_port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_breakpoint_in_a_view_stops_the_request_and_continue_finishes_it(server_under_debugpy):
    debug_port, http_port = server_under_debugpy
    line = next(
        number
        for number, text in enumerate(VIEWS.read_text().splitlines(), start=1)
        if "if not self._cacheable(" in text
    )
    dap = DapClient(debug_port)
    dap.response(dap.send("initialize", adapterID="debugpy", clientID="desideliver-tests", pathFormat="path"))
    attach = dap.send("attach", justMyCode=True, django=True)
    dap.event("initialized")
    breakpoints = dap.response(dap.send("setBreakpoints", source={"path": str(VIEWS)}, breakpoints=[{"line": line}]))
    assert breakpoints["body"]["breakpoints"][0]["verified"], breakpoints
    dap.response(dap.send("configurationDone"))
    dap.response(attach)

    url = f"http://127.0.0.1:{http_port}/api/products/?probe={uuid.uuid4().hex}"
    result = {}

    def request():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    result["status"] = response.status
                    return
            except OSError:
                time.sleep(0.2)  # the server is still starting

    client = threading.Thread(target=request, daemon=True)
    client.start()

    stopped = dap.event("stopped")
    assert stopped["body"]["reason"] == "breakpoint"
    frames = dap.response(dap.send("stackTrace", threadId=stopped["body"]["threadId"], levels=1))
    top = frames["body"]["stackFrames"][0]
    assert (Path(top["source"]["path"]).resolve(), top["line"]) == (VIEWS.resolve(), line)
    assert "status" not in result, "the request finished while stopped at the breakpoint"

    dap.response(dap.send("continue", threadId=stopped["body"]["threadId"]))
    client.join(timeout=60)
    assert result.get("status") == 200
