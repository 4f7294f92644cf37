"""Shared pieces of the wire models."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError

from meshes_emulator.errors import BadRequest, ValidationFailed

M = TypeVar("M", bound=BaseModel)


class RequestModel(BaseModel):
    """Request bodies: JSON types are strict (no "true" for true); unknown keys are ignored.

    `defer_build`: a model's validator is built on its first use, not at import (a cold start
    then skips the models it does not need yet).
    """

    model_config = ConfigDict(strict=True, extra="ignore", defer_build=True)


UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# A UUID in a body, read in lower case: ids are stored lower case and a UUID is case-insensitive
# (RFC 9562), so `0B1C...` names the same workspace as `0b1c...` (docs/behaviour.md).
Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN, to_lower=True)]


def integral(value: Any) -> Any:
    """3600.0 is the integer 3600: JSON has one number type and JSON Schema (the reference
    OpenAPI 3.1's) counts a number with a zero fraction as an integer."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


JsonInt = Annotated[int, BeforeValidator(integral)]


def lower_id(value: Any) -> Any:
    """A seed file's id as stored (lower case, like `Uuid`); anything else unchanged."""
    return value.lower() if isinstance(value, str) else value


NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]
ResourceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]


def validate(model: type[M], data: Any) -> M:
    """Validate `data` against a pydantic model, turning errors into a 400 with `error.data`."""
    if not isinstance(data, dict):
        raise BadRequest(detail="The request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(validation_problems(exc)) from None


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    """[{param, msg}] from a pydantic error, with dotted parameter paths."""
    problems = []
    for item in exc.errors(include_url=False):
        param = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append({"param": param, "msg": item["msg"]})
    return problems
