"""The authorization matrix over issue 6's endpoints: scores, verdicts, pins, sightings,
sources and safelists (every role × membership × key scope × restriction, and TLP)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from spoorhound.model import load_model
from spoorhound.services import indicator_edits, safelists, scoring, verdicts
from spoorhound.services.safelists import load_matcher
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.access.matrix import (
    ACTOR,
    TARGET,
    Endpoint,
    Need,
    Principal,
    check_matrix,
    current_tlp,
    fresh,
)
from tests.api_v1.conftest import build_v1_app, wait_for_jobs


def _scorer(store: Store) -> scoring.Scorer:
    # The warninglists play no part in who may do what: keep them out (seconds to build).
    return scoring.Scorer(model=load_model(None), matcher=load_matcher(store, warninglists=False))


def _indicator(store: Store, p: Principal | None) -> Mapping[str, str]:
    made = indicator_edits.create_indicator(
        store, f"{fresh('m')}.example-zq.com", enclave=TARGET, actor=ACTOR, tlp=current_tlp()
    )
    return {"value": made["value"], "source": indicator_edits.DEFAULT_SOURCE}


def _pinned(store: Store, p: Principal | None) -> Mapping[str, str]:
    v = _indicator(store, p)
    verdicts.pin(store, v["value"], "low", enclave=TARGET, actor=ACTOR, scorer=_scorer(store))
    return v


def _safelist(store: Store, p: Principal | None) -> Mapping[str, str]:
    name = fresh("l")
    safelists.create_safelist(store, name, actor=ACTOR)
    entry = safelists.add_entry(store, name, f"{fresh('s')}.example-zq.com", actor=ACTOR)
    return {"list": name, "entry": str(entry["id"])}


ADMIN_WRITE = Need.admin(write=True)

ENDPOINTS = [
    Endpoint("GET", "/api/v1/indicators/{value}/score", Need.enclave("read"), prepare=_indicator, tlp=True),
    Endpoint("GET", "/api/v1/indicators/{value}/verdicts", Need.enclave("read"), prepare=_indicator, tlp=True),
    Endpoint(
        "POST", "/api/v1/indicators/{value}/verdicts", Need.enclave("write"),
        body={"verdict": "benign", "enclave": TARGET}, prepare=_indicator, tlp=True,
    ),
    Endpoint(
        "PUT", "/api/v1/indicators/{value}/pin", Need.enclave("write"),
        body={"risk": "high", "enclave": TARGET}, prepare=_indicator, tlp=True,
    ),
    Endpoint(
        "DELETE", "/api/v1/indicators/{value}/pin?enclave={enclave}", Need.enclave("write"),
        prepare=_pinned, tlp=True,
    ),
    Endpoint(
        "POST", "/api/v1/indicators/{value}/sightings", Need.enclave("write"),
        body={"enclave": TARGET, "location": "fw1"}, prepare=_indicator, tlp=True,
    ),
    Endpoint("GET", "/api/v1/sources", Need.any()),
    Endpoint("PUT", "/api/v1/sources/{source}", ADMIN_WRITE, body={"reliability": 4}, prepare=_indicator),
    Endpoint("GET", "/api/v1/safelists", Need.any()),
    Endpoint("POST", "/api/v1/safelists", ADMIN_WRITE, body=lambda v: {"name": fresh("n")}),
    Endpoint("GET", "/api/v1/safelists/check?value=a.example-zq.com", Need.any()),
    Endpoint("GET", "/api/v1/safelists/{list}", Need.any(), prepare=_safelist),
    Endpoint("DELETE", "/api/v1/safelists/{list}", ADMIN_WRITE, prepare=_safelist),
    Endpoint(
        "POST", "/api/v1/safelists/{list}/entries", ADMIN_WRITE,
        body=lambda v: {"pattern": f"*.{fresh('w')}.example-zq.com"}, prepare=_safelist,
    ),
    Endpoint("DELETE", "/api/v1/safelists/{list}/entries/{entry}", ADMIN_WRITE, prepare=_safelist),
]  # fmt: skip


@pytest.fixture
def client(store: Store) -> Iterator[Client]:
    app = build_v1_app(store)
    app.state.scorer = _scorer(store)
    c = Client(app)
    yield c
    c.close()
    wait_for_jobs(store)


def test_matrix(store: Store, client: Client) -> None:
    assert check_matrix(store, client, ENDPOINTS) == []
