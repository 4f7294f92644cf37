"""A hostile webhook receiver against a real `meshes-emulator serve` (issue 13's threat model):
what its answer may name (a charset whose codec fails, a flood of huge headers) neither stalls
a delivery nor bloats what the emulator records about the attempt.
"""

from __future__ import annotations

import base64
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from meshes_emulator.engine.webhook_client import MAX_HEADER_CHARS, MAX_HEADER_VALUE_CHARS
from pytest_meshes.clients import MachineAuth
from tests.engine.webhook_receiver import Receiver, Reply
from tests.helpers import start_serve


class Served:
    """One `serve` process (manual clock, in-memory database), its API client and a receiver."""

    def __init__(self, info: dict[str, Any], api: httpx.Client, receiver: Receiver) -> None:
        self.info, self.api, self.receiver = info, api, receiver
        self.workspace = info["workspaces"][0]["id"]

    def deliver(self, name: str, reply: Reply | None = None, url: str = "",
                **metadata: Any) -> dict[str, Any]:
        """One event to a webhook answered with `reply` (or at `url`); the rule_event and the
        attempt's response details after settle."""
        if reply is not None:
            self.receiver.replies["/" + name] = reply
        hook = self.api.post("/connections", json={
            "workspace": self.workspace, "type": "webhook", "name": name,
            "metadata": {"url": url or f"{self.receiver.url}/{name}", "auth_scheme": "none",
                         **metadata}})
        assert hook.status_code == 201, hook.text
        rule = self.api.post("/rules", json={
            "workspace": self.workspace, "connection": hook.json()["connection"]["id"],
            "event": name, "metadata": {"action": "send_webhook"}})
        assert rule.status_code == 201, rule.text
        event = self.api.post("/events", json={"workspace": self.workspace, "event": name,
                                               "payload": {"a": 1}})
        assert event.status_code == 201, event.text
        settled = httpx.post(self.info["base_url"] + "/_emulator/settle", timeout=30)
        assert settled.status_code == 200, settled.text
        event_id = event.json()["event"]["id"]
        rule_event = self.api.get(f"/events/{event_id}").json()["rule_events"][0]
        attempts = self.api.get(f"/events/{event_id}/rules/{rule_event['rule']}/attempts").json()
        assert attempts["records"], rule_event  # the attempt was recorded
        attempt_id = attempts["records"][0]["id"]
        details = self.api.get(f"/events/{event_id}/rules/{rule_event['rule']}/attempts/"
                               f"{attempt_id}/response-details")
        assert details.status_code == 200, details.text
        return {"rule_event": rule_event, "details": details.json(), "size": len(details.content)}


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    process, info = start_serve("--clock", "manual", "--db", ":memory:",
                                stderr=subprocess.DEVNULL)
    try:
        auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
        with httpx.Client(base_url=info["api_url"], auth=auth, timeout=30) as api, \
                Receiver() as receiver:
            yield Served(info, api, receiver)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert process.stdout is not None
        process.stdout.close()


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "no-such-charset"])
def test_an_answer_in_a_failing_charset_is_still_recorded(served: Served, charset: str) -> None:
    """`charset=idna` made decoding raise: the attempt was never recorded and its rule_event
    stayed `processing` until a restart (which sent it again)."""
    reply = Reply(status=500, headers={"Content-Type": f"text/plain; charset={charset}"},
                  body=b"broken \xff answer")
    result = served.deliver(f"cs-{charset}", reply)
    assert result["rule_event"]["status"] == "retrying"
    assert "HTTP 500" in result["rule_event"]["last_error"]
    assert result["details"]["http_status"] == 500
    assert result["details"]["body"].startswith("broken ")


def test_a_flood_of_answer_headers_is_recorded_within_a_bound(served: Served) -> None:
    """120 headers of 8,000 characters made each recorded attempt ~1 MB (the body is cut at
    4096 characters); now values are cut and only the first headers fitting a budget are kept."""
    headers = {"Retry-After": "7", **{f"X-Flood-{i}": "v" * 8000 for i in range(120)}}
    result = served.deliver("flood", Reply(status=503, headers=headers, body=b"busy"))
    kept = result["details"]["headers"]
    assert kept["retry-after"] == "7"
    assert kept["x-flood-0"].startswith("v" * MAX_HEADER_VALUE_CHARS)
    assert kept["x-flood-0"].endswith("…[truncated]")
    assert "x-flood-119" not in kept
    assert sum(len(k) + len(v) for k, v in kept.items()) <= MAX_HEADER_CHARS
    assert result["size"] < 2 * MAX_HEADER_CHARS


RAW_ANSWERS = {  # answers no HTTP library would send, by path
    "reason-bytes": b"HTTP/1.1 500 \xff\xfe bad reason\r\nContent-Length: 0\r\n\r\n",
    "header-bytes": b"HTTP/1.1 500 X\r\nX-A: \xff\xfe\xc3\r\nRetry-After: \xff\r\n"
                    b"Content-Type: text/plain; charset=\xff\xfe\r\nContent-Length: 3\r\n\r\nab\xff",
    "not-http": b"NOT HTTP AT ALL\r\n\r\n",
    "long-header": b"HTTP/1.1 500 X\r\nX-A: " + b"a" * 20000 + b"\r\nContent-Length: 0\r\n\r\n",
    "many-headers": b"HTTP/1.1 500 X\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(500))
                    + b"Content-Length: 0\r\n\r\n",
    "short-body": b"HTTP/1.1 500 X\r\nContent-Length: 100\r\n\r\nshort",
    "bad-chunk": b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n",
}


@pytest.fixture(scope="module")
def raw_receiver() -> Iterator[str]:
    """A TCP server on 127.0.0.1 answering each request with RAW_ANSWERS[its path], then closing."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer_all() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:  # closed: the module is done
                return
            with client:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = client.recv(65536)
                    if not chunk:
                        break
                    head += chunk
                path = head.split(b" ", 2)[1].decode().strip("/") if head else ""
                client.sendall(RAW_ANSWERS.get(path, b"HTTP/1.1 404 X\r\n\r\n"))

    thread = threading.Thread(target=answer_all, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.mark.parametrize("name", sorted(RAW_ANSWERS))
def test_a_malformed_answer_is_recorded_as_an_attempt(served: Served, raw_receiver: str,
                                                      name: str) -> None:
    """Bytes that are not UTF-8 in the reason phrase or a header became lone surrogates that
    SQLite could not store: the drain failed and the delivery stayed `processing`. Every other
    malformed answer is a recorded `network_error`."""
    errors_url = served.info["base_url"] + "/_emulator/errors"
    captured = len(httpx.get(errors_url).json())
    result = served.deliver(f"raw-{name}", url=f"{raw_receiver}/{name}")
    rule_event = result["rule_event"]
    assert rule_event["status"] == "retrying", rule_event
    if name in ("reason-bytes", "header-bytes"):
        assert rule_event["last_error"].startswith("rejected_server_error: "), rule_event
        assert result["details"]["http_status"] == 500
    else:
        assert rule_event["last_error"].startswith("network_error: "), rule_event
    errors = httpx.get(errors_url).json()
    assert len(errors) == captured, errors[captured:]


# connection metadata -> what its request carries that an echoing receiver repeats
ECHOED: dict[str, tuple[dict[str, Any], list[str]]] = {
    "bearer": ({"auth_scheme": "bearer", "bearer_token": "bt-Echo-1234"},
               ["Bearer bt-Echo-1234", "bt-Echo-1234"]),
    "basic": ({"auth_scheme": "basic", "basic_username": "ann", "basic_password": "pw-Echo-1234"},
              ["Basic " + base64.b64encode(b"ann:pw-Echo-1234").decode(), "pw-Echo-1234"]),
    "custom": ({"auth_scheme": "custom_header", "auth_header_name": "X-Auth",
                "auth_header_value": "cu-Echo-1234"}, ["cu-Echo-1234"]),
    "secret-header": ({"headers": [{"name": "X-Api-Key", "value": "hk-Echo-1234"}]},
                      ["hk-Echo-1234"]),
}


@pytest.mark.parametrize("scheme", sorted(ECHOED))
def test_an_echoing_receiver_does_not_get_the_credentials_recorded(served: Served,
                                                                     scheme: str) -> None:
    """A receiver answering with the request it got (an echo server, a debug endpoint) put the
    connection's credentials, masked in every connection answer, into the response details
    that the dashboard and embed sessions show."""
    metadata, echoed = ECHOED[scheme]
    body = ("echo: " + " | ".join(echoed)).encode()
    reply = Reply(status=401, headers={"X-Echo": echoed[0]}, body=body)
    result = served.deliver(f"echo-{scheme}", reply, **metadata)
    assert served.receiver.requests[-1].headers  # the receiver did get the credentials
    details = result["details"]
    for secret in echoed:
        assert secret not in str(details)
        assert secret not in result["rule_event"]["last_error"]
    assert details["body"].startswith("echo: ********")
    assert "********" in details["headers"]["x-echo"]


def test_an_echoed_url_password_is_not_recorded(served: Served) -> None:
    auth = "Basic " + base64.b64encode(b"hook:url-Echo-1234").decode()
    reply = Reply(status=500, body=f"you sent {auth}".encode())
    url = served.receiver.url.replace("http://", "http://hook:url-Echo-1234@") + "/echo-url"
    result = served.deliver("echo-url", reply, url=url)
    assert "url-Echo-1234" not in str(result["details"])
    assert auth not in str(result["details"])
