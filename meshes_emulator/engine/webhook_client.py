"""Sending a webhook (behavior §4.5): the pooled client, one deadline, the answer classified.

`engine/webhook.py` builds the request; this module sends it. Choices where the reference is
silent (docs/behaviour.md): success is any 2xx or 3xx (redirects are not followed); one deadline
covers the whole attempt (connect, send, every read; default 10 s); at most 64 KiB of an
answer's body is read (the connection is then closed, not kept); a URL's userinfo is sent as
basic auth and masked in every message.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import orjson

from meshes_emulator.catalog import MASK
from meshes_emulator.catalog.credentials import mask_url
from meshes_emulator.engine import outcomes
from meshes_emulator.engine.outcomes import Outcome, OutcomeCode, ResponseDetails
from meshes_emulator.engine.webhook import DEFAULT_TIMEOUT, MAX_ANSWER_BYTES, WebhookRequest

if TYPE_CHECKING:  # aiohttp is imported when the first webhook is sent (it takes time to import)
    import aiohttp


def _provider_error_code(body: str) -> str | None:
    """A short error code from a JSON error body (`code`, `error_code`, `error.code`), if any."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    candidates = [data.get("code"), data.get("error_code")]
    if isinstance(data.get("error"), dict):
        candidates.append(data["error"].get("code"))
    elif isinstance(data.get("error"), str):
        candidates.append(data["error"])
    for value in candidates:
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)[:128]
    return None


@functools.lru_cache(maxsize=256)
def _split_userinfo(url: str) -> tuple[str, str | None]:
    """(the URL without userinfo, the `Authorization` value its userinfo asks for, if any).

    The userinfo is sent as basic auth (percent-decoded, UTF-8) and never as part of the URL, so
    no message or log line of the HTTP client can show the password.
    """
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None
    username, _, password = userinfo.partition(":")
    pair = f"{unquote(username)}:{unquote(password)}".encode()
    return parts._replace(netloc=host).geturl(), "Basic " + base64.b64encode(pair).decode("ascii")


def _masked_text(text: str, url: str) -> str:
    """`text` without the secret of `url`'s userinfo (an error message may quote the URL)."""
    masked = mask_url(url)
    if masked == url:
        return text
    text = text.replace(url, masked)
    try:
        secret = urlsplit(url).password or urlsplit(url).username
    except ValueError:
        secret = None
    return text.replace(secret, MASK) if secret and len(secret) > 2 else text


def _decode(body: bytes, content_type: str) -> str:
    """The answer's text in the charset it names; UTF-8 (bad bytes replaced) when Python has no
    text codec of that name or the codec fails whatever the errors handler (a receiver picks it)."""
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return body.decode(charset, "replace")
    except (LookupError, ValueError):  # unknown, or a codec that fails anyway (idna, punycode)
        return body.decode("utf-8", "replace")


MAX_HEADER_VALUE_CHARS = 1024  # of one answer header's value kept in the response details
MAX_HEADER_CHARS = 8192  # of all kept names and values together; later headers are dropped


def kept_headers(headers: dict[str, str]) -> dict[str, str]:
    """The answer headers recorded in the response details: each value cut at
    MAX_HEADER_VALUE_CHARS (marked like a cut body), and only the first headers that fit in
    MAX_HEADER_CHARS. A receiver may answer ~1 MB of headers (aiohttp reads 128 of 8 KiB)."""
    kept: dict[str, str] = {}
    total = 0
    for name, value in headers.items():
        value = outcomes.truncate_body(value, MAX_HEADER_VALUE_CHARS) or ""
        total += len(name) + len(value)
        if total > MAX_HEADER_CHARS:
            break
        kept[name] = value
    return kept


def sent_secrets(request: WebhookRequest) -> tuple[str, ...]:
    """The credentials `request` carries, longest first: the values of its secret headers, their
    Bearer/Basic part, a Basic password, and the basic auth made of the URL's userinfo. An
    answer echoing the request (an echo server, a debug endpoint) must not record them."""
    names = set(request.meta.get("secret_headers", ()))
    values = [value for name, value in request.headers.items() if name.lower() in names]
    userinfo_auth = _split_userinfo(request.url)[1]
    if userinfo_auth is not None:
        values.append(userinfo_auth)
    found = set(values)
    for value in values:
        scheme, _, credential = value.partition(" ")
        if scheme.lower() in ("bearer", "basic") and credential:
            found.add(credential)
        if scheme.lower() == "basic":
            with contextlib.suppress(ValueError):  # not base64 of UTF-8: nothing more to hide
                found.add(base64.b64decode(credential).decode().partition(":")[2])
    return tuple(sorted((secret for secret in found if len(secret) >= 4), key=len, reverse=True))


def _hidden(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def classify_answer(status: int, reason: str, headers: dict[str, str], body: bytes, now: datetime,
                    secrets: tuple[str, ...] = ()) -> Outcome:
    """The outcome for a destination's answer (status, headers and a truncated body kept; the
    `secrets` the request carried masked in them)."""
    text = _decode(body, headers.get("content-type", "")) if body else ""
    if secrets:
        text, reason = _hidden(text, secrets), _hidden(reason, secrets)
        headers = {name: _hidden(value, secrets) for name, value in headers.items()}
    details = ResponseDetails(
        http_status=status,
        headers=kept_headers(headers),
        body=outcomes.truncate_body(text),
        provider_error_code=None if 200 <= status < 300 else _provider_error_code(text),
    )
    code = outcomes.code_for_status(status)
    if code == OutcomeCode.DELIVERED:
        return Outcome(code, f"HTTP {status} {reason}".strip(), status, None, details)
    retry_after = None
    if code == OutcomeCode.RATE_LIMITED:
        retry_after = outcomes.parse_retry_after(headers.get("retry-after"), now)
    message = f"Webhook endpoint answered HTTP {status} {reason}".strip()
    return Outcome(code, message, status, retry_after, details)


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of the answer's body (as sent, no decompression) and whether the
    cap cut it (the rest is never read: the connection is then closed instead of being kept)."""
    chunks: list[bytes] = []
    size = 0
    content = response.content
    while size < limit:
        chunk = await content.read(limit - size)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), not content.at_eof()


def _clean(text: str) -> str:
    """`text` as valid UTF-8: aiohttp decodes the bytes of a reason phrase or a header that are
    not UTF-8 to lone surrogates, which SQLite cannot store (each becomes `?`)."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


def _answer_headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    """The answer's headers, names in lower case, repeated ones joined with `, ` (valid UTF-8)."""
    headers: dict[str, str] = {}
    for name, value in response.headers.items():
        key, value = _clean(name.lower()), _clean(value)
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


async def send_webhook(
    client: WebhookClient,
    request: WebhookRequest,
    timeout: float = DEFAULT_TIMEOUT,
    now: datetime | None = None,
    max_answer: int = MAX_ANSWER_BYTES,
) -> Outcome:
    """Send the request once; never raises for transport problems (they become outcomes).

    `timeout` bounds the whole attempt: connect, send and every read of the answer together.
    At most `max_answer` bytes of the answer body are read.
    """
    try:
        async with asyncio.timeout(timeout):
            status, reason, headers, body = await client.exchange(request, max_answer)
    except Exception as exc:  # every transport failure becomes an outcome
        code = outcomes.code_for_exception(exc)
        if code == OutcomeCode.TIMEOUT:
            message = f"Webhook request timed out after {timeout:g}s"
        elif code == OutcomeCode.NETWORK_ERROR:
            message = f"Webhook request failed: {type(exc).__name__}: {exc}".rstrip(": ")
        else:
            message = f"Webhook request could not be sent: {type(exc).__name__}: {exc}"
        return Outcome(code, _clean(_masked_text(message, request.url)), request=request.as_record())
    when = now or request.meta.get("sent_at") or datetime.fromtimestamp(0, UTC)
    outcome = classify_answer(status, reason, headers, body, when, sent_secrets(request))
    return outcome.with_request(request.as_record())


class WebhookClient:
    """The pooled keep-alive HTTP client webhooks are sent with: one aiohttp session (created on
    the first send, aiohttp imported then) with up to `connections` sockets, idle ones kept 5 s.

    The session belongs to the event loop it was made in: on another loop it is dropped and a new
    one made. Requests carry exactly the headers `build_request` made plus `Accept: */*`,
    `Accept-Encoding: identity` (an answer is read as sent, so the answer cap bounds memory),
    `Connection: keep-alive`, `Host` and `Content-Length` (what the httpx client sent before).
    """

    def __init__(self, connections: int) -> None:
        self.connections = max(1, connections)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession:
        """The session of the running loop (made on first use)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            self.drop()
            self._session = _new_session(self.connections)
            self._loop = loop
        return self._session

    async def exchange(
        self, request: WebhookRequest, max_answer: int
    ) -> tuple[int, str, dict[str, str], bytes]:
        """Send `request`; (status, reason, headers in lower case, at most `max_answer` bytes of
        the body). Redirects are not followed; no deadline here (the caller sets one)."""
        url, authorization = _split_userinfo(request.url)
        headers = request.headers
        if authorization is not None:  # the URL's userinfo wins, as it did with httpx
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            headers["Authorization"] = authorization
        response = await self.session().request(
            request.method, url, data=request.body, headers=headers, allow_redirects=False)
        try:
            body, cut = await _read_capped(response, max_answer)
        except BaseException:
            response.close()
            raise
        if cut:
            response.close()  # the rest of the answer is never read: the socket is not reused
        else:
            response.release()
        return response.status, _clean(response.reason or ""), _answer_headers(response), body

    def drop(self) -> None:
        """Forget the session without waiting (its loop is gone or is not this one)."""
        session, self._session, self._loop = self._session, None, None
        connector = session.connector if session is not None else None
        if connector is not None and not connector.closed:
            connector._close()  # synchronous: closes the sockets, marks the session closed

    async def close(self) -> None:
        """Close the session and its connections (a later send makes a new one)."""
        session, loop = self._session, self._loop
        if session is None:
            return
        if loop is not asyncio.get_running_loop():
            self.drop()
            return
        self._session = self._loop = None
        await session.close()

    async def __aenter__(self) -> WebhookClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _new_session(connections: int) -> aiohttp.ClientSession:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=0, keepalive_timeout=5.0)
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(),  # none: the caller's one deadline covers the attempt
        headers={"Accept": "*/*", "Accept-Encoding": "identity", "Connection": "keep-alive"},
    )
