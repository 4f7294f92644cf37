"""Webhook request building and real sends to a local receiver."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import socket
import threading
from typing import Any

import orjson
import pytest

from meshes_emulator.engine import webhook, webhook_client
from meshes_emulator.engine.outcomes import Outcome
from tests.engine.aio import run_async
from tests.engine.webhook_receiver import Receiver, Reply
from tests.helpers import EVENT, SENT, meta, send


def test_wrapped_envelope() -> None:
    request = webhook.build_request(meta(), EVENT, SENT)
    assert request.method == "POST"
    assert orjson.loads(request.body) == {
        "uuid": "evt-1",
        "event": "user.signup",
        "resource": "contacts",
        "resource_id": "c-1",
        "payload": {"email": "a@example.com", "name": "Ada"},
        "time_created": 1767225600000,
        "time_sent": 1767225605000,
    }
    assert request.headers["Content-Type"] == "application/json"
    assert not any(h.startswith("X-Meshes-") for h in request.headers)


def test_wrapped_defaults_resource_global() -> None:
    body = orjson.loads(webhook.build_request(meta(), EVENT | {"resource": None}, SENT).body)
    assert body["resource"] == "global"


def test_raw_mode_moves_metadata_to_headers() -> None:
    request = webhook.build_request(meta(payload_mode="raw", http_method="put"), EVENT, SENT)
    assert request.method == "PUT"
    assert orjson.loads(request.body) == EVENT["payload"]
    assert request.headers["X-Meshes-Event-Id"] == "evt-1"
    assert request.headers["X-Meshes-Event"] == "user.signup"
    assert request.headers["X-Meshes-Resource"] == "contacts"
    assert request.headers["X-Meshes-Resource-Id"] == "c-1"
    assert request.headers["X-Meshes-Time-Created"] == "1767225600000"
    assert request.headers["X-Meshes-Time-Sent"] == "1767225605000"


@pytest.mark.parametrize(
    ("settings", "header", "value"),
    [
        (
            {"auth_scheme": "basic", "basic_username": "u", "basic_password": "p"},
            "Authorization",
            "Basic " + base64.b64encode(b"u:p").decode(),
        ),
        ({"auth_scheme": "bearer", "bearer_token": "tok"}, "Authorization", "Bearer tok"),
        (
            {
                "auth_scheme": "custom_header",
                "auth_header_name": "X-API-Key",
                "auth_header_value": "k1",
            },
            "X-API-Key",
            "k1",
        ),
    ],
)
def test_auth_modes(settings: dict[str, Any], header: str, value: str) -> None:
    request = webhook.build_request(meta(**settings), EVENT, SENT)
    assert request.headers[header] == value
    assert request.as_record()["headers"][header] == "***"


def test_no_auth_has_no_authorization() -> None:
    assert "Authorization" not in webhook.build_request(meta(), EVENT, SENT).headers


@pytest.mark.parametrize(("algorithm", "digest"), [("sha256", hashlib.sha256), ("sha512", hashlib.sha512)])
def test_signature_over_exact_body(algorithm: str, digest: Any) -> None:
    request = webhook.build_request(meta(signing_algorithm=algorithm, signing_secret="s3cret"), EVENT, SENT)
    expected = hmac.new(b"s3cret", request.body, digest).hexdigest()
    assert request.headers["X-Meshes-Signature"] == f"{algorithm}={expected}"
    assert request.headers["X-Meshes-Timestamp"] == str(int(SENT.timestamp()))


def test_custom_signature_header_and_custom_headers() -> None:
    request = webhook.build_request(
        meta(
            signing_algorithm="sha256",
            signing_secret="s",
            signature_header="X-Sig",
            headers=[{"name": "X-Tenant", "value": "t1"}, {"name": "X-Env", "value": "test"}],
        ),
        EVENT,
        SENT,
    )
    assert request.headers["X-Sig"].startswith("sha256=")
    assert "X-Meshes-Signature" not in request.headers
    assert request.headers["X-Tenant"] == "t1" and request.headers["X-Env"] == "test"


@pytest.mark.parametrize(
    ("settings", "param"),
    [
        ({"url": None}, "metadata.url"),
        ({"url": "ftp://x/y"}, "metadata.url"),
        ({"url": "/relative"}, "metadata.url"),
        ({"http_method": "GET"}, "metadata.http_method"),
        ({"payload_mode": "xml"}, "metadata.payload_mode"),
        ({"auth_scheme": "digest"}, "metadata.auth_scheme"),
        ({"auth_scheme": "basic", "basic_username": "u"}, "metadata.basic_password"),
        ({"auth_scheme": "bearer"}, "metadata.bearer_token"),
        (
            {
                "auth_scheme": "custom_header",
                "auth_header_name": "Authorization",
                "auth_header_value": "x",
            },
            "metadata.auth_header_name",
        ),
        ({"signing_algorithm": "md5"}, "metadata.signing_algorithm"),
        ({"signing_algorithm": "sha256"}, "metadata.signing_secret"),
        (
            {
                "signing_algorithm": "sha256",
                "signing_secret": "s",
                "signature_header": "Content-Type",
            },
            "metadata.signature_header",
        ),
        ({"headers": "X-A: b"}, "metadata.headers"),
        ({"headers": [{"name": f"X-H{i}", "value": "v"} for i in range(6)]}, "metadata.headers"),
        ({"headers": [{"name": "Content-Type", "value": "text/plain"}]}, "metadata.headers[0]"),
        ({"headers": [{"name": "authorization", "value": "x"}]}, "metadata.headers[0]"),
        ({"headers": [{"name": "X-Meshes-Event", "value": "x"}]}, "metadata.headers[0]"),
        ({"headers": [{"name": "X-Meshes-Signature", "value": "x"}]}, "metadata.headers[0]"),
        ({"headers": [{"name": "Bad Name", "value": "x"}]}, "metadata.headers[0]"),
        ({"headers": [{"name": "X-A", "value": 1}]}, "metadata.headers[0]"),
        ({"headers": [{"name": "X-A", "value": "a\r\nX-B: b"}]}, "metadata.headers[0]"),
        (
            {"headers": [{"name": "X-A", "value": "1"}, {"name": "x-a", "value": "2"}]},
            "metadata.headers[1]",
        ),
    ],
)
def test_bad_metadata_refused(settings: dict[str, Any], param: str) -> None:
    problems = webhook.metadata_problems(meta(**settings))
    assert param in [p for p, _ in problems]
    with pytest.raises(webhook.WebhookConfigError):
        webhook.build_request(meta(**settings), EVENT, SENT)


def test_five_custom_headers_allowed() -> None:
    headers = [{"name": f"X-H{i}", "value": "v"} for i in range(5)]
    assert webhook.metadata_problems(meta(headers=headers)) == []


def test_send_success_and_receiver_sees_signed_body() -> None:
    with Receiver() as receiver:
        receiver.replies["/hook"] = Reply(200, {"Content-Type": "text/plain"}, b"ok")
        request = webhook.build_request(
            meta(url=receiver.url + "/hook", signing_algorithm="sha256", signing_secret="k"),
            EVENT,
            SENT,
        )
        outcome = send(request)
    assert outcome.code == "delivered" and outcome.http_status == 200
    assert outcome.response is not None and outcome.response.body == "ok"
    assert outcome.request is not None and outcome.request["body"]["uuid"] == "evt-1"
    (seen,) = receiver.requests
    assert seen.method == "POST" and seen.path == "/hook"
    expected = "sha256=" + hmac.new(b"k", seen.body, hashlib.sha256).hexdigest()
    assert seen.headers["X-Meshes-Signature"] == expected
    assert seen.body == request.body


def test_redirect_counts_as_delivered_and_is_not_followed() -> None:
    with Receiver() as receiver:
        receiver.replies["/hook"] = Reply(302, {"Location": receiver.url + "/elsewhere"})
        outcome = send(webhook.build_request(meta(url=receiver.url + "/hook"), EVENT, SENT))
    assert outcome.code == "delivered" and outcome.http_status == 302
    assert [r.path for r in receiver.requests] == ["/hook"]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "rejected_server_error"),
        (404, "destination_not_found"),
        (401, "auth_failed"),
        (422, "validation_failed"),
        (410, "destination_gone"),
    ],
)
def test_send_failure_statuses(status: int, code: str) -> None:
    body = b'{"error": {"code": "E_BAD", "message": "nope"}}'
    with Receiver() as receiver:
        receiver.replies["/hook"] = Reply(status, {"X-Trace": "t1"}, body)
        outcome = send(webhook.build_request(meta(url=receiver.url + "/hook"), EVENT, SENT))
    assert outcome.code == code and outcome.http_status == status
    assert outcome.message is not None and str(status) in outcome.message
    assert outcome.response is not None
    assert outcome.response.headers["x-trace"] == "t1"
    assert outcome.response.provider_error_code == "E_BAD"
    assert outcome.response.body == body.decode()


def test_rate_limited_keeps_retry_after() -> None:
    with Receiver() as receiver:
        receiver.replies["/hook"] = Reply(429, {"Retry-After": "20"})
        outcome = send(webhook.build_request(meta(url=receiver.url + "/hook"), EVENT, SENT))
    assert outcome.code == "rate_limited" and outcome.retry_after == 20.0


def test_long_body_is_truncated() -> None:
    with Receiver() as receiver:
        receiver.replies["/hook"] = Reply(500, {}, b"x" * 10000)
        outcome = send(webhook.build_request(meta(url=receiver.url + "/hook"), EVENT, SENT))
    assert outcome.response is not None and outcome.response.body is not None
    assert len(outcome.response.body) < 5000


def test_timeout() -> None:
    release = threading.Event()
    with Receiver() as receiver:
        receiver.replies["/hook"] = Reply(200, block=release)
        outcome = send(webhook.build_request(meta(url=receiver.url + "/hook"), EVENT, SENT), 0.2)
        release.set()
    assert outcome.code == "timeout"
    assert outcome.message == "Webhook request timed out after 0.2s"
    assert outcome.http_status is None


def test_refused_connection_is_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = send(webhook.build_request(meta(url=f"http://127.0.0.1:{port}/hook"), EVENT, SENT))
    assert outcome.code == "network_error"
    assert outcome.message is not None and outcome.message.startswith("Webhook request failed")


def send_all(requests: list[webhook.WebhookRequest],
             max_answer: int = webhook.MAX_ANSWER_BYTES) -> list[Outcome]:
    """Send `requests` one after another through one client."""

    async def run() -> list[Outcome]:
        async with webhook_client.WebhookClient(4) as client:
            send = webhook_client.send_webhook
            return [await send(client, r, 5.0, max_answer=max_answer) for r in requests]

    return run_async(run())


def test_the_receiver_sees_only_our_headers_and_the_transport_ones() -> None:
    with Receiver() as receiver:
        outcome = send(webhook.build_request(meta(url=receiver.url + "/hook"), EVENT, SENT))
    assert outcome.code == "delivered"
    (seen,) = receiver.requests
    assert seen.headers == {
        "Host": receiver.url.removeprefix("http://"),
        "Accept": "*/*",
        "Accept-Encoding": "identity",  # an answer is read as sent: the cap bounds what is held
        "Connection": "keep-alive",
        "Content-Type": "application/json",
        "User-Agent": webhook.USER_AGENT,
        "Content-Length": str(len(seen.body)),
    }


def test_url_userinfo_is_sent_as_basic_auth_and_never_shown() -> None:
    with Receiver() as receiver:
        url = receiver.url.replace("http://", "http://us%40er:p%3Ass-word@") + "/hook"
        outcome = send(webhook.build_request(meta(url=url), EVENT, SENT))
        with_bearer = meta(url=url, auth_scheme="bearer", bearer_token="t")
        bearer = send(webhook.build_request(with_bearer, EVENT, SENT))
    assert outcome.code == bearer.code == "delivered"
    basic = "Basic " + base64.b64encode(b"us@er:p:ss-word").decode()
    assert [(r.path, r.headers["Authorization"]) for r in receiver.requests] == [("/hook", basic)] * 2
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = send(webhook.build_request(meta(url=f"http://user:s3cret-pw@127.0.0.1:{port}/x"), EVENT, SENT))
    assert refused.code == "network_error" and refused.message is not None
    assert "s3cret-pw" not in refused.message and "s3cret-pw" not in str(refused.request)


def test_webhooks_to_one_receiver_reuse_one_connection() -> None:
    with Receiver() as receiver:
        request = webhook.build_request(meta(url=receiver.url + "/hook"), EVENT, SENT)
        outcomes = send_all([request] * 20)
    assert [o.code for o in outcomes] == ["delivered"] * 20
    assert len(receiver.on("/hook")) == 20 and len(receiver.peers("/hook")) == 1


def test_a_connection_the_receiver_closed_while_idle_is_not_reused() -> None:
    """A receiver ending a kept-alive connection (its idle timeout) does not fail the next send."""

    async def run(request: webhook.WebhookRequest, receiver: Receiver) -> list[Outcome]:
        async with webhook_client.WebhookClient(4) as client:
            first = await webhook_client.send_webhook(client, request, 5.0)
            await asyncio.to_thread(receiver.hung_up.wait, 5)  # the socket is closed by now
            await asyncio.sleep(0)
            return [first, await webhook_client.send_webhook(client, request, 5.0)]

    with Receiver() as receiver:
        receiver.replies["/bye"] = Reply(200, hang_up=True)
        request = webhook.build_request(meta(url=receiver.url + "/bye"), EVENT, SENT)
        outcomes = run_async(run(request, receiver))
    assert [o.code for o in outcomes] == ["delivered"] * 2
    assert len(receiver.peers("/bye")) == 2


def test_a_chunked_answer_is_read_whole_and_the_connection_kept() -> None:
    body = b'{"error": {"code": "E_CHUNKED"}, "pad": "' + b"p" * 3000 + b'"}'
    with Receiver() as receiver:
        receiver.replies["/chunked"] = Reply(503, {"Content-Type": "application/json"}, body, chunked=100)
        request = webhook.build_request(meta(url=receiver.url + "/chunked"), EVENT, SENT)
        first, second = send_all([request, request])
    assert first.code == second.code == "rejected_server_error"
    assert first.response is not None and first.response.body == body.decode()
    assert first.response.provider_error_code == "E_CHUNKED"
    assert "content-length" not in first.response.headers
    assert first.response.headers["transfer-encoding"] == "chunked"
    assert len(receiver.peers("/chunked")) == 1


def test_the_answer_cap_closes_the_connection_instead_of_keeping_it() -> None:
    """An answer cut by the cap while still arriving: the rest is never read, the socket not reused."""
    with Receiver() as receiver:
        receiver.replies["/big"] = Reply(200, {"Content-Type": "text/plain"}, b"b" * (4 * 1024 * 1024))
        receiver.replies["/chunked"] = Reply(200, {}, b"c" * (4 * 1024 * 1024), chunked=64 * 1024)
        big = webhook.build_request(meta(url=receiver.url + "/big"), EVENT, SENT)
        chunked = webhook.build_request(meta(url=receiver.url + "/chunked"), EVENT, SENT)
        outcomes = send_all([big, big, chunked, chunked], max_answer=1000)
    assert [o.code for o in outcomes] == ["delivered"] * 4
    assert [o.response.body if o.response else None for o in outcomes] == ["b" * 1000] * 2 + ["c" * 1000] * 2
    assert len({r.peer for r in receiver.requests}) == 4  # a new connection every time


def test_a_client_moves_to_a_new_event_loop() -> None:
    """The session belongs to its loop: a send on a later loop makes a new one and the old one is
    dropped quietly (an unclosed-session warning would fail the test run)."""
    client = webhook_client.WebhookClient(2)
    with Receiver() as receiver:
        receiver.replies["/once"] = Reply(200, {"Connection": "close"})  # no socket left open
        request = webhook.build_request(meta(url=receiver.url + "/once"), EVENT, SENT)
        first = run_async(webhook_client.send_webhook(client, request, 5.0))
        second = run_async(webhook_client.send_webhook(client, request, 5.0))
        run_async(client.close())  # on yet another loop: dropped too
        third = run_async(webhook_client.send_webhook(client, request, 5.0))
        run_async(client.close())  # on its own loop: closed
    assert [first.code, second.code, third.code] == ["delivered"] * 3
    assert len(receiver.peers("/once")) == 3
