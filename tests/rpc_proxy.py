"""A JSON-RPC proxy on loopback in front of the test node, that can go away mid-run: it forwards
every request to the node until it has forwarded one request of a given method, and then stops
listening, as a node that crashed or a network that broke would."""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class DyingRpcProxy:
    def __init__(self, target: str, die_after: str) -> None:
        self.target = target
        self.die_after = die_after.encode()
        self.forwarded: list[bytes] = []
        self.dead = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.dead.is_set():  # gone: a request that races the shutdown gets no answer either
                    self.close_connection = True
                    return
                request = urllib.request.Request(proxy.target, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = response.read()
                proxy.forwarded.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                if proxy.die_after in body:
                    proxy.dead.set()  # at once: the shutdown below takes a moment
                    threading.Thread(target=proxy.stop, daemon=True).start()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._stopped = threading.Event()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> DyingRpcProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        if not self._stopped.is_set():
            self._stopped.set()
            self.server.shutdown()
            self.server.server_close()

    def __exit__(self, *exc: object) -> None:
        self.stop()
