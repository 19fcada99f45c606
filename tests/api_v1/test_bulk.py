"""``POST /api/v1/indicators/bulk`` and ``GET /api/v1/jobs/{id}``: background submissions."""

from __future__ import annotations

import time
from typing import Any

from spoorhound.services.jobs import create_job
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.api_v1.conftest import Keys

BULK = "/api/v1/indicators/bulk"


def _wait(client: Client, key: str, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/api/v1/jobs/{job_id}", key=key)
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["status"] != "running":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_bulk_csv_of_5000_rows(store: Store, client: Client, keys: Keys) -> None:
    lines = ["value,type,tags,tlp"]
    lines += [f"host{i}.example.com,domain,bulk,green" for i in range(4990)]
    lines += [f"not a value {i},domain,,green" for i in range(10)]
    body = ("\n".join(lines) + "\n").encode()
    r = client.post(
        BULK, key=keys.writer, content=body, headers={"Content-Type": "text/csv"},
        params={"enclave": "red-team", "source": "upload", "tags": ["batch-1"]},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    job = _wait(client, keys.reader, r.json()["job_id"])
    assert job["status"] == "done", job
    result = job["result"]
    assert (result["rows"], result["new"], result["rejected"]) == (5000, 4990, 10)
    assert result["format"] == "csv" and result["enclave"] == "red-team"
    assert len(job["errors"]) == 10 and job["errors"][0]["kind"] == "rejected"
    found = client.get(
        "/api/v1/indicators",
        key=keys.reader,
        params={"q": "tag = batch-1 and tag = bulk", "limit": 1},
    )
    assert found.json()["indicators"] and found.json()["cursor"]
    # the submission is invisible to whoever cannot read its enclave
    assert client.get(f"/api/v1/jobs/{job['id']}", key=keys.outsider).status_code == 404
    assert client.get(f"/api/v1/jobs/{job['id']}", key=keys.admin).status_code == 200


def test_bulk_json_list(client: Client, keys: Keys) -> None:
    items = ["a.example.com", {"value": "198.51.100.9", "tags": ["scanner"], "tlp": "amber"}]
    r = client.post(BULK, key=keys.writer, json=items, params={"enclave": "red-team"})
    assert r.status_code == 202, r.text
    job = _wait(client, keys.writer, r.json()["job_id"])
    assert job["status"] == "done" and job["result"]["new"] == 2, job
    [ind] = client.get("/api/v1/indicators/198.51.100.9", key=keys.reader).json()["indicators"]
    assert ind["tags"] == {"red-team": ["scanner"]} and ind["observations"][0]["tlp"] == "amber"


def test_bulk_refusals(store: Store, client: Client, keys: Keys) -> None:
    params = {"enclave": "red-team"}
    assert client.post(BULK, json=["a.example.com"], params=params).status_code == 401
    assert (
        client.post(BULK, key=keys.reader, json=["a.example.com"], params=params).status_code == 403
    )
    r = client.post(BULK, key=keys.outsider, json=["a.example.com"], params=params)
    assert r.status_code == 404
    r = client.post(BULK, key=keys.writer, json={"value": "x"}, params=params)
    assert r.status_code == 422 and "list" in r.json()["detail"]
    r = client.post(BULK, key=keys.writer, content=b"", params=params)
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    r = client.post(BULK, key=keys.writer, json=["a.example.com"])
    assert r.status_code == 422 and "enclave" in r.text
    for bad, word in (({"tlp": "purple"}, "TLP"), ({"format": "xls"}, "csv"),
                      ({"type": "colour"}, "colour"), ({"tags": " "}, "tag")):  # fmt: skip
        r = client.post(BULK, key=keys.writer, json=["a.example.com"], params={**params, **bad})
        assert r.status_code == 422 and word.lower() in r.text.lower(), (bad, r.text)
    # a whole-file problem fails the job with the reason, and writes nothing
    r = client.post(BULK, key=keys.writer, content=b"\x00\x01\x02binary", params=params,
                    headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    job = _wait(client, keys.writer, r.json()["job_id"])
    assert job["status"] == "failed" and job["error"]
    # jobs of other kinds follow the same visibility rule
    other = create_job(store, "ingest", {"enclave": "blue-team"})
    assert client.get(f"/api/v1/jobs/{other}", key=keys.reader).status_code == 404
    assert client.get(f"/api/v1/jobs/{other}", key=keys.outsider).status_code == 200
    assert client.get("/api/v1/jobs/nope", key=keys.admin).status_code == 404
    assert client.get(f"/api/v1/jobs/{other}").status_code == 401
