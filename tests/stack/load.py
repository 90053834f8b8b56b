"""A steady stream of requests to the edge while something happens to the stack, counting
every answer that is not a 2xx and every socket error. Bounded: a few threads on
loopback, stopped when the block ends, each at most PER_SECOND requests a second. Four
threads send one every 10 ms: a window in which the edge or a replica fails requests
(a replica gone before the edge drops it takes up to ready-backends' probe second) meets
many of them. A loop as fast as it can go would take the CPU from the stacks beside it
for no more proof; throughput is scripts/bench's to measure."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from contextlib import contextmanager

from tests.stack.stack import tls_context, wait_for

PER_SECOND = 25  # per thread


class Load:
    def __init__(self, port: int, path: str, threads: int, per_second: float = PER_SECOND):
        self.port, self.path, self.threads, self.interval = port, path, threads, 1 / per_second
        self.outcomes: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _connect(self) -> http.client.HTTPSConnection:
        # Longer than the edge holds a request that finds no replica (lb_try_duration, 30 s):
        # a request that fails then gets the edge's answer, not this client's timeout.
        return http.client.HTTPSConnection("localhost", self.port, context=tls_context(), timeout=60)

    def _run(self) -> None:
        connection = self._connect()
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                connection.request("GET", self.path)
                response = connection.getresponse()
                response.read()
                outcome = "ok" if 200 <= response.status < 300 else f"status {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                outcome = f"error {exc.__class__.__name__}"
                connection.close()
                connection = self._connect()
            with self._lock:
                self.outcomes[outcome] += 1
            # Paced from the schedule, never catching up in a burst after a slow answer.
            next_at = max(next_at + self.interval, time.monotonic())
            self._stop.wait(next_at - time.monotonic())
        connection.close()

    @property
    def failed(self) -> dict[str, int]:
        return {outcome: count for outcome, count in self.outcomes.items() if outcome != "ok"}

    def start(self) -> None:
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)


@contextmanager
def steady_load(port: int, path: str = "/api/products/", threads: int = 4):
    """Requests flow (50 answered) before the block starts, and until it ends."""
    load = Load(port, path, threads)
    load.start()
    try:
        wait_for(lambda: sum(load.outcomes.values()) >= 50, timeout=30, what="the load to flow")
        yield load
    finally:
        load.stop()
