"""The error responses every ``/api`` route can give, declared in the OpenAPI spec.

Routes raise ``HTTPException`` (body ``{"detail": …}``); the Pulsedive-compatible
paths answer ``{"error": "…"}``. Which statuses a route can return follows from what
sits in front of it and what it takes:

* every ``/api`` route: **401** (no key, a bad, revoked or expired key) and **429**
  (too many failed authentications from the address);
* a route with parameters or a body: **422** (validation; NUL in text);
* a route that changes something (POST, PUT, PATCH, DELETE): **403** (the key or the
  role may not), **404** (an enclave or object it names is invisible), **409**
  (conflicts, ambiguous values), **413** (body over the size limit) and **400** (a
  bad ``Content-Length``);
* a read with parameters: **404** (the named object is not visible); the reads in
  :data:`ADMIN_READS` also **403**.

A route keeps whatever it declares itself (``responses=`` on its decorator); the
rules only fill in what is missing. :func:`document_errors` installs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

__all__ = ["ADMIN_READS", "document_errors", "error_responses"]

#: Reads that refuse some authenticated callers with 403 (administration).
ADMIN_READS = frozenset(
    {
        "/api/v1/users",
        "/api/v1/users/{name}",
        "/api/v1/keys",
        "/api/v1/keys/{key_id}",
        "/api/v1/enclaves/{enclave}/members",
        "/api/v1/audit",
    }
)

_PULSEDIVE = ("/api/info.php", "/api/explore.php", "/api/analyze.php")

_DESCRIPTIONS = {
    400: "Malformed request (bad Content-Length; Pulsedive paths: a missing or invalid value)",
    401: "No API key, or a key that is invalid, revoked or expired",
    403: "Authenticated, but this key or role may not do this",
    404: "Not found, or not visible to this key",
    409: "Conflicts with existing data, or names several indicators",
    413: "Request body over the size limit",
    422: "Validation error",
    429: "Too many failed authentications from this address; see Retry-After",
}

_DETAIL = {
    "title": "ErrorDetail",
    "type": "object",
    "properties": {
        "detail": {
            "title": "Detail",
            "anyOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}],
        }
    },
    "required": ["detail"],
}

_PULSEDIVE_ERROR = {
    "title": "PulsediveError",
    "type": "object",
    "properties": {"error": {"title": "Error", "type": "string"}},
    "required": ["error"],
}


def _codes(path: str, method: str, op: dict[str, Any]) -> set[int]:
    has_input = bool(op.get("parameters")) or "requestBody" in op
    codes = {401, 429}
    if path.startswith(_PULSEDIVE):
        return codes | {400, 403, 404, 422} | ({413} if method == "post" else set())
    if has_input:
        codes |= {422}
    if method != "get":
        codes |= {400, 403, 404, 409, 413, 422}
    elif has_input:
        codes |= {404}
    if path in ADMIN_READS:
        codes |= {403}
    return codes


def error_responses(path: str, method: str, op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The error responses the rules give operation ``op`` (``method`` in lower case)."""
    pulsedive = path.startswith(_PULSEDIVE)
    out = {}
    for code in sorted(_codes(path, method, op)):
        if code == 422 and not pulsedive:
            ref = "#/components/schemas/HTTPValidationError"
        else:
            ref = f"#/components/schemas/{'PulsediveError' if pulsedive else 'ErrorDetail'}"
        out[str(code)] = {
            "description": _DESCRIPTIONS[code],
            "content": {"application/json": {"schema": {"$ref": ref}}},
        }
    return out


def _fill(spec: dict[str, Any]) -> None:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorDetail", _DETAIL)
    schemas.setdefault("PulsediveError", _PULSEDIVE_ERROR)
    schemas.setdefault(
        "HTTPValidationError",
        {"title": "HTTPValidationError", "type": "object", "properties": {"detail": _DETAIL}},
    )
    for path, item in spec.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for code, response in error_responses(path, method, op).items():
                op["responses"].setdefault(code, response)


def document_errors(app: FastAPI) -> None:
    """Declare the error responses of every ``/api`` route in ``app``'s OpenAPI spec."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        spec = generate()
        if not done or done[0] is not spec:
            _fill(spec)
            done[:] = [spec]
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
