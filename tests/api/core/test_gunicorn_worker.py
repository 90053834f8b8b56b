"""The Gunicorn worker subclass (desideliver_backend.runtime.gunicorn_worker) relies on gthread's
internals: the installed Gunicorn has the shape it was written for, and a changed one is
named, not ignored."""

import types

from gunicorn.workers import gthread

from desideliver_backend.runtime import gunicorn_worker


def test_the_installed_gthread_has_the_shape_the_worker_was_written_for():
    assert gunicorn_worker.gthread_shape_changes() == []


def test_a_changed_gthread_is_named():
    class ThreadWorker(gthread.ThreadWorker):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)

        def on_pending_socket_readable(self, conn):
            pass

    class TConn(gthread.TConn):
        def __init__(self, cfg, sock, client, server, protocol):
            super().__init__(cfg, sock, client, server)

    changed = types.SimpleNamespace(TConn=TConn, ThreadWorker=ThreadWorker)
    changes = gunicorn_worker.gthread_shape_changes(changed)
    assert "ThreadWorker.on_pending_socket_readable takes (self, conn)" in changes
    assert "TConn.__init__ takes (self, cfg, sock, client, server, protocol)" in changes
    assert "ThreadWorker.__init__ no longer sets self.pending_conns" in changes
    assert len(changes) == 5, changes  # also nr_conns and poller; nothing else differs
