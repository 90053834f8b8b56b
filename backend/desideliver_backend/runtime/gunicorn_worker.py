"""Gunicorn's gthread worker, minus a stall on connections that send nothing yet.

Gunicorn 27's gthread worker hands every accepted connection to a pool thread,
which waits up to 5 s for the request's first bytes before parking it. A client
that connects and waits (a proxy's spare upstream connection, a browser's
preconnect, a load balancer's TCP check) holds a thread for those 5 s; as many
such connections as threads stop the worker, health checks included (measured:
4 idle connections delayed the next request by 5.0 s; benoitc/gunicorn#3635
proposes the same change upstream). This worker parks a connection without data in its
main poller, as gthread already does after those 5 s: a pool thread only ever
gets a connection with bytes to read, and one that stays silent is closed after
``keepalive`` seconds, or within a moment when the worker stops.
"""

import errno
import inspect
import selectors
import socket
import time
from functools import partial

import gunicorn
from gunicorn.workers import gthread

from desideliver_backend import metrics


class ThreadWorker(gthread.ThreadWorker):
    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = gthread.TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # leaves it non-blocking
        if _has_bytes(client_sock):
            conn.data_ready = True
            self.enqueue_req(conn)
            return
        # Same bookkeeping as gthread's own deferral: pending_conns stays ordered by
        # timeout, murder_pending() closes what never speaks.
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(client_sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def handle(self, conn):
        # A pool thread runs this for one request, from its first bytes to its response.
        metrics.BUSY_THREADS.inc()
        try:
            return super().handle(conn)
        finally:
            metrics.BUSY_THREADS.dec()

    def _cap_keepalive(self, deadline):
        # A stopping worker closes its idle kept-alive connections within a short linger;
        # gthread does not do the same for connections still waiting for a first request,
        # so one silent connection kept the worker for the whole graceful timeout.
        super()._cap_keepalive(deadline)
        for conn in self.pending_conns:
            conn.timeout = min(conn.timeout, deadline)


def _has_bytes(sock: socket.socket) -> bool:
    """Whether reading would not block: a request's first bytes, or the peer's close."""
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset: the thread sees the error and closes it
    return True


# What this worker relies on in gthread (Gunicorn 27.0, pinned to that minor in
# pyproject.toml): method signatures and the state ThreadWorker.__init__ sets up.
# A Gunicorn upgrade that changes one stops start-up here, not quietly brings the stall back.
GTHREAD_SHAPE = {
    "TConn.__init__": ["self", "cfg", "sock", "client", "server"],
    "ThreadWorker.enqueue_req": ["self", "conn"],
    "ThreadWorker.handle": ["self", "conn"],
    "ThreadWorker.accept": ["self", "listener"],
    "ThreadWorker.on_pending_socket_readable": ["self", "conn", "client"],
    "ThreadWorker.murder_pending": ["self"],
    "ThreadWorker._cap_keepalive": ["self", "deadline"],
}
GTHREAD_STATE = ("self.pending_conns = deque()", "self.nr_conns = 0", "self.poller = ")


def gthread_shape_changes(module=gthread) -> list[str]:
    """How ``module`` (gthread) differs from the shape this worker was written for."""
    changes = []
    for dotted, expected in GTHREAD_SHAPE.items():
        owner, name = dotted.split(".")
        function = getattr(getattr(module, owner, None), name, None)
        if function is None:
            changes.append(f"{dotted} is gone")
            continue
        parameters = list(inspect.signature(function).parameters)
        if parameters != expected:
            changes.append(f"{dotted} takes ({', '.join(parameters)})")
    init = inspect.getsource(module.ThreadWorker.__init__)
    unset = [line.split(" =")[0] for line in GTHREAD_STATE if line not in init]
    changes += [f"ThreadWorker.__init__ no longer sets {attribute}" for attribute in unset]
    return changes


if _changes := gthread_shape_changes():
    raise ImportError(
        f"Gunicorn {gunicorn.__version__}'s gthread worker changed shape ({'; '.join(_changes)}): "
        "update desideliver_backend/runtime/gunicorn_worker.py (see benoitc/gunicorn#3635)"
    )
