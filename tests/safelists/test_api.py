"""``/api/v1/safelists``: anyone authenticated reads, only administrators write."""

from __future__ import annotations

from spoorhound.services import audit
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client

URL = "/api/v1/safelists"
Api = tuple[Client, dict[str, str]]


def test_admin_manages_lists_and_entries(store: Store, api: Api) -> None:
    client, keys = api
    admin = keys["admin"]
    r = client.post(URL, key=admin, json={"name": "corporate", "description": "ours"})
    assert r.status_code == 201 and r.json()["entries"] == 0
    assert client.post(URL, key=admin, json={"name": "corporate"}).status_code == 409
    body = {"pattern": "*.Example.COM", "reason": "our domain", "expires": "30d"}
    r = client.post(f"{URL}/corporate/entries", key=admin, json=body)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert (entry["kind"], entry["pattern"], entry["actor"]) == ("domain", "*.example.com", "admin")
    assert entry["expires_at"] > entry["created_at"]
    dup = client.post(f"{URL}/corporate/entries", key=admin, json={"pattern": "*.example.com"})
    assert dup.status_code == 409 and "already on safelist" in dup.json()["detail"]
    bad = client.post(f"{URL}/corporate/entries", key=admin, json={"pattern": "re:(unclosed"})
    assert bad.status_code == 422 and "bad regex" in bad.json()["detail"]
    missing = client.post(f"{URL}/nope/entries", key=admin, json={"pattern": "8.8.8.8"})
    assert missing.status_code == 404

    # any authenticated user reads and checks
    reader = keys["reader"]
    assert [s["name"] for s in client.get(URL, key=reader).json()] == ["corporate"]
    shown = client.get(f"{URL}/corporate", key=reader).json()
    assert [e["pattern"] for e in shown["entries"]] == ["*.example.com"]
    # (the warninglists are covered by the service and CLI tests; their index is slow to build)
    params = {"value": "hxxp://a.example[.]com/x", "warninglists": "false"}
    check = client.get(f"{URL}/check", key=reader, params=params)
    assert check.status_code == 200
    assert check.json()["list"] == "corporate" and check.json()["pattern"] == "*.example.com"
    params = {"value": "evil.net", "warninglists": "false"}
    other = client.get(f"{URL}/check", key=reader, params=params).json()
    assert other["safelisted"] is False
    assert client.get(f"{URL}/nope", key=reader).status_code == 404

    r = client.request("DELETE", f"{URL}/corporate/entries/{entry['id']}", key=admin)
    assert r.status_code == 200 and r.json()["pattern"] == "*.example.com"
    assert (
        client.request("DELETE", f"{URL}/corporate/entries/{entry['id']}", key=admin).status_code
        == 404
    )
    assert client.request("DELETE", f"{URL}/corporate", key=admin).status_code == 204
    assert client.get(URL, key=reader).json() == []
    actions = [a["action"] for a in audit.recent(store) if a["actor"] == "admin"]
    assert actions[:4] == [
        "safelist.delete", "safelist.entry.remove", "safelist.entry.add", "safelist.create"
    ]  # fmt: skip


def test_only_administrators_write(api: Api) -> None:
    client, keys = api
    assert client.post(URL, key=keys["admin"], json={"name": "ops"}).status_code == 201
    writes = [
        ("POST", URL, {"name": "mine"}),
        ("POST", f"{URL}/ops/entries", {"pattern": "8.8.8.8"}),
        ("DELETE", f"{URL}/ops/entries/1", None),
        ("DELETE", f"{URL}/ops", None),
    ]
    for who in ("analyst", "reader", "admin_read"):
        for method, path, body in writes:
            r = client.request(method, path, key=keys[who], json=body)
            assert r.status_code == 403, (who, method, path, r.text)
    for method, path, body in [*writes, ("GET", URL, None), ("GET", f"{URL}/ops", None)]:
        assert client.request(method, path, json=body).status_code == 401
    assert client.get(f"{URL}/check", params={"value": "8.8.8.8"}).status_code == 401
    assert client.get(URL, key=keys["reader"]).status_code == 200


def test_openapi_documents_the_routes_and_their_errors(api: Api) -> None:
    client, _ = api
    spec = client.get("/api/openapi.json").json()
    post = spec["paths"]["/api/v1/safelists/{name}/entries"]["post"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(post["responses"])
    assert "/api/v1/safelists/check" in spec["paths"]
    example = spec["components"]["schemas"]["EntryCreate"]["properties"]["pattern"]["examples"]
    assert "*.example.com" in example
