"""``/api/v1/reports``: documents and their linked indicators, by enclave and TLP."""

from __future__ import annotations

from pathlib import Path

from spoorhound.services import indicator_edits
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.api_v1.conftest import Keys

ADVISORY = """# Operation Nightjar

The actor used c2.nightjar-ops.net and 203.0.113.77 for command and control,
then c2.nightjar-ops.net again, and staged files on files.nightjar-ops.net.
"""


def _report(store: Store, tmp_path: Path, enclave: str, text: str, tlp: str) -> None:
    doc = tmp_path / f"{enclave}-{tlp}.md"
    doc.write_text(text)
    options = IngestOptions(enclave=enclave, tlp=tlp, safelist=False, keep_flagged=True)
    assert ingest(store, doc, options).status == "done"


def test_list_and_get_in_the_callers_enclaves(
    store: Store, client: Client, keys: Keys, tmp_path: Path
) -> None:
    _report(store, tmp_path, "red-team", ADVISORY, "red")
    _report(store, tmp_path, "blue-team", "# Blue note\n\nSeen: 198.51.100.200\n", "green")
    page = client.get("/api/v1/reports", key=keys.reader).json()
    assert [(r["title"], r["enclave"], r["tlp"]) for r in page["reports"]] == [
        ("Operation Nightjar", "red-team", "red")
    ]
    assert page["reports"][0]["indicators"] == 3 and page["cursor"] is None
    rid = page["reports"][0]["id"]
    detail = client.get(f"/api/v1/reports/{rid}", key=keys.reader).json()
    linked = {i["value"]: i["occurrences"] for i in detail["indicators"]}
    assert linked == {"c2.nightjar-ops.net": 2, "203.0.113.77": 1, "files.nightjar-ops.net": 1}
    assert detail["indicators"][0]["value"] == "c2.nightjar-ops.net"
    assert "command and control" in detail["indicators"][0]["context"]
    # the RED report does not exist for a caller outside red-team
    assert client.get(f"/api/v1/reports/{rid}", key=keys.outsider).status_code == 404
    outside = client.get("/api/v1/reports", key=keys.outsider).json()["reports"]
    assert [r["title"] for r in outside] == ["Blue note"]
    everything = client.get("/api/v1/reports", key=keys.admin).json()["reports"]
    assert len(everything) == 2
    only_blue = client.get("/api/v1/reports", key=keys.admin, params={"enclave": "blue-team"})
    assert [r["title"] for r in only_blue.json()["reports"]] == ["Blue note"]
    assert client.get("/api/v1/reports/not-a-report", key=keys.admin).status_code == 404
    assert client.get("/api/v1/reports").status_code == 401


def test_linked_indicators_the_caller_cannot_see_are_left_out(
    store: Store, client: Client, keys: Keys, tmp_path: Path
) -> None:
    _report(store, tmp_path, "red-team", ADVISORY, "amber")
    # files.nightjar-ops.net is now only observed in blue-team (TLP:RED there)
    indicator_edits.create_indicator(
        store, "files.nightjar-ops.net", enclave="blue-team", actor="test", tlp="red"
    )
    gone = client.request(
        "DELETE", "/api/v1/indicators/files.nightjar-ops.net?enclave=red-team", key=keys.writer
    )
    assert gone.status_code == 200, gone.text
    rid = client.get("/api/v1/reports", key=keys.reader).json()["reports"][0]["id"]
    detail = client.get(f"/api/v1/reports/{rid}", key=keys.reader).json()
    assert {i["value"] for i in detail["indicators"]} == {"c2.nightjar-ops.net", "203.0.113.77"}
    listed = client.get("/api/v1/reports", key=keys.reader).json()["reports"][0]
    assert listed["indicators"] == 2
    admin = client.get(f"/api/v1/reports/{rid}", key=keys.admin).json()
    assert len(admin["indicators"]) == 3


def test_pages(store: Store, client: Client, keys: Keys, tmp_path: Path) -> None:
    for n in range(3):
        _report(store, tmp_path, "red-team", f"# Note {n}\n\nhost{n}.nightjar-ops.net\n", "green")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/reports", key=keys.reader, params=params).json()
        seen += [r["title"] for r in page["reports"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert sorted(seen) == ["Note 0", "Note 1", "Note 2"]
    bad = client.get("/api/v1/reports", key=keys.outsider, params={"cursor": "x"})
    assert bad.status_code == 422
