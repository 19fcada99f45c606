"""``/api/v1/indicators``: get, search with pages, create, change, delete."""

from __future__ import annotations

from typing import Any

from spoorhound.services import audit
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.api_v1.conftest import Keys

URL = "/api/v1/indicators"


def _create(client: Client, key: str, **body: Any) -> Any:
    return client.post(URL, key=key, json={"enclave": "red-team", **body})


def test_create_then_get_by_value_and_id(store: Store, client: Client, keys: Keys) -> None:
    r = _create(
        client, keys.writer, value="hxxp://evil[.]example[.]com/a", tags=["C2"], tlp="amber",
        confidence=80, source="sensor", notes="seen at the edge",
    )  # fmt: skip
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["type"] == "url" and made["new"] is True
    assert made["value"] == "http://evil.example.com/a"
    by_value = client.get(f"{URL}/hxxp://evil[.]example[.]com/a", key=keys.reader)
    assert by_value.status_code == 200, by_value.text
    [ind] = by_value.json()["indicators"]
    assert ind["id"] == made["id"] and ind["tags"] == {"red-team": ["C2"]}
    [obs] = ind["observations"]
    assert (obs["source"], obs["tlp"], obs["confidence"], obs["notes"]) == (
        "sensor", "amber", 80, "seen at the edge",
    )  # fmt: skip
    by_id = client.get(f"{URL}/{made['id']}", key=keys.reader)
    assert by_id.status_code == 200 and by_id.json()["indicators"][0]["id"] == made["id"]
    again = _create(client, keys.writer, value="http://evil.example.com/a", source="sensor")
    assert again.status_code == 201 and again.json()["new"] is False
    assert any(e["action"] == "indicator.create" for e in audit.recent(store))


def test_reads_need_a_key_and_never_leak(client: Client, keys: Keys) -> None:
    assert _create(client, keys.writer, value="secret.example.com").status_code == 201
    made = client.get(f"{URL}/secret.example.com", key=keys.admin).json()["indicators"][0]
    assert client.get(f"{URL}/secret.example.com").status_code == 401
    assert client.get(URL).status_code == 401
    for path in (f"{URL}/secret.example.com", f"{URL}/{made['id']}"):
        r = client.get(path, key=keys.outsider)
        assert r.status_code == 404 and r.json() == {"detail": "indicator not found"}
    # the same answer as for something that does not exist at all
    assert client.get(f"{URL}/nothing.example.com", key=keys.outsider).json() == {
        "detail": "indicator not found"
    }
    found = client.get(URL, key=keys.outsider, params={"q": "value = secret.example.com"}).json()
    assert found == {"indicators": [], "cursor": None}


def test_writes_need_write_permission(client: Client, keys: Keys) -> None:
    assert (
        client.post(URL, json={"enclave": "red-team", "value": "a.example.com"}).status_code == 401
    )
    r = _create(client, keys.reader, value="a.example.com")
    assert r.status_code == 403 and "write" in r.json()["detail"]
    assert _create(client, keys.writer_read_key, value="a.example.com").status_code == 403
    r = _create(client, keys.outsider, value="a.example.com")
    assert r.status_code == 404 and r.json()["detail"] == "enclave 'red-team' not found"
    assert _create(client, keys.writer, value="a.example.com").status_code == 201
    patch = {"enclave": "red-team", "add_tags": ["x"]}
    assert client.request("PATCH", f"{URL}/a.example.com", json=patch).status_code == 401
    assert (
        client.request("PATCH", f"{URL}/a.example.com", key=keys.reader, json=patch).status_code
        == 403
    )
    # eve writes blue-team but cannot see the indicator: 404, as for anything invisible
    blue = {"enclave": "blue-team", "add_tags": ["x"]}
    assert (
        client.request("PATCH", f"{URL}/a.example.com", key=keys.outsider, json=blue).status_code
        == 404
    )
    delete = f"{URL}/a.example.com?enclave=red-team"
    assert client.request("DELETE", delete).status_code == 401
    assert client.request("DELETE", delete, key=keys.reader).status_code == 403
    r = client.request("DELETE", f"{URL}/a.example.com?enclave=blue-team", key=keys.outsider)
    assert r.status_code == 404


def test_validation_errors_are_422_with_a_reason(client: Client, keys: Keys) -> None:
    cases = [
        ({"value": "not a thing at all !!"}, "indicator"),
        ({"value": "a.example.com", "tlp": "purple"}, "TLP"),
        ({"value": "a.example.com", "type": "colour"}, "colour"),
        ({"value": "a.example.com", "confidence": 101}, "confidence"),
        ({"value": "a.example.com", "colour": "red"}, "colour"),
        ({"value": ""}, "value"),
    ]
    for body, word in cases:
        r = _create(client, keys.writer, **body)
        assert r.status_code == 422, (body, r.text)
        assert word.lower() in r.text.lower(), (body, r.text)
    r = client.get(URL, key=keys.writer, params={"q": "valu = x"})
    assert r.status_code == 422 and "did you mean 'value'" in r.json()["detail"]
    r = client.get(URL, key=keys.writer, params={"cursor": "0f0f0f0f-0000-4000-8000-000000000000"})
    assert r.status_code == 422 and "cursor" in r.json()["detail"]
    r = client.get(URL, key=keys.writer, params={"limit": 0})
    assert r.status_code == 422
    r = client.get(f"{URL}/a.example.com", key=keys.writer, params={"type": "colour"})
    assert r.status_code == 422


def test_patch_changes_the_callers_observation_and_tags(
    store: Store, client: Client, keys: Keys
) -> None:
    _create(client, keys.writer, value="p.example.com", tags=["old"], tlp="green")
    body = {"enclave": "red-team", "tlp": "amber", "notes": "checked", "add_tags": ["New"],
            "remove_tags": ["old"]}  # fmt: skip
    r = client.request("PATCH", f"{URL}/p.example.com", key=keys.writer, json=body)
    assert r.status_code == 200, r.text
    [ind] = r.json()["indicators"]
    assert ind["tags"] == {"red-team": ["New"]}
    [obs] = ind["observations"]
    assert (obs["tlp"], obs["notes"], obs["confidence"]) == ("amber", "checked", None)
    # a source with no observation there: nothing to change
    r = client.request(
        "PATCH", f"{URL}/p.example.com", key=keys.writer,
        json={"enclave": "red-team", "source": "other", "tlp": "red"},
    )  # fmt: skip
    assert r.status_code == 404 and "other" in r.json()["detail"]
    r = client.request(
        "PATCH", f"{URL}/p.example.com", key=keys.writer, json={"enclave": "red-team", "tlp": "x"}
    )
    assert r.status_code == 422
    assert any(e["action"] == "observation.update" for e in audit.recent(store))


def test_ambiguous_values_need_a_type(client: Client, keys: Keys) -> None:
    h = "d41d8cd98f00b204e9800998ecf8427e"
    _create(client, keys.writer, value=h, type="md5")
    _create(client, keys.writer, value=h, type="imphash")
    assert len(client.get(f"{URL}/{h}", key=keys.reader).json()["indicators"]) == 2
    r = client.request("DELETE", f"{URL}/{h}?enclave=red-team", key=keys.writer)
    assert r.status_code == 409 and "?type=" in r.json()["detail"]
    r = client.request("DELETE", f"{URL}/{h}?enclave=red-team&type=md5", key=keys.writer)
    assert r.status_code == 200 and r.json() == {"deleted": 1}
    [left] = client.get(f"{URL}/{h}", key=keys.reader).json()["indicators"]
    assert left["type"] == "imphash"


def test_delete_is_per_enclave_and_audited(store: Store, client: Client, keys: Keys) -> None:
    client.post(URL, key=keys.outsider, json={"enclave": "blue-team", "value": "d.example.com"})
    _create(client, keys.writer, value="d.example.com", tags=["t"])
    r = client.request("DELETE", f"{URL}/d.example.com?enclave=red-team", key=keys.writer)
    assert r.status_code == 200 and r.json() == {"deleted": 1}
    assert client.get(f"{URL}/d.example.com", key=keys.reader).status_code == 404
    assert client.get(f"{URL}/d.example.com", key=keys.outsider).status_code == 200
    entry = next(e for e in audit.recent(store) if e["action"] == "observation.delete")
    assert entry["actor"] == "ana" and entry["details"]["enclave"] == "red-team"
    assert entry["details"]["indicator_deleted"] is False
    r = client.request("DELETE", f"{URL}/d.example.com?enclave=red-team", key=keys.writer)
    assert r.status_code == 404  # nothing left to delete there
    r = client.request("DELETE", f"{URL}/d.example.com?enclave=blue-team", key=keys.outsider)
    assert r.status_code == 200
    assert client.get(f"{URL}/d.example.com", key=keys.admin).status_code == 404  # gone entirely


def test_cursor_pages_return_every_row_once(
    store: Store, client: Client, keys: Keys, tmp_path: Any
) -> None:
    f = tmp_path / "many.csv"
    f.write_text(
        "value,last_seen\n"
        + "".join(f"host{i}.example.com,{1_700_000_000 + i % 7}\n" for i in range(250))
    )
    assert ingest(store, f, IngestOptions(enclave="red-team")).accepted == 250
    assert (
        ingest(store, f, IngestOptions(enclave="blue-team")).accepted == 250
    )  # invisible to rob: no effect on pages
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"q": "type = domain", "limit": 60}
        if cursor:
            params["cursor"] = cursor
        r = client.get(URL, key=keys.reader, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [row["value"] for row in body["indicators"]]
        pages += 1
        cursor = body["cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert len(seen) == len(set(seen)) == 250


def test_nul_characters_are_422_not_500(client: Client, keys: Keys) -> None:
    # PostgreSQL text cannot hold NUL: refused before any query on both dialects.
    assert client.get(f"{URL}/a%00b").status_code == 401  # the key is still checked first
    for method, path, kwargs in (
        ("GET", f"{URL}/a%00b", {}),
        ("GET", URL, {"params": {"q": "value = a\x00b"}}),
        ("GET", URL, {"params": {"cursor": "a\x00"}}),
        ("POST", URL, {"json": {"enclave": "red-team", "value": "a.example.com", "notes": "\x00"}}),
        (
            "POST",
            URL,
            {"json": {"enclave": "red-team", "value": "a.example.com", "tags": ["\x00"]}},
        ),
        ("GET", "/api/v1/jobs/a%00", {}),
        ("GET", "/api/v1/exports", {"params": {"q": "value = a\x00"}}),
    ):
        r = client.request(method, path, key=keys.writer, **kwargs)
        assert r.status_code == 422 and "NUL" in r.text, (method, path, r.text)
