"""``GET /api/jobs/{id}`` is an alias of ``GET /api/v1/jobs/{id}``: same answers, same rule."""

from __future__ import annotations

from spoorhound.services.jobs import create_job, finish_job
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.api_v1.conftest import Keys


def test_old_and_v1_paths_answer_alike_for_everyone(
    store: Store, client: Client, keys: Keys
) -> None:
    jobs = {
        "submit in red": create_job(store, "submit", {"enclave": "red-team"}),
        "ingest in blue": create_job(store, "ingest", {"enclave": "blue-team"}),
        "enrich of red": create_job(store, "enrich", {"selection": {"scope": ["red-team"]}}),
        "enrich of both": create_job(
            store, "enrich", {"selection": {"scope": ["red-team", "blue-team"]}}
        ),
        "enrich of all": create_job(store, "enrich", {"selection": {"scope": None}}),
    }
    finish_job(store, jobs["submit in red"], status="done", result={}, error=None, errors=None)
    visible = {
        keys.admin: set(jobs),
        keys.writer: {"submit in red", "enrich of red"},
        keys.reader: {"submit in red", "enrich of red"},
        keys.outsider: {"ingest in blue"},
    }
    for key, expected in visible.items():
        for label, job_id in jobs.items():
            new = client.get(f"/api/v1/jobs/{job_id}", key=key)
            old = client.get(f"/api/jobs/{job_id}", key=key)
            assert new.status_code == old.status_code == (200 if label in expected else 404), (
                label, new.status_code, old.status_code,
            )  # fmt: skip
            assert new.json() == old.json()
    unknown = client.get("/api/jobs/00000000-0000-0000-0000-000000000000", key=keys.admin)
    assert unknown.status_code == 404
    assert client.get(f"/api/jobs/{jobs['enrich of red']}").status_code == 401
    assert client.get("/api/jobs/a%00b", key=keys.admin).status_code == 422
