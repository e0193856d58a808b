"""What every fake service of the tests shares: a threaded HTTP server on 127.0.0.1 at a free
port, answering while a `with` block runs. Each fake brings its own handler and protocol."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer:
    def _listen(self, handler: type[BaseHTTPRequestHandler], poll_interval: float = 0.5) -> None:
        # ThreadingHTTPServer's handler threads are daemons: closing never waits on a client
        # that keeps its connection open
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": poll_interval})

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
