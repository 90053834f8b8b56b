"""A TLS front for a plain-HTTP test server (moto's S3): clients that insist on HTTPS
(pgBackRest) get it, with a certificate from the test's own CA and a proper TLS
close_notify at the end of each connection, which moto's own TLS mode does not send
(OpenSSL 3 clients then fail with "unexpected eof while reading")."""

import select
import socket
import ssl
import threading


class TLSProxy:
    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], cert: str, key: str):
        self.upstream = upstream
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(listen)
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            secure = self.context.wrap_socket(client, server_side=True)
        except (OSError, ssl.SSLError):
            client.close()
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            secure.close()
            return
        try:
            self._relay(secure, upstream)
            secure.unwrap()  # close_notify: the end of the response is not an error
        except (OSError, ssl.SSLError):
            pass
        finally:
            secure.close()
            upstream.close()

    @staticmethod
    def _relay(secure: ssl.SSLSocket, upstream: socket.socket) -> None:
        """Both directions in one thread (an SSL object must not be read and written at
        once), until the upstream server ends the exchange or the client leaves."""
        while True:
            readable = [secure] if secure.pending() else select.select([secure, upstream], [], [], 60)[0]
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is secure else secure).sendall(data)
