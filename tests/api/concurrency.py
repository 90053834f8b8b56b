"""Real races on PostgreSQL: requests in threads that queue on row locks the test holds.

Holding a lock until every request waits on it makes the interleaving the same on
every run, instead of hoping two threads collide.
"""

import threading
import time
from collections.abc import Callable

from django.db import connection


def wait_for_lock_waiters(count: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return True
            time.sleep(0.05)
    return False


class Racers:
    """Starts each call in its own thread (own database connection), one after the other:
    each is started only once the ones before it wait on a lock, so they queue in order."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.results: dict[int, object] = {}

    def start(self, call: Callable[[], object]) -> None:
        index = len(self.threads)

        def run():
            try:
                self.results[index] = call()
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()
        assert wait_for_lock_waiters(len(self.threads)), f"request {index + 1} never waited on the held lock"

    def finish(self, timeout: float = 30) -> list:
        for thread in self.threads:
            thread.join(timeout=timeout)
        assert not any(thread.is_alive() for thread in self.threads), "a request is still running"
        return [self.results.get(index) for index in range(len(self.threads))]


class Rollback(Exception):
    """Raised to leave a transaction.atomic() block the test used only to hold locks."""
