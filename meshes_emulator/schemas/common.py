"""Shared pieces of the wire models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class RequestModel(BaseModel):
    """Request bodies: JSON types are strict (no "true" for true); unknown keys are ignored.

    `defer_build`: a model's validator is built on its first use, not at import (a cold start
    then skips the models it does not need yet).
    """

    model_config = ConfigDict(strict=True, extra="ignore", defer_build=True)


NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]
ResourceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
