"""A constant-rate (open-loop) load generator, for latency below saturation.

wrk sends the next request when the previous answer arrives, so a slow answer
delays the requests behind it and they are never counted as late (coordinated
omission); wrk2, which fixes this, is not packaged by Debian. Here request i is
due at start + i / rate whatever happened before, and its latency runs from that
moment: time spent waiting for a free connection counts, as it would for a user.
"""

import asyncio
import time
from urllib.parse import urlsplit

from .common import any_certificate


class HttpConnection:
    """One keep-alive HTTP/1.1 connection that reads Content-Length and chunked bodies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    async def request(self, head: bytes) -> int:
        self.writer.write(head)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed before the status line")
        status = int(status_line.split()[1])
        length, chunked = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        else:
            await self.reader.readexactly(length)
        return status


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def _run(url: str, rate: float, seconds: float, connections: int, headers: dict[str, str]) -> dict:
    parts = urlsplit(url)
    tls = any_certificate() if parts.scheme == "https" else None
    port = parts.port or (443 if tls else 80)
    head = (
        f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    ).encode()

    async def connect() -> HttpConnection:
        return HttpConnection(*await asyncio.open_connection(parts.hostname, port, ssl=tls))

    idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await connect())
    latencies: list[float] = []
    errors = 0

    async def send(due: float) -> None:
        nonlocal errors
        connection = await idle.get()
        try:
            status = await connection.request(head)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            connection.writer.close()
            errors += 1
            idle.put_nowait(await connect())
            return
        latencies.append((time.monotonic() - due) * 1000)
        if not 200 <= status < 400:
            errors += 1
        idle.put_nowait(connection)

    loop_start = time.monotonic()
    tasks = []
    for i in range(int(rate * seconds)):
        due = loop_start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(due)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - loop_start
    while not idle.empty():
        idle.get_nowait().writer.close()
    latencies.sort()
    return {
        "offered": rate,
        "rps": len(latencies) / elapsed,
        "requests": len(latencies),
        "errors": errors,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "max": latencies[-1] if latencies else 0.0,
    }


def constant_rate(url: str, rate: float, seconds: float, connections: int = 64, headers: dict | None = None) -> dict:
    """Latency percentiles (ms, from each request's due time) at ``rate`` requests a second."""
    return asyncio.run(_run(url, rate, seconds, connections, headers or {}))


def fmt_open_loop(result: dict) -> str:
    return (
        f"p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms at {result['rps']:.0f} req/s "
        f"(offered {result['offered']:.0f}), {result['errors']} errors"
    )
