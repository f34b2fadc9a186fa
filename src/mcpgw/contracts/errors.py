"""One root error type with stable codes, shared by every service and by the bus."""

from __future__ import annotations

import enum

import msgspec


class ErrorCode(enum.StrEnum):
    """Stable error codes. The string values are API: clients and other services match on them."""

    INVALID_PARAMETER = "InvalidParameter"
    NOT_FOUND = "NotFound"
    CONFLICT = "Conflict"
    UNAUTHORIZED = "Unauthorized"
    FORBIDDEN = "Forbidden"
    PAYLOAD_TOO_LARGE = "PayloadTooLarge"
    UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"
    NO_RESPONDERS = "ServiceUnavailable"
    TIMEOUT = "Timeout"
    # The worker that took a request stopped showing signs of life before it answered (it died,
    # or the NATS connection to it did): the work may or may not have been done.
    WORKER_LOST = "WorkerLost"
    INTERNAL = "InternalError"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_PARAMETER: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.NO_RESPONDERS: 503,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.WORKER_LOST: 503,
    ErrorCode.INTERNAL: 500,
}


class McpgwError(Exception):
    """The root of every error mcpgw raises on purpose.

    `message` is safe to show to a caller: it never carries a secret or a traceback.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)

    def to_reply(self) -> ErrorReply:
        return ErrorReply(code=self.code, message=self.message)

    def __repr__(self) -> str:
        return f"McpgwError({self.code.value!r}, {self.message!r})"


def invalid(field: str, problem: str) -> McpgwError:
    """An invalid-input error whose message starts with the offending field's name."""
    return McpgwError(ErrorCode.INVALID_PARAMETER, f"{field}: {problem}")


class ErrorReply(msgspec.Struct, kw_only=True, tag="error.v1", tag_field="kind"):
    """What a worker answers on the bus instead of its normal reply when it fails."""

    code: ErrorCode
    message: str

    def to_exception(self) -> McpgwError:
        return McpgwError(self.code, self.message)
