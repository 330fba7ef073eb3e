"""The SDK's HTTP rules, against a recording HTTP server (no hub): what every request
carries (the bearer token, and nowhere else), which answers are worth trying again,
how `Retry-After` is read, and a kept-alive connection the server dropped."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.servers import recording_server, wait_for
from thereyet import __version__
from thereyet.client.transport import HubError, Transport, path


@pytest.mark.parametrize("status", [None, 408, 425, 429, 500, 502, 503, 504])
def test_network_trouble_408_425_429_and_5xx_are_worth_trying_again(status):
    assert HubError("x", status=status).retry


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 501])
def test_a_refusal_is_not_worth_trying_again(status):
    assert not HubError("x", status=status).retry


def test_a_request_carries_the_token_only_in_its_authorization_header():
    with recording_server() as recorder:
        recorder.status = 201
        transport = Transport(f"http://{recorder.url}", "ty_secret_token")
        answer = transport.call("POST", path("runs"), {"job": "export"})
        transport.close()
    assert (answer.status, answer.body) == (201, {})
    [request] = recorder.requests
    assert (request["method"], request["path"]) == ("POST", "/api/v1/runs")
    assert request["json"] == {"job": "export"}
    headers = request["headers"]
    assert headers["Authorization"] == "Bearer ty_secret_token"
    assert headers["User-Agent"] == f"thereyet-sdk/{__version__}"
    assert headers["Accept"] == "application/json"
    assert headers["Content-Type"] == "application/json"
    others = {k: v for k, v in headers.items() if k != "Authorization"}
    assert "ty_secret_token" not in f"{request['path']} {others} {request['raw']!r}"


def test_a_request_without_a_body_has_no_content_type_and_raw_bytes_keep_theirs():
    with recording_server() as recorder:
        transport = Transport(f"http://{recorder.url}/", "ty_x")
        transport.call("GET", path("me"))
        transport.call("POST", path("files"), raw=b"\x89PNG", content_type="image/png")
        transport.close()
    get, upload = recorder.requests
    assert get["method"] == "GET" and "Content-Type" not in get["headers"]
    assert upload["raw"] == b"\x89PNG" and upload["headers"]["Content-Type"] == "image/png"


def test_a_hub_under_a_path_prefix_gets_the_prefix_before_the_api_path():
    with recording_server() as recorder:
        transport = Transport(f"http://{recorder.url}/thereyet/", "ty_x")
        transport.call("POST", path("runs"), {})
        transport.close()
    assert recorder.requests[0]["path"] == "/thereyet/api/v1/runs"


def test_path_quotes_each_part_and_leaves_out_empty_query_values():
    assert path("rooms", "a/b c", "messages") == "/api/v1/rooms/a%2Fb%20c/messages"
    assert path("runs", name="x y.png", id=None) == "/api/v1/runs?name=x+y.png"
    assert path("runs", tag=["a", "b"]) == "/api/v1/runs?tag=a&tag=b"


@pytest.mark.parametrize("url", ["ftp://hub:1", "hub:8480", "http://", "https:///x"])
def test_a_hub_url_that_is_not_http_or_has_no_host_is_refused(url):
    with pytest.raises(ValueError, match="hub URL must be"):
        Transport(url, "ty_x")


@pytest.mark.parametrize(
    ("header", "seconds"), [("30", 30.0), ("0.5", 0.5), ("-5", 0.0), ("soon", None), (None, None)]
)
def test_retry_after_is_read_as_seconds_never_negative(header, seconds):
    with recording_server() as recorder:
        recorder.status = 503
        recorder.headers = {"Retry-After": header} if header is not None else {}
        transport = Transport(f"http://{recorder.url}", "ty_x")
        with pytest.raises(HubError) as refused:
            transport.call("POST", path("runs"), {})
        transport.close()
    assert refused.value.status == 503 and refused.value.retry
    assert refused.value.retry_after == seconds


def test_a_refusal_says_the_status_and_the_hubs_own_reason():
    with recording_server() as recorder:
        recorder.status, recorder.body = 422, b'{"error": "total: must be a number"}'
        transport = Transport(f"http://{recorder.url}", "ty_x")
        with pytest.raises(HubError) as refused:
            transport.call("POST", path("runs"), {})
        recorder.body = b"not json"
        with pytest.raises(HubError) as plain:
            transport.call("POST", path("runs"), {})
        transport.close()
    assert refused.value.reason == "hub answered 422: total: must be a number"
    assert not refused.value.retry
    assert plain.value.reason == "hub answered 422: Unprocessable Entity"


def test_an_answer_that_is_not_json_reads_as_none():
    with recording_server() as recorder:
        recorder.body = b"<html>ok</html>"
        transport = Transport(f"http://{recorder.url}", "ty_x")
        assert transport.call("GET", path("me")).body is None
        recorder.body = b""
        assert transport.call("GET", path("me")).body is None
        transport.close()


def test_an_unreachable_hub_is_a_retryable_error_naming_the_url():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    transport = Transport(f"http://127.0.0.1:{port}", "ty_x", timeout=2)
    with pytest.raises(HubError) as failed:
        transport.call("GET", path("me"))
    assert failed.value.status is None and failed.value.retry
    assert failed.value.reason.startswith(f"hub unreachable at http://127.0.0.1:{port}: ")
    assert transport._conn is None


class _DroppingServer:
    """A raw HTTP/1.1 server: answers each connection's first request as kept alive,
    then closes it (as a server does with an idle connection); or, with
    `answer=False`, closes every connection without answering."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.connections = 0
        self.closed = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    request += chunk
                if self.answer and request:
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b'Content-Length: 11\r\n\r\n{"n": true}'
                    )
            self.closed.set()


@contextmanager
def _dropping_server(answer: bool) -> Iterator[_DroppingServer]:
    server = _DroppingServer(answer)
    try:
        yield server
    finally:
        server.sock.close()


def test_a_kept_alive_connection_the_server_closed_is_sent_again_on_a_fresh_one():
    with _dropping_server(answer=True) as server:
        transport = Transport(server.url, "ty_x")
        assert transport.call("GET", path("me")).body == {"n": True}
        wait_for(server.closed.is_set, timeout=10, what="the server to close the connection")
        assert transport.call("GET", path("me")).body == {"n": True}
        transport.close()
        assert server.connections == 2


def test_a_fresh_connection_dropped_without_an_answer_is_not_sent_twice():
    with _dropping_server(answer=False) as server:
        transport = Transport(server.url, "ty_x", timeout=5)
        with pytest.raises(HubError) as failed:
            transport.call("POST", path("runs"), {})
        assert failed.value.retry and failed.value.status is None
        assert server.connections == 1


def test_an_answer_asking_to_close_closes_the_connection():
    with recording_server() as recorder:
        recorder.headers = {"Connection": "close"}
        transport = Transport(f"http://{recorder.url}", "ty_x")
        transport.call("GET", path("me"))
        assert transport._conn is None


def test_an_error_reads_as_its_reason():
    assert str(HubError("hub answered 503: busy", status=503)) == "hub answered 503: busy"


def test_an_https_hub_is_never_spoken_to_in_plain_text():
    with recording_server() as recorder:
        transport = Transport(f"https://{recorder.url}", "ty_secret_token", timeout=5)
        with pytest.raises(HubError) as failed:
            transport.call("POST", path("runs"), {"job": "export"})
        transport.close()
    assert failed.value.status is None and failed.value.retry
    assert recorder.requests == []  # the TLS handshake failed: no request, no token


def test_a_hub_that_never_answers_is_given_up_after_the_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections queue, nothing ever answers
        transport = Transport(f"http://127.0.0.1:{silent.getsockname()[1]}", "ty_x", timeout=0.5)
        with pytest.raises(HubError) as failed:
            transport.call("GET", path("me"))
    assert failed.value.retry and "timed out" in failed.value.reason
