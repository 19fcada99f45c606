"""The authorization matrix over the v1 indicator, tag, export and job endpoints, and TLP.

Every endpoint × role × membership in the target enclave × key scope × key
restriction (``tests/access/matrix.py``), then every principal against RED and
GREEN indicators of the target: reads show both only to its readers, exports
never show RED to anyone.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from spoorhound.services import indicator_edits
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
    fresh,
)


def _indicator(store: Store, p: Principal | None) -> Mapping[str, str]:
    made = indicator_edits.create_indicator(
        store, f"{fresh('m')}.example.com", enclave=TARGET, actor=ACTOR, tlp="green"
    )
    return {"value": made["value"], "id": made["id"]}


def _new_value(store: Store, p: Principal | None) -> Mapping[str, str]:
    return {"new": f"{fresh('n')}.example.com"}


def _job(store: Store, p: Principal | None) -> Mapping[str, str]:
    job_id = create_job(store, "submit", {"enclave": TARGET})
    finish_job(store, job_id, status="done", result={}, error=None, errors=None)
    return {"job": job_id}


TAG_BODY = {"enclave": TARGET, "query": "type = domain"}

ENDPOINTS = [
    Endpoint("GET", "/api/v1/indicators?q=type%20%3D%20domain", Need.any()),
    Endpoint("GET", "/api/v1/indicators/{value}", Need.enclave("read"), prepare=_indicator),
    Endpoint("GET", "/api/v1/indicators/{id}", Need.enclave("read"), prepare=_indicator),
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
    ),
    Endpoint(
        "DELETE",
        "/api/v1/indicators/{value}?enclave={enclave}",
        Need.enclave("write"),
        prepare=_indicator,
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
            status = client.get(f"/api/v1/indicators/{ind['id']}", key=p.key).status_code
            if status != (200 if reader else 404):
                failures.append(f"GET {ind['value']} as {p.label()}: {status}")
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
