"""The one error hierarchy and the one function that renders Meshes' error body.

Body (reference §4.1, behavior §2.2)::

    {"message": <summary>, "error": {"name": <Name>, "message": <detail>, "data"?: [{param, msg}]}}

    ApiError (status, name, message, detail, data)
      BadRequest 400 · Unauthorized 401 · Forbidden 403 · NotFound 404 · MethodNotAllowed 405
      Conflict 409 · PayloadTooLarge 413 · UnprocessableEntity 422 · TooEarly 425
      TooManyRequests 429 · NotImplementedInEmulator 501 · ServiceUnavailable 503
"""

from __future__ import annotations

from typing import Any

STATUS_NAMES = {
    400: ("BadRequest", "Bad Request"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "Forbidden"),
    404: ("NotFound", "Not Found"),
    405: ("MethodNotAllowed", "Method Not Allowed"),
    409: ("Conflict", "Conflict"),
    413: ("PayloadTooLarge", "Payload Too Large"),
    415: ("UnsupportedMediaType", "Unsupported Media Type"),
    421: ("MisdirectedRequest", "Misdirected Request"),
    422: ("UnprocessableEntity", "Unprocessable Entity"),
    425: ("TooEarly", "Too Early"),
    429: ("TooManyRequests", "Too Many Requests"),
    431: ("RequestHeaderFieldsTooLarge", "Request Header Fields Too Large"),
    500: ("InternalServerError", "Internal Server Error"),
    501: ("NotImplemented", "Not Implemented"),
    503: ("ServiceUnavailable", "Service Unavailable"),
    507: ("InsufficientStorage", "Insufficient Storage"),
}


def error_body(
    status: int,
    message: str | None = None,
    detail: str | None = None,
    data: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Render the Meshes error body for `status`."""
    name, phrase = STATUS_NAMES.get(status, ("Error", "Error"))
    summary = message or phrase
    error: dict[str, Any] = {"name": name, "message": detail or summary}
    if data:
        error["data"] = data
    return {"message": summary, "error": error}


class ApiError(Exception):
    """An error answered with the Meshes body. `message` is the top-level summary."""

    status = 500

    def __init__(
        self,
        message: str | None = None,
        *,
        detail: str | None = None,
        data: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or STATUS_NAMES.get(self.status, ("", "Error"))[1]
        self.detail = detail
        self.data = data
        self.headers = headers or {}
        super().__init__(self.message if detail is None else f"{self.message}: {detail}")

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message, self.detail, self.data)


class BadRequest(ApiError):
    status = 400


class ValidationFailed(BadRequest):
    """400 with per-parameter problems in `error.data`."""

    def __init__(self, data: list[dict[str, str]], detail: str | None = None) -> None:
        first = f"{data[0]['param']}: {data[0]['msg']}" if data else "Invalid request"
        super().__init__("Bad Request", detail=detail or first, data=data)


class Unauthorized(ApiError):
    status = 401

    def __init__(self, detail: str = "Missing or invalid credentials") -> None:
        super().__init__("Unauthorized", detail=detail)


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class UnprocessableEntity(ApiError):
    status = 422


class TooEarly(ApiError):
    status = 425


class TooManyRequests(ApiError):
    status = 429


class ServiceUnavailable(ApiError):
    status = 503


class NotImplementedInEmulator(ApiError):
    """An operation of the reference that this emulator does not build (yet)."""

    status = 501

    def __init__(self, operation: str) -> None:
        super().__init__(
            "Not Implemented",
            detail=f"{operation} is not implemented by meshes-emulator",
        )


def not_found(kind: str) -> NotFound:
    """`NotFound("Workspace not found")` and friends, worded like the reference fixture."""
    return NotFound(f"{kind} not found")
