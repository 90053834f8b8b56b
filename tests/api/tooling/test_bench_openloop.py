"""scripts/bench's constant-rate load generator: a latency figure is only worth
something if late requests count from when they were due, and every body is read
to its end (a half-read chunked body would desynchronise the next answer)."""

import asyncio
import contextlib
import threading
import time

from scripts.benchmark.openloop import constant_rate, percentile


def test_nearest_rank_percentile():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7
    assert percentile([], 0.5) == 0


class SlowServer:
    """A keep-alive HTTP server on 127.0.0.1 that answers in turn on one connection,
    alternately with a chunked and a Content-Length body, after ``delay`` seconds."""

    def __init__(self, delay: float):
        self.delay, self.served, self.ready = delay, 0, threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self.serve(),), daemon=True)

    async def handle(self, reader, writer):
        while await reader.readuntil(b"\r\n\r\n"):
            await asyncio.sleep(self.delay)
            self.served += 1
            if self.served % 2:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                )
            else:
                writer.write(b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy")
            await writer.drain()

    async def serve(self):
        self.loop = asyncio.get_running_loop()
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        with contextlib.suppress(asyncio.CancelledError):  # the server closed by __exit__
            await self.server.serve_forever()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(5)
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.server.close)
        self.thread.join(5)


def test_late_requests_count_from_their_due_time_and_bodies_are_read_whole():
    # One connection answering in 20 ms at an offered 100 req/s: it can serve 50 a second,
    # so the queue grows (request i is answered about 10 ms x i late); wrk would report 20 ms.
    with SlowServer(delay=0.02) as server:
        result = constant_rate(f"http://127.0.0.1:{server.port}/", rate=100, seconds=1, connections=1)
    assert result["requests"] == 100 == server.served
    assert result["errors"] == 50  # every 503, and nothing misread as another answer
    assert result["p50"] > 400
    assert result["max"] > 900


def test_below_saturation_latency_is_the_service_time():
    with SlowServer(delay=0.005) as server:
        started = time.monotonic()
        result = constant_rate(f"http://127.0.0.1:{server.port}/", rate=50, seconds=1, connections=4)
    assert result["requests"] == 50
    assert result["p50"] < 100
    assert time.monotonic() - started < 5
