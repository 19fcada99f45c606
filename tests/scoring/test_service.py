"""Stored scores: computed on events, per enclave, decayed by the sweep, never leaking."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from spoorhound.core.scoring import DAY
from spoorhound.services import scoring, sources, verdicts
from spoorhound.services.enrichment import Answer, store_results
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.jobs import create_job
from spoorhound.services.jobs import now as clock
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

SCORER = scoring.Scorer()


def _ingest(store: Store, tmp_path: Path, name: str, lines: str, **opts: object) -> int:
    since = clock()
    f = tmp_path / name
    f.write_text(lines)
    res = ingest(store, f, IngestOptions(**opts))  # type: ignore[arg-type]
    assert res.status == "done", res
    return scoring.rescore_since(store, enclave=str(opts["enclave"]), since=since, scorer=SCORER)


def _view(store: Store, value: str, scope: list[str] | None = None, now: int | None = None) -> dict:
    with store.read() as conn:
        pk = conn.execute(
            sa.select(schema.indicator.c.pk).where(schema.indicator.c.value == value)
        ).scalar()
        assert pk is not None
        v = scoring.views(conn, [pk], scope, now=now).get(pk)
    assert v is not None
    return v


def test_ingest_scores_every_indicator_with_its_source_as_a_factor(
    store: Store, tmp_path: Path
) -> None:
    n = _ingest(
        store, tmp_path, "a.txt", "evil.example.net\n198.51.100.7\n", enclave="soc", source="feed-a"
    )
    assert n == 2
    v = _view(store, "evil.example.net")
    assert v["risk"] in ("low", "medium") and 0 < v["score"] < 70
    assert any("reported by feed-a" in f["text"] for f in v["risk_factors"])


def test_source_reliability_moves_the_score(store: Store, tmp_path: Path) -> None:
    _ingest(store, tmp_path, "a.txt", "evil.example.net\n", enclave="soc", source="feed-a")
    before = _view(store, "evil.example.net")["score"]
    sources.set_reliability(store, "feed-a", 5, actor="t", scorer=SCORER)
    after = _view(store, "evil.example.net")
    assert after["score"] > before
    assert any("reliability 5/5" in f["text"] for f in after["risk_factors"])


def test_tlp_red_evidence_never_moves_the_score_of_someone_who_cannot_see_it(
    store: Store, tmp_path: Path
) -> None:
    _ingest(
        store,
        tmp_path,
        "low.txt",
        "shared.example.net\n",
        enclave="public",
        source="weak",
        confidence=20,
    )
    only_public = _view(store, "shared.example.net", ["public"])
    _ingest(
        store,
        tmp_path,
        "red.txt",
        "shared.example.net\n",
        enclave="secret",
        source="insider",
        confidence=100,
        tlp="red",
    )
    sources.set_reliability(store, "insider", 5, actor="t", scorer=SCORER)
    assert _view(store, "shared.example.net", ["public"]) == only_public
    both = _view(store, "shared.example.net", ["public", "secret"])
    assert both["score"] > only_public["score"] and both["enclave"] == "secret"
    assert not any("insider" in f["text"] for f in only_public["risk_factors"])


def test_decay_restarts_on_a_sighting(store: Store, tmp_path: Path) -> None:
    _ingest(store, tmp_path, "a.txt", "203.0.113.9\n", enclave="soc", source="feed", confidence=90)
    fresh = _view(store, "203.0.113.9")["score"]
    later = clock() + 25 * DAY
    res = scoring.sweep(store, scorer=SCORER, now=later)
    assert res.rows == 1 and res.changed == 1
    decayed = _view(store, "203.0.113.9", now=later)
    assert decayed["score"] < fresh
    assert any(f["kind"] == "decay" for f in decayed["risk_factors"])
    verdicts.record_sighting(
        store, "203.0.113.9", enclave="soc", actor="t", scorer=SCORER, seen_at=clock()
    )
    scoring.rescore(store, _pks(store), scorer=SCORER, now=clock())
    seen = _view(store, "203.0.113.9")
    assert seen["score"] >= fresh
    assert any("sighted in our network today" in f["text"] for f in seen["risk_factors"])


def _enrich(store: Store, pk: int, verdict: str, score: int) -> None:
    job = create_job(store, "enrich", {})
    with store.write() as conn:
        store_results(
            conn,
            job,
            "virustotal",
            [
                Answer(
                    indicator_pk=pk, status="ok", fetched_at=clock(), verdict=verdict, score=score
                )
            ],
            at=clock(),
        )


def _pks(store: Store) -> list[int]:
    with store.read() as conn:
        return [r[0] for r in conn.execute(sa.select(schema.indicator.c.pk))]


def test_a_pin_survives_reingest_and_enrichment(store: Store, tmp_path: Path) -> None:
    _ingest(store, tmp_path, "a.txt", "pinned.example.org\n", enclave="soc", source="feed")
    verdicts.pin(
        store,
        "pinned.example.org",
        "critical",
        enclave="soc",
        actor="alice",
        scorer=SCORER,
        comment="IR case 12",
    )
    _ingest(store, tmp_path, "b.txt", "pinned.example.org\n", enclave="soc", source="feed")
    pk = _pks(store)[0]
    _enrich(store, pk, "benign", 0)
    scoring.rescore(store, [pk], scorer=SCORER)
    v = _view(store, "pinned.example.org")
    assert v["risk"] == "critical" and v["pinned"]["by"] == "alice"
    assert v["risk_recommended"] in ("none", "low", "medium")
    assert verdicts.unpin(store, "pinned.example.org", enclave="soc", actor="alice", scorer=SCORER)
    assert _view(store, "pinned.example.org")["risk"] == v["risk_recommended"]


def test_enrichment_verdicts_are_factors(store: Store, tmp_path: Path) -> None:
    _ingest(store, tmp_path, "a.txt", "bad.example.org\n", enclave="soc", source="feed")
    pk = _pks(store)[0]
    _enrich(store, pk, "malicious", 90)
    scoring.rescore(store, [pk], scorer=SCORER)
    v = _view(store, "bad.example.org")
    assert v["risk"] in ("high", "critical") and v["high_priority"]
    assert any(f["text"].startswith("virustotal: malicious") for f in v["risk_factors"])


def test_verdicts_are_audited_and_become_training_labels(store: Store, tmp_path: Path) -> None:
    _ingest(
        store, tmp_path, "a.txt", "fp.example.org\nreal.example.org\n", enclave="soc", source="feed"
    )
    verdicts.record_verdict(
        store,
        "fp.example.org",
        "false-positive",
        enclave="soc",
        actor="bob",
        scorer=SCORER,
        comment="our CDN",
    )
    verdicts.record_verdict(
        store, "real.example.org", "malicious", enclave="soc", actor="bob", scorer=SCORER
    )
    assert _view(store, "fp.example.org")["risk"] == "none"
    assert _view(store, "real.example.org")["score"] >= 90
    assert sorted(verdicts.labelled_examples(store)) == [
        ("fp.example.org", "domain", False),
        ("real.example.org", "domain", True),
    ]
    with store.read() as conn:
        actions = [r[0] for r in conn.execute(sa.select(schema.audit.c.action))]
    assert actions.count("indicator.verdict") == 2
    hist = verdicts.verdicts(store, "fp.example.org")
    assert hist[0]["comment"] == "our CDN" and hist[0]["actor"] == "bob"


def test_sweep_agrees_with_event_scoring(store: Store, tmp_path: Path) -> None:
    lines = "".join(f"host{i}.example.net\n" for i in range(50)) + "".join(
        f"198.51.100.{i}\n" for i in range(50)
    )
    _ingest(store, tmp_path, "a.txt", lines, enclave="soc", source="feed", confidence=80)
    at = clock() + 10 * DAY
    scoring.sweep(store, scorer=SCORER, now=at)
    with store.read() as conn:
        swept = dict(
            conn.execute(
                sa.select(schema.indicator_score.c.indicator_pk, schema.indicator_score.c.score)
            ).all()
        )
    scoring.rescore(store, list(swept), scorer=SCORER, now=at)
    with store.read() as conn:
        direct = dict(
            conn.execute(
                sa.select(schema.indicator_score.c.indicator_pk, schema.indicator_score.c.score)
            ).all()
        )
    assert swept == direct
    assert len(set(direct.values())) == 2  # IPs decay faster than domains


def test_the_serve_sweeper_scores_what_workers_left_unscored(
    store: Store, tmp_path: Path, scoring_data_dir: Path
) -> None:
    f = tmp_path / "a.txt"
    f.write_text("unscored.example-zq.net\n")
    assert ingest(store, f, IngestOptions(enclave="soc", source="feed")).status == "done"
    with store.read() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(schema.indicator_score)).scalar()
            == 0
        )
    sweeper = scoring.Sweeper(store, scoring_data_dir, interval=3600)
    sweeper.start()
    deadline = clock() + 120
    while sweeper.passes == 0 and clock() < deadline:
        sweeper.stopped.wait(0.1)
    sweeper.stop()
    v = _view(store, "unscored.example-zq.net")
    assert v["risk"] != "unknown"
    assert v["model_p"] is not None  # the shipped model scored the domain
    assert any(f["kind"] == "model" for f in v["risk_factors"])
    # the pass ran in a child process (`spoorhound score sweep`), not in the API's
    assert sweeper.last is not None and sweeper.last["rescored"] >= 1
    assert sweeper.last["rows"] >= 1


def test_a_failing_sweep_pass_is_logged_with_its_reason_and_retried(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "scoring.toml").write_text("[scoring]\nsighting_wieght = 0.3\n")  # a typo
    sweeper = scoring.Sweeper(store, data, interval=0.2)
    with caplog.at_level("ERROR", logger="spoorhound.services.scoring"):
        sweeper.start()
        deadline = clock() + 120
        while sweeper.passes < 2 and clock() < deadline:
            sweeper.stopped.wait(0.1)
        sweeper.stop()
        sweeper.join(timeout=60)
    assert sweeper.passes >= 2 and sweeper.last is None  # tried again, never succeeded
    assert "score sweep failed" in caplog.text and "sighting_wieght" in caplog.text


def test_a_false_positive_can_go_to_a_safelist_which_then_vetoes_everywhere(
    store: Store, tmp_path: Path, scoring_data_dir: Path
) -> None:
    import pytest

    from spoorhound.services import safelists

    _ingest(store, tmp_path, "a.txt", "cdn-edge.example-zq.net\n", enclave="soc", source="feed")
    _ingest(store, tmp_path, "b.txt", "cdn-edge.example-zq.net\n", enclave="intel", source="feed")
    scorer = scoring.Scorer.load(store, scoring_data_dir, with_model=False)
    with pytest.raises(LookupError, match="nope"):
        verdicts.record_verdict(
            store, "cdn-edge.example-zq.net", "false_positive", enclave="soc", actor="bob",
            scorer=scorer, safelist="nope",
        )  # fmt: skip
    assert verdicts.labelled_examples(store) == []  # nothing written
    safelists.create_safelist(store, "our-cdn", actor="t")
    verdicts.record_verdict(
        store, "cdn-edge.example-zq.net", "false_positive", enclave="soc", actor="bob",
        scorer=scorer, safelist="our-cdn", comment="our CDN",
    )  # fmt: skip
    intel = _view(store, "cdn-edge.example-zq.net", ["intel"])
    assert intel["risk"] == "none"
    assert any(f["kind"] == "safelist" and "our-cdn" in f["text"] for f in intel["risk_factors"])


def test_rescore_reports_progress_batch_by_batch(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scoring, "BATCH", 3)
    since = clock()
    f = tmp_path / "seven.txt"
    f.write_text("".join(f"203.0.113.{i}\n" for i in range(1, 8)))
    assert ingest(store, f, IngestOptions(enclave="soc", source="feed")).status == "done"
    seen: list[tuple[int, int]] = []
    written = scoring.rescore_since(
        store, enclave="soc", since=since, scorer=SCORER, progress=lambda d, t: seen.append((d, t))
    )
    assert written == 7
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]
