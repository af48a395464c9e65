"""Bodies are bounded while they are read, on every route that reads one (the gateway's metered
and key routes, the dashboard's keys route): a body announced too large is refused before a byte
of it is read, and a body streamed without a length is refused as soon as it passes the limit,
long before it ends. Audit: a 300 MB POST to /v1/keys raised memory by about 600 MB before the 413.
Over real HTTP on loopback; no chain."""

from __future__ import annotations

import select
import socket
from types import SimpleNamespace

import pytest

from tests.gateway.gateway_support import SECRET, in_process_pass_only, served_world
from tests.gateway.keys_support import Served
from vvv.dashboard.app import make_app as dashboard_app
from vvv.dashboard.data import Dashboard
from vvv.oracle.pricing import load_prices

MB = 1_048_576
PIECE = b"x" * 65_536


def post_endless(url: str, path: str, total: int = 300 * MB, length: int | None = None) -> tuple[bytes, int]:
    """POST `total` bytes to `path`, chunked (or announced with `length` and not sent), reading
    the answer as soon as there is one; (its first line, the body bytes sent before it came)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    framing = f"content-length: {length}" if length is not None else "transfer-encoding: chunked"
    sock.sendall(f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                 f"authorization: Bearer {SECRET}\r\n{framing}\r\n\r\n".encode())  # fmt: skip
    sent = 0
    sock.settimeout(5)
    try:
        while length is None and sent < total:
            if select.select([sock], [], [], 0)[0]:
                break
            sock.sendall(b"10000\r\n" + PIECE + b"\r\n")
            sent += len(PIECE)
    except (TimeoutError, OSError):
        pass  # the server stopped reading: its answer is there
    answer = sock.recv(4_096)
    sock.close()
    return answer.split(b"\r\n")[0], sent


@pytest.fixture
def gateway(usage_url, tmp_path):
    yield from served_world(usage_url, tmp_path)


@pytest.mark.parametrize("path", ["/v1/keys", "/v1/keys/list", "/v1/chat/completions", "/v1/images/generations"])
def test_the_gateways_routes_stop_reading_at_their_limit(gateway, path):
    status, sent = post_endless(gateway.url, path)
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    assert sent <= 16 * MB  # the limits are 16 KiB (keys) and 1 MiB (chat, images); the rest was never read
    status, sent = post_endless(gateway.url, path, length=300 * MB)
    assert (status, sent) == (b"HTTP/1.1 413 Request Entity Too Large", 0)
    assert gateway.upstream.requests == []


def test_the_dashboards_keys_route_stops_reading_at_its_limit(tmp_path):
    in_process_pass_only()
    (tmp_path / "index.html").write_text("<!doctype html>")
    board = Dashboard(
        SimpleNamespace(record={}), load_prices(), "http://127.0.0.1:1", True, "test", gateway_url="http://127.0.0.1:1"
    )  # fmt: skip  (the gateway is never reached)
    with Served(dashboard_app(board, tmp_path)) as url:
        status, sent = post_endless(url, "/api/keys/create")
        assert status == b"HTTP/1.1 413 Request Entity Too Large" and sent <= 16 * MB
        assert post_endless(url, "/api/keys/create", length=300 * MB) == (b"HTTP/1.1 413 Request Entity Too Large", 0)
