"""The authorization matrix over the v1 indicator, tag, export and job endpoints, and TLP.

Every endpoint × role × membership in the target enclave × key scope × key
restriction (``tests/access/matrix.py``), then every principal against RED and
GREEN indicators of the target: reads show both only to its readers, exports
never show RED to anyone.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import orjson

from spoorhound.services import explore, indicator_edits
from spoorhound.services import reports as report_service
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.jobs import create_job, finish_job
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.access.matrix import (
    ACTOR,
    TARGET,
    Endpoint,
    Need,
    Principal,
    build_principals,
    check_matrix,
    current_tlp,
    fresh,
)


def _indicator(store: Store, p: Principal | None) -> Mapping[str, str]:
    made = indicator_edits.create_indicator(
        store, f"{fresh('m')}.example.com", enclave=TARGET, actor=ACTOR, tlp=current_tlp()
    )
    return {"value": made["value"], "id": made["id"]}


def _saved_search(store: Store, p: Principal | None) -> Mapping[str, str]:
    name = fresh("s")
    explore.save_search(store, name, "type = domain", owner=p.user if p else "x")
    return {"search": name}


_REPORTS: dict[str, str] = {}


def _report(store: Store, p: Principal | None) -> Mapping[str, str]:
    """One TLP:RED report in the target, made once per store."""
    if store.url not in _REPORTS:
        doc = Path(tempfile.mkdtemp()) / "advisory.md"
        doc.write_text("# Matrix advisory\n\nC2 at c2.matrix-ops.net\n")
        opts = IngestOptions(enclave=TARGET, tlp="red", safelist=False, keep_flagged=True)
        ingest(store, doc, opts)
        _REPORTS[store.url] = report_service.list_reports(store, enclave=TARGET)[0][0]["id"]
    return {"report": _REPORTS[store.url]}


def _writer(p: Principal) -> bool:
    """Admins and analysts with a write key (saved searches, enrichment jobs)."""
    return p.role != "read-only" and p.scope == "write"


def _new_value(store: Store, p: Principal | None) -> Mapping[str, str]:
    return {"new": f"{fresh('n')}.example.com"}


def _job(store: Store, p: Principal | None) -> Mapping[str, str]:
    job_id = create_job(store, "submit", {"enclave": TARGET})
    finish_job(store, job_id, status="done", result={}, error=None, errors=None)
    return {"job": job_id}


TAG_BODY = {"enclave": TARGET, "query": "type = domain"}

ENDPOINTS = [
    Endpoint("GET", "/api/v1/indicators?q=type%20%3D%20domain", Need.any()),
    Endpoint(
        "GET", "/api/v1/indicators/{value}", Need.enclave("read"), prepare=_indicator, tlp=True
    ),
    Endpoint("GET", "/api/v1/indicators/{id}", Need.enclave("read"), prepare=_indicator, tlp=True),
    Endpoint("GET", "/api/indicators/{value}", Need.enclave("read"), prepare=_indicator, tlp=True),
    Endpoint(
        "POST",
        "/api/v1/indicators",
        Need.enclave("write"),
        body=lambda v: {"enclave": TARGET, "value": v["new"], "tags": ["m"]},
        prepare=_new_value,
    ),
    Endpoint(
        "PATCH",
        "/api/v1/indicators/{value}",
        Need.enclave("write"),
        body={"enclave": TARGET, "add_tags": ["m"], "confidence": 50},
        prepare=_indicator,
        tlp=True,
    ),
    Endpoint(
        "DELETE",
        "/api/v1/indicators/{value}?enclave={enclave}",
        Need.enclave("write"),
        prepare=_indicator,
        tlp=True,
    ),
    Endpoint(
        "POST",
        "/api/v1/indicators/bulk?enclave={enclave}",
        Need.enclave("write"),
        body=lambda v: [v["new"]],
        prepare=_new_value,
    ),
    Endpoint("POST", "/api/v1/tags/m/add", Need.enclave("write"), body=TAG_BODY),
    Endpoint("POST", "/api/v1/tags/m/remove", Need.enclave("write"), body=TAG_BODY),
    Endpoint("GET", "/api/v1/exports?format=jsonl", Need.any()),
    Endpoint("GET", "/api/v1/jobs/{job}", Need.enclave("read"), prepare=_job),
    Endpoint("GET", "/api/jobs/{job}", Need.enclave("read"), prepare=_job),
    Endpoint("GET", "/api/v1/stats", Need.any()),
    Endpoint("GET", "/api/v1/searches", Need.any()),
    Endpoint(
        "POST", "/api/v1/searches", _writer, body=lambda v: {"name": fresh("s"), "query": "tag = m"}
    ),
    Endpoint("GET", "/api/v1/searches/{search}", Need.any(), prepare=_saved_search),
    Endpoint("GET", "/api/v1/searches/{search}/run", Need.any(), prepare=_saved_search),
    Endpoint("DELETE", "/api/v1/searches/{search}", _writer, prepare=_saved_search),
    Endpoint("GET", "/api/v1/reports", Need.any()),
    Endpoint("GET", "/api/v1/reports/{report}", Need.enclave("read"), prepare=_report),
    # Authorised callers get past the checks to the validation of the body (422), so
    # no enrichment job is queued here.
    Endpoint("POST", "/api/enrich", _writer, body={"type": "nonsense"}, ok=frozenset({422})),
]


def test_matrix(store: Store, client: Client) -> None:
    assert check_matrix(store, client, ENDPOINTS) == []


def test_no_leak_and_tlp_for_every_principal(store: Store, client: Client) -> None:
    principals = build_principals(store)
    red = indicator_edits.create_indicator(
        store, "red.example.com", enclave=TARGET, actor=ACTOR, tlp="red"
    )
    strict = indicator_edits.create_indicator(
        store, "strict.example.com", enclave=TARGET, actor=ACTOR, tlp="amber+strict"
    )
    green = indicator_edits.create_indicator(
        store, "green.example.com", enclave=TARGET, actor=ACTOR, tlp="green"
    )
    failures = []
    for p in principals:
        reader = p.effective() != "none"
        for ind in (red, strict, green):
            for path in (f"/api/v1/indicators/{ind['id']}", f"/api/indicators/{ind['value']}"):
                r = client.get(path, key=p.key)
                if r.status_code != (200 if reader else 404):
                    failures.append(f"GET {path} as {p.label()}: {r.status_code}")
                if not reader and ind["value"] in r.text:
                    failures.append(f"GET {path} as {p.label()} named the value")
        counts = client.get("/api/v1/stats", key=p.key).json()
        if (TARGET in counts["enclave"]) != reader:
            failures.append(f"stats as {p.label()}: {counts['enclave']}")
        found = client.get("/api/v1/indicators", key=p.key, params={"limit": 1000}).json()
        values = {i["value"] for i in found["indicators"]}
        if (red["value"] in values) != reader or (green["value"] in values) != reader:
            failures.append(f"search as {p.label()}: {sorted(values)}")
        r = client.get("/api/v1/exports", key=p.key, params={"format": "jsonl"})
        exported = {orjson.loads(line)["value"] for line in r.content.splitlines()}
        if red["value"] in exported or strict["value"] in exported:
            failures.append(f"export as {p.label()} carried RED / AMBER+STRICT")
        if (green["value"] in exported) != reader:
            failures.append(f"export as {p.label()}: green {'missing' if reader else 'leaked'}")
        if r.headers["x-tlp"] != ("GREEN" if reader else "UNMARKED"):
            failures.append(f"export as {p.label()}: X-TLP {r.headers['x-tlp']}")
    assert failures == []
