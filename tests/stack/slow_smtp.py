"""An SMTP server with the standard library only, for scripts/bench: it speaks enough of
RFC 5321 for Django's SMTP backend (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET,
NOOP, QUIT), accepts everything, and holds each message ``delay`` seconds before its
250, like a slow provider."""

from __future__ import annotations

import socketserver
import threading
import time


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 slow-smtp ready")
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-slow-smtp")
                self.reply("250 AUTH PLAIN LOGIN")
            elif verb == "AUTH":
                if line.strip().upper() == b"AUTH LOGIN":
                    for prompt in ("VXNlcm5hbWU6", "UGFzc3dvcmQ6"):
                        self.reply(f"334 {prompt}")
                        self.rfile.readline()
                self.reply("235 accepted")
            elif verb == "DATA":
                self.reply("354 go ahead")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                time.sleep(self.server.delay)
                self.server.count()
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    delay = 0.0
    received = 0
    _lock = threading.Lock()

    def count(self) -> None:
        with self._lock:
            self.received += 1


class SlowSmtp:
    """Listens on every address (containers reach it through their network's gateway)."""

    def __init__(self):
        self._server = _Server(("0.0.0.0", 0), _Session)  # noqa: S104 (reached from the containers)
        self.port = self._server.server_address[1]

    @property
    def delay(self) -> float:
        return self._server.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._server.delay = seconds

    @property
    def received(self) -> int:
        return self._server.received

    def __enter__(self) -> SlowSmtp:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
