"""The client and its exceptions (public names are re-exported by :mod:`spoorhound.client`)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import IO, Any, Literal, Self
from urllib.parse import quote

import httpx

from spoorhound import __version__


class SpoorhoundError(Exception):
    """Base of every error the client raises.

    The tree::

        SpoorhoundError
        ├── TransportError        the server could not be reached, or did not answer in time
        ├── WaitTimeout           a job or analysis still runs after the wait's timeout
        └── APIError              the server answered with an error status
            ├── ValidationError       400, 422: the request is invalid (bad value, bad query…)
            ├── AuthenticationError   401: no key, or the key is invalid, revoked or expired
            ├── PermissionDenied      403: authenticated but not allowed
            ├── NotFound              404: does not exist, or is not visible to this key
            ├── Conflict              409: contradicts existing data, or is ambiguous
            ├── RateLimited           429: throttled; ``retry_after`` seconds when known
            └── ServerError           5xx

    :class:`APIError` carries ``status`` and ``detail`` (the server's explanation).
    Messages never contain the API key.
    """


class TransportError(SpoorhoundError):
    """The request did not get an answer (connection refused, DNS, TLS, time-out)."""


class WaitTimeout(SpoorhoundError):
    """Waiting for a job or an analysis took longer than allowed."""


class APIError(SpoorhoundError):
    """The server answered with an error status."""

    def __init__(self, status: int, detail: Any, method: str = "", path: str = "") -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"{method} {path}: HTTP {status}: {detail}".strip())


class ValidationError(APIError):
    """400 / 422: the request is invalid."""


class AuthenticationError(APIError):
    """401: no key, or a key the server refuses."""


class PermissionDenied(APIError):
    """403: the key may not do this."""


class NotFound(APIError):
    """404: not there, or not visible to this key."""


class Conflict(APIError):
    """409: contradicts existing data or names several things."""


class RateLimited(APIError):
    """429: throttled; ``retry_after`` is the server's ``Retry-After`` in seconds, if any."""

    def __init__(self, status: int, detail: Any, method: str = "", path: str = "", *,
                 retry_after: float | None = None) -> None:  # fmt: skip
        super().__init__(status, detail, method, path)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: ValidationError,
    422: ValidationError,
}

_RUNNING = frozenset({"running", "queued", "pending", "processing"})


def _seg(value: str) -> str:
    """One path segment, every reserved character escaped (values may hold / ? #)."""
    return quote(value, safe="")


def _list(values: Sequence[str] | None) -> list[str] | None:
    return list(values) if values else None


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class Client:
    """Synchronous client for one Spoorhound server and one API key.

    ``base_url`` is the server root (``https://host:8000``); ``key`` is sent as
    ``Authorization: Bearer`` and never appears in ``repr`` or error messages.
    ``transport`` replaces httpx's network transport (tests). Use as a context
    manager, or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        key: str | None = None,
        *,
        timeout: float = 30.0,
        verify: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"User-Agent": f"spoorhound-client/{__version__}", "Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._prefix = key.split("_")[1] if key and key.count("_") >= 2 else None
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            verify=verify,
            transport=transport,
        )

    def __repr__(self) -> str:
        key = f"sk_{self._prefix}_***" if self._prefix else ("***" if self._has_key() else None)
        return f"Client({self.base_url!r}, key={key!r})"

    def _has_key(self) -> bool:
        return "authorization" in self._http.headers

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- plumbing ---------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request; returns the decoded JSON body (None for 204) or raises."""
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as e:
            raise TransportError(f"{method} {path}: timed out ({type(e).__name__})") from None
        except httpx.HTTPError as e:
            raise TransportError(f"{method} {path}: {type(e).__name__}: {e}") from None
        if resp.status_code >= 400:
            raise self._error(resp, method, path)
        if resp.status_code == 204 or not resp.content:
            return None
        ctype = resp.headers.get("content-type", "")
        return resp.json() if "json" in ctype else resp.text

    @staticmethod
    def _error(resp: httpx.Response, method: str, path: str) -> APIError:
        try:
            body = resp.json()
            detail = body.get("detail", body.get("error", body)) if isinstance(body, dict) else body
        except ValueError:
            detail = resp.text[:500]
        code = resp.status_code
        if code == 429:
            after = resp.headers.get("retry-after")
            retry = float(after) if after and after.replace(".", "", 1).isdigit() else None
            return RateLimited(code, detail, method, path, retry_after=retry)
        cls = _BY_STATUS.get(code, ServerError if code >= 500 else APIError)
        return cls(code, detail, method, path)

    def _get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=_clean(params))

    def _wait(self, fetch: Any, what: str, timeout: float, poll: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            got: dict[str, Any] = fetch()
            if got.get("status") not in _RUNNING:
                return got
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"{what} still {got.get('status')} after {timeout:g} s")
            time.sleep(poll)

    # -- health -----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Liveness and schema state (needs no key)."""
        result: dict[str, Any] = self._get("/health")
        return result

    # -- indicators -------------------------------------------------------------------

    def indicator(self, ref: str, *, type: str | None = None) -> dict[str, Any]:
        """Everything visible about the indicator(s) ``ref`` (a value or an id) names."""
        result: dict[str, Any] = self._get(f"/api/v1/indicators/{_seg(ref)}", type=type)
        return result

    def lookup(
        self, value: str, *, enclaves: Sequence[str] | None = None, type: str | None = None
    ) -> list[dict[str, Any]]:
        """Every indicator ``value`` names, as the local ``lookup`` shows it (``enclaves``
        narrows to those enclaves; it never widens what the key sees)."""
        got = self._get(f"/api/indicators/{_seg(value)}", enclave=_list(enclaves), type=type)
        result: list[dict[str, Any]] = got["indicators"]
        return result

    def search(self, q: str = "", *, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
        """One page of indicators matching query ``q``: ``{"indicators", "cursor"}``."""
        result: dict[str, Any] = self._get("/api/v1/indicators", q=q, limit=limit, cursor=cursor)
        return result

    def iter_search(self, q: str = "", *, page_size: int = 500) -> Iterator[dict[str, Any]]:
        """Every indicator matching ``q``, page after page."""
        cursor: str | None = None
        while True:
            page = self.search(q, limit=page_size, cursor=cursor)
            yield from page["indicators"]
            cursor = page.get("cursor")
            if not cursor:
                return

    def create_indicator(self, value: str, enclave: str, **fields: Any) -> dict[str, Any]:
        """Store ``value`` in ``enclave`` (``type``, ``tags``, ``tlp``, ``confidence``,
        ``source``, ``notes`` optional); returns ``{"id", "type", "value", "new"}``."""
        body = {"value": value, "enclave": enclave, **_clean(fields)}
        result: dict[str, Any] = self.request("POST", "/api/v1/indicators", json=body)
        return result

    def update_indicator(self, ref: str, enclave: str, **changes: Any) -> dict[str, Any]:
        """Change this key's observation of ``ref`` in ``enclave``: ``source`` (which
        observation), ``tlp``, ``confidence``, ``notes`` (``None`` clears them),
        ``add_tags``, ``remove_tags``, ``type``; returns the indicator as :meth:`indicator`."""
        itype = changes.pop("type", None)
        result: dict[str, Any] = self.request(
            "PATCH", f"/api/v1/indicators/{_seg(ref)}", json={"enclave": enclave, **changes},
            params=_clean({"type": itype}),
        )  # fmt: skip
        return result

    def delete_indicator(
        self, ref: str, enclave: str, *, source: str | None = None, type: str | None = None
    ) -> dict[str, Any]:
        """Delete ``ref``'s observations in ``enclave`` (only ``source``'s, if given); the
        indicator goes when none is left anywhere. NotFound when the enclave holds none."""
        result: dict[str, Any] = self.request(
            "DELETE", f"/api/v1/indicators/{_seg(ref)}",
            params=_clean({"enclave": enclave, "source": source, "type": type}),
        )  # fmt: skip
        return result

    def enrich(self, **selection: Any) -> str:
        """Start enriching the indicators ``selection`` picks (``type``, ``tag``,
        ``enclave``, ``value``, ``since``, ``source``, ``providers``, ``force``);
        returns the job id (see :meth:`job` / :meth:`wait_job`)."""
        got = self.request("POST", "/api/enrich", json=_clean(selection))
        return str(got["job_id"])

    def submit_bulk(
        self,
        data: bytes | str | IO[bytes] | Sequence[str | Mapping[str, Any]],
        enclave: str,
        **params: Any,
    ) -> str:
        """Ingest ``data`` into ``enclave`` as a background job; returns the job id.

        ``data`` is a file's bytes or text, or a binary file open for reading (sent
        as it is read; any format ingest reads), or a list of values / objects sent
        as JSON. ``params``: ``source``, ``tags``, ``tlp``, ``confidence``,
        ``format``, ``type``, ``name``.
        """
        query = {"enclave": enclave, **_clean(params)}
        if isinstance(data, bytes | str) or hasattr(data, "read"):
            body = data.encode() if isinstance(data, str) else data
            got = self.request(
                "POST", "/api/v1/indicators/bulk", params=query, content=body,
                headers={"Content-Type": "application/octet-stream"},
            )  # fmt: skip
        else:
            got = self.request(
                "POST",
                "/api/v1/indicators/bulk",
                params=query,
                json=list(data),
            )
        return str(got["job_id"])

    def job(self, job_id: str) -> dict[str, Any]:
        """A job's status and progress."""
        result: dict[str, Any] = self._get(f"/api/v1/jobs/{_seg(job_id)}")
        return result

    def wait_job(self, job_id: str, *, timeout: float = 300.0, poll: float = 0.5) -> dict[str, Any]:
        """Poll a job until it stops running; returns its final record (raises WaitTimeout)."""
        return self._wait(lambda: self.job(job_id), f"job {job_id}", timeout, poll)

    def history(
        self, value: str, *, provider: str | None = None, enclaves: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The enrichment timeline of ``value`` per provider, with what changed."""
        result: dict[str, Any] = self._get(
            f"/api/indicators/{_seg(value)}/history", provider=provider, enclave=_list(enclaves)
        )
        return result

    def stats(self) -> dict[str, dict[str, int]]:
        """Indicator counts by type, enclave, tag and source, largest first:
        ``{"type": {"domain": 12, …}, "enclave": {…}, "tag": {…}, "source": {…}}``."""
        result: dict[str, dict[str, int]] = self._get("/api/v1/stats")
        return result

    # -- saved searches ---------------------------------------------------------------

    def saved_searches(self) -> list[dict[str, Any]]:
        """This key's user's saved searches: ``[{"name", "query", "owner", "created_at"}]``."""
        result: list[dict[str, Any]] = self._get("/api/v1/searches")
        return result

    def save_search(self, name: str, query: str, *, replace: bool = False) -> dict[str, Any]:
        """Save ``query`` as ``name`` (Conflict when taken, unless ``replace``)."""
        body = {"name": name, "query": query, "replace": replace}
        result: dict[str, Any] = self.request("POST", "/api/v1/searches", json=body)
        return result

    def saved_search(self, name: str) -> dict[str, Any]:
        """One saved search."""
        result: dict[str, Any] = self._get(f"/api/v1/searches/{_seg(name)}")
        return result

    def run_saved_search(
        self, name: str, *, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        """One page of a saved search's results: ``{"name", "query", "indicators", "cursor"}``."""
        result: dict[str, Any] = self._get(
            f"/api/v1/searches/{_seg(name)}/run", limit=limit, cursor=cursor
        )
        return result

    def delete_saved_search(self, name: str) -> None:
        """Delete a saved search (NotFound when there is none of that name)."""
        self.request("DELETE", f"/api/v1/searches/{_seg(name)}")

    # -- reports ------------------------------------------------------------------------

    def reports(
        self, *, enclave: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        """One page of reports, newest first: ``{"reports", "cursor"}``."""
        result: dict[str, Any] = self._get(
            "/api/v1/reports", enclave=enclave, limit=limit, cursor=cursor
        )
        return result

    def report(self, report_id: str) -> dict[str, Any]:
        """One report with the linked indicators this key can see."""
        result: dict[str, Any] = self._get(f"/api/v1/reports/{_seg(report_id)}")
        return result

    # -- scores, verdicts, pins, sightings, sources -------------------------------------

    def score(self, ref: str, *, type: str | None = None) -> dict[str, Any]:
        """The stored score of ``ref`` as this key's enclaves see it:
        ``{"id", "type", "value", "score": {"score", "risk", "factors", …} | None}``."""
        result: dict[str, Any] = self._get(f"/api/v1/indicators/{_seg(ref)}/score", type=type)
        return result

    def verdicts(self, ref: str, *, type: str | None = None) -> list[dict[str, Any]]:
        """Analyst verdicts on ``ref`` in this key's enclaves, newest first."""
        result: list[dict[str, Any]] = self._get(
            f"/api/v1/indicators/{_seg(ref)}/verdicts", type=type
        )
        return result

    def add_verdict(
        self,
        ref: str,
        verdict: Literal["malicious", "false_positive", "benign"],
        enclave: str,
        *,
        comment: str | None = None,
        safelist: str | None = None,
        type: str | None = None,
    ) -> dict[str, Any]:
        """Record a verdict in ``enclave``; returns the new score (as :meth:`score`)."""
        body = _clean({"verdict": verdict, "enclave": enclave, "comment": comment,
                       "safelist": safelist})  # fmt: skip
        result: dict[str, Any] = self.request(
            "POST",
            f"/api/v1/indicators/{_seg(ref)}/verdicts",
            json=body,
            params=_clean({"type": type}),
        )
        return result

    def pin(
        self,
        ref: str,
        risk: str,
        enclave: str,
        *,
        comment: str | None = None,
        expires_at: int | None = None,
        type: str | None = None,
    ) -> dict[str, Any]:
        """Pin ``ref``'s risk level in ``enclave`` (until ``expires_at``, epoch seconds)."""
        body = _clean({"risk": risk, "enclave": enclave, "comment": comment,
                       "expires_at": expires_at})  # fmt: skip
        result: dict[str, Any] = self.request(
            "PUT", f"/api/v1/indicators/{_seg(ref)}/pin", json=body, params=_clean({"type": type})
        )
        return result

    def unpin(self, ref: str, enclave: str, *, type: str | None = None) -> dict[str, Any]:
        """Remove the pin in ``enclave`` (NotFound when there is none); returns the new score."""
        result: dict[str, Any] = self.request(
            "DELETE", f"/api/v1/indicators/{_seg(ref)}/pin",
            params=_clean({"enclave": enclave, "type": type}),
        )  # fmt: skip
        return result

    def add_sighting(
        self,
        ref: str,
        enclave: str,
        *,
        seen_at: int | None = None,
        location: str | None = None,
        count: int = 1,
        type: str | None = None,
    ) -> dict[str, Any]:
        """Record that ``ref`` was seen (restarts its decay); returns the new score."""
        body = _clean({"enclave": enclave, "seen_at": seen_at, "location": location,
                       "count": count})  # fmt: skip
        result: dict[str, Any] = self.request(
            "POST", f"/api/v1/indicators/{_seg(ref)}/sightings", json=body,
            params=_clean({"type": type}),
        )  # fmt: skip
        return result

    def sources(self) -> list[dict[str, Any]]:
        """Sources with observations in this key's enclaves: ``[{"name", "reliability", "indicators"}]``."""
        result: list[dict[str, Any]] = self._get("/api/v1/sources")
        return result

    def set_source_reliability(self, name: str, reliability: int) -> dict[str, Any]:
        """Set a source's reliability 1–5 (administrators); its indicators are rescored."""
        result: dict[str, Any] = self.request(
            "PUT", f"/api/v1/sources/{_seg(name)}", json={"reliability": reliability}
        )
        return result

    # -- safelists ----------------------------------------------------------------------

    def safelists(self) -> list[dict[str, Any]]:
        """The named safelists with their live and expired entry counts."""
        result: list[dict[str, Any]] = self._get("/api/v1/safelists")
        return result

    def safelist(self, name: str) -> dict[str, Any]:
        """One safelist with every entry (expired ones flagged)."""
        result: dict[str, Any] = self._get(f"/api/v1/safelists/{_seg(name)}")
        return result

    def create_safelist(self, name: str, description: str | None = None) -> dict[str, Any]:
        """Create an empty safelist (administrators)."""
        body = _clean({"name": name, "description": description})
        result: dict[str, Any] = self.request("POST", "/api/v1/safelists", json=body)
        return result

    def delete_safelist(self, name: str) -> None:
        """Delete a safelist and its entries (administrators); its vetoes end at once."""
        self.request("DELETE", f"/api/v1/safelists/{_seg(name)}")

    def add_safelist_entry(self, name: str, pattern: str, **fields: Any) -> dict[str, Any]:
        """Add ``pattern`` (a value, ``*.domain``, CIDR or ``re:regex``) with ``kind``,
        ``type``, ``reason``, ``expires`` (``30d`` or a date); matching indicators are
        rescored. Administrators."""
        body = {"pattern": pattern, **_clean(fields)}
        result: dict[str, Any] = self.request(
            "POST", f"/api/v1/safelists/{_seg(name)}/entries", json=body
        )
        return result

    def remove_safelist_entry(self, name: str, entry_id: int) -> dict[str, Any]:
        """Remove one entry (administrators); the indicators it vetoed are rescored."""
        result: dict[str, Any] = self.request(
            "DELETE", f"/api/v1/safelists/{_seg(name)}/entries/{int(entry_id)}"
        )
        return result

    def check_safelist(
        self, value: str, *, type: str | None = None, warninglists: bool = True,
        popularity: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """Which safelist entry or vetoing warninglist would veto ``value``, if any."""
        result: dict[str, Any] = self._get(
            "/api/v1/safelists/check", value=value, type=type,
            warninglists=str(warninglists).lower(), popularity=str(popularity).lower(),
        )  # fmt: skip
        return result

    # -- exports ------------------------------------------------------------------------

    def export(
        self,
        q: str = "",
        *,
        format: Literal["csv", "jsonl", "stix", "misp", "plain"] = "csv",
        enclaves: Sequence[str] | None = None,
        include_safelisted: bool = False,
        chunk_size: int = 65_536,
    ) -> Iterator[tuple[str, bytes]]:
        """Stream the export of ``q``: yields ``(tlp, chunk)`` pairs, ``tlp`` being the
        export's TLP from the ``X-TLP`` header (the same on every chunk).

        TLP:RED and TLP:AMBER+STRICT never leave their enclave, so they are not in it;
        safelisted indicators are left out unless ``include_safelisted``.
        """
        params = _clean({"q": q, "format": format, "enclave": _list(enclaves),
                         "include_safelisted": "true" if include_safelisted else None})  # fmt: skip
        path = "/api/v1/exports"
        try:
            with self._http.stream("GET", path, params=params) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise self._error(resp, "GET", path)
                tlp = resp.headers.get("x-tlp", "UNMARKED")
                for chunk in resp.iter_bytes(chunk_size):
                    yield tlp, chunk
        except httpx.TimeoutException as e:
            raise TransportError(f"GET {path}: timed out ({type(e).__name__})") from None
        except httpx.HTTPError as e:
            raise TransportError(f"GET {path}: {type(e).__name__}: {e}") from None

    # -- tags -------------------------------------------------------------------------

    def add_tag(self, tag: str, enclave: str, query: str = "") -> int:
        """Attach ``tag`` in ``enclave`` to every indicator ``query`` matches there; returns the count."""
        got = self.request(
            "POST", f"/api/v1/tags/{_seg(tag)}/add", json={"enclave": enclave, "query": query}
        )
        return int(got["count"])

    def remove_tag(self, tag: str, enclave: str, query: str = "") -> int:
        """Detach ``tag`` in ``enclave`` from every indicator ``query`` matches there."""
        got = self.request(
            "POST", f"/api/v1/tags/{_seg(tag)}/remove", json={"enclave": enclave, "query": query}
        )
        return int(got["count"])

    # -- enclaves, users, keys ----------------------------------------------------------

    def enclaves(self) -> list[dict[str, Any]]:
        """The enclaves this key sees, with its permission in each."""
        result: list[dict[str, Any]] = self._get("/api/v1/enclaves")
        return result

    def create_enclave(self, name: str) -> dict[str, Any]:
        """Create an enclave (administrators)."""
        result: dict[str, Any] = self.request("POST", "/api/v1/enclaves", json={"name": name})
        return result

    def members(self, enclave: str) -> list[dict[str, Any]]:
        """The members of ``enclave`` (enclave admins)."""
        result: list[dict[str, Any]] = self._get(f"/api/v1/enclaves/{_seg(enclave)}/members")
        return result

    def set_member(
        self, enclave: str, user: str, permission: Literal["read", "write", "admin"] = "read"
    ) -> dict[str, Any]:
        """Grant ``user`` ``permission`` in ``enclave`` (enclave admins)."""
        result: dict[str, Any] = self.request(
            "PUT",
            f"/api/v1/enclaves/{_seg(enclave)}/members/{_seg(user)}",
            json={"permission": permission},
        )
        return result

    def remove_member(self, enclave: str, user: str) -> None:
        """Remove ``user`` from ``enclave`` (enclave admins)."""
        self.request("DELETE", f"/api/v1/enclaves/{_seg(enclave)}/members/{_seg(user)}")

    def me(self) -> dict[str, Any]:
        """Who this key belongs to, and its effective permission per enclave."""
        result: dict[str, Any] = self._get("/api/v1/users/me")
        return result

    def users(self) -> list[dict[str, Any]]:
        """Every user (administrators)."""
        result: list[dict[str, Any]] = self._get("/api/v1/users")
        return result

    def user(self, name: str) -> dict[str, Any]:
        """One user with their enclave memberships (administrators, or the user)."""
        result: dict[str, Any] = self._get(f"/api/v1/users/{_seg(name)}")
        return result

    def create_user(self, name: str, role: str = "analyst") -> dict[str, Any]:
        """Create a user (administrators, write key)."""
        body = {"name": name, "role": role}
        result: dict[str, Any] = self.request("POST", "/api/v1/users", json=body)
        return result

    def update_user(
        self, name: str, *, role: str | None = None, disabled: bool | None = None
    ) -> dict[str, Any]:
        """Change a user's role or disable / enable them (administrators)."""
        body = _clean({"role": role, "disabled": disabled})
        result: dict[str, Any] = self.request("PATCH", f"/api/v1/users/{_seg(name)}", json=body)
        return result

    def keys(self, *, user: str | None = None, all: bool = False) -> list[dict[str, Any]]:
        """API keys (own, a user's, or every one with ``all``); never their secrets."""
        result: list[dict[str, Any]] = self._get("/api/v1/keys", user=user, all=all or None)
        return result

    def create_key(self, **fields: Any) -> dict[str, Any]:
        """Create a key (``scope``, ``enclaves``, ``name``, ``expires_in_days``, ``user``);
        the answer's ``key`` is the only time the secret is shown."""
        result: dict[str, Any] = self.request("POST", "/api/v1/keys", json=_clean(fields))
        return result

    def key(self, key_id: int) -> dict[str, Any]:
        """One API key's metadata (never its secret)."""
        result: dict[str, Any] = self._get(f"/api/v1/keys/{int(key_id)}")
        return result

    def revoke_key(self, key_id: int) -> None:
        """Revoke a key."""
        self.request("DELETE", f"/api/v1/keys/{int(key_id)}")

    def audit(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit-log entries, newest first (administrators)."""
        result: list[dict[str, Any]] = self._get("/api/v1/audit", limit=limit)
        return result

    # -- analysis -----------------------------------------------------------------------

    def info(self, indicator: str | None = None, *, iid: str | None = None) -> dict[str, Any]:
        """The information sheet(s) of a value or public id: ``{"indicators": [...]}``."""
        result: dict[str, Any] = self._get("/api/v1/info", indicator=indicator, iid=iid)
        return result

    def explore(
        self,
        q: str = "",
        *,
        limit: int = 100,
        cursor: str | None = None,
        mode: Literal["indicators", "threats"] = "indicators",
    ) -> dict[str, Any]:
        """Indicators (or threats) matching ``q``: ``{"results", "cursor"}``."""
        result: dict[str, Any] = self._get(
            "/api/v1/explore", q=q, limit=limit, cursor=cursor, mode=mode
        )
        return result

    def analyze(self, value: str, *, probe: bool = False) -> int:
        """Queue an analysis of ``value`` (``probe`` adds the active probe); returns the qid."""
        got = self.request("POST", "/api/v1/analyze", json={"value": value, "probe": int(probe)})
        return int(got["qid"])

    def analysis(self, qid: int) -> dict[str, Any]:
        """``{"status": "processing"}`` or ``{"status": "done", "data": ...}``."""
        result: dict[str, Any] = self._get("/api/v1/analyze", qid=qid)
        return result

    def wait_analysis(
        self, qid: int, *, timeout: float = 60.0, poll: float = 0.25
    ) -> dict[str, Any]:
        """Poll until the analysis is done; returns its ``data`` (raises WaitTimeout)."""
        got = self._wait(lambda: self.analysis(qid), f"analysis {qid}", timeout, poll)
        data: dict[str, Any] = got.get("data") or {}
        return data

    def analyze_and_wait(
        self, value: str, *, probe: bool = False, timeout: float = 60.0
    ) -> dict[str, Any]:
        """:meth:`analyze` then :meth:`wait_analysis`."""
        return self.wait_analysis(self.analyze(value, probe=probe), timeout=timeout)
