"""A typed Python client for the Spoorhound API (sync, httpx).

    from spoorhound.client import Client

    with Client("https://spoorhound.example", key="sk_…") as api:
        api.info("evil.example.com")
        qid = api.analyze("evil.example.com", probe=True)
        api.wait_analysis(qid)

Errors are one small tree, documented on :class:`SpoorhoundError`.
"""

from spoorhound.client._client import (
    APIError,
    AuthenticationError,
    Client,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    SpoorhoundError,
    TransportError,
    ValidationError,
    WaitTimeout,
)

__all__ = [
    "APIError",
    "AuthenticationError",
    "Client",
    "Conflict",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "SpoorhoundError",
    "TransportError",
    "ValidationError",
    "WaitTimeout",
]
