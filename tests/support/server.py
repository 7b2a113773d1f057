"""A real threaded HTTP server on 127.0.0.1 with a known service time per route (for tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    """Service time (s) and status per path; a path not listed is 404."""

    routes: dict[str, tuple[float, int]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    capacity: threading.Semaphore | None = None  # at most N requests served at a time
    leak_paths: set[str] = field(default_factory=set)  # each request keeps 1 MB forever
    leaked: list[bytes] = field(default_factory=list)


@contextmanager
def serve(behaviour: Behaviour) -> Iterator[str]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 65536

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?")[0]
            delay, status = behaviour.routes.get(path, (0.0, 404))
            with lock:
                behaviour.hits[path] = behaviour.hits.get(path, 0) + 1
                if path in behaviour.leak_paths:
                    behaviour.leaked.append(b"x" * 1_000_000)  # resident, unlike calloc
            if behaviour.capacity is not None:
                with behaviour.capacity:
                    time.sleep(delay)
            else:
                time.sleep(delay)
            body = b"ok\n"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve  # noqa: N815 (http.server's names)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default 5 drops SYNs under a spike: 1 s retransmits

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
