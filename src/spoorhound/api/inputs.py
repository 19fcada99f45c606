"""Input hygiene shared by the v1 routers: text with a NUL character is a 422.

No indicator, tag, enclave, source, note or query contains NUL, and PostgreSQL
text cannot hold one (the driver raises, which would be a 500), so NUL in a path,
a query parameter or a JSON body field is refused as a client error on both
dialects. The check runs after authentication, so a request without a key is
still a 401 whatever it carries.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from pydantic import BaseModel, ConfigDict, model_validator

from spoorhound.api.auth import CallerDep

__all__ = ["CleanInput", "reject_nul"]

_NUL = "\x00"
_MESSAGE = "text must not contain NUL characters"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return _NUL in value
    if isinstance(value, list | tuple | set):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


async def reject_nul(request: Request, caller: CallerDep) -> None:
    """A router dependency: 422 when the path or a query parameter holds a NUL."""
    # `async`: no I/O, so no hand-off to the thread pool on every request it guards.
    if _NUL in request.url.path or _has_nul(list(request.query_params.multi_items())):
        raise HTTPException(status_code=422, detail=f"path and query {_MESSAGE}")


class CleanInput(BaseModel):
    """A request body: unknown fields and NUL characters in any text are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nul(self) -> CleanInput:
        if any(_has_nul(getattr(self, name)) for name in type(self).model_fields):
            raise ValueError(_MESSAGE)
        return self
