"""A real SMTP server on this host (aiosmtpd) for the stack's containers, which reach it
through their network's gateway: what the worker's and Alertmanager's emails arrive at."""

import asyncio
import email
import socket

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    """Accepts any login; ``delay`` holds each message before the 250 reply."""

    def __init__(self):
        self.received: list[email.message.Message] = []
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.content))
        await asyncio.sleep(self.delay)
        return "250 OK"

    def message_ids(self, subject_part: str) -> list[str]:
        return [m["Message-ID"] for m in self.received if subject_part in (m["Subject"] or "")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))  # noqa: S104 (the stack's containers reach it through their gateway)
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self):
        self.sink = Sink()
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(
            self.sink,
            hostname="0.0.0.0",  # noqa: S104
            port=self.port,
            auth_require_tls=False,
            authenticator=lambda *args: AuthResult(success=True),
        )
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
