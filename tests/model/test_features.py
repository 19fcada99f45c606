"""Features: shape, NaN rows for what the model cannot score, determinism."""

from __future__ import annotations

import math

import numpy as np

from spoorhound.model.features import (
    FEATURE_NAMES,
    NgramRegression,
    _word_logfreq,
    char_features,
    describe,
    featurize,
    lr_ngrams,
    registered_domain,
    registrant_name,
    segment,
    supports,
)


def test_shape_and_dtype() -> None:
    X = featurize(["example.org", "a.b.example.co.uk"], ["domain", "domain"])
    assert X.shape == (2, len(FEATURE_NAMES))
    assert X.dtype == np.float32
    assert not np.isnan(X[0, FEATURE_NAMES.index("name_entropy")])


def test_unsupported_types_and_ip_hosts_are_nan_rows() -> None:
    assert supports("domain") and supports("url")
    assert not supports("ipv4") and not supports("sha256")
    X = featurize(
        ["1.2.3.4", "http://1.2.3.4/x.exe", "d41d8cd98f00b204e9800998ecf8427e", "example.org"],
        ["ipv4", "url", "md5", "domain"],
    )
    assert np.isnan(X[:3]).all()
    assert not np.isnan(X[3]).all()


def test_url_is_scored_by_its_host() -> None:
    X = featurize(["https://login.example.net/a/b.php?x=1", "login.example.net"], ["url", "domain"])
    np.testing.assert_array_equal(X[0], X[1])


def test_deterministic_and_order_independent() -> None:
    values = ["qwxzpkrtvbn.top", "wikipedia.org", "x1.duckdns.org"]
    a = featurize(values, ["domain"] * 3)
    b = featurize(values[::-1], ["domain"] * 3)[::-1]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, featurize(values, ["domain"] * 3))


def test_the_registered_domain_is_described() -> None:
    assert registered_domain("www.bbc.co.uk") == "bbc.co.uk"
    assert registrant_name("www.bbc.co.uk") == "bbc"
    X = featurize(["www.bbc.co.uk", "bbc.co.uk", "a.b.c.bbc.co.uk"], ["domain"] * 3)
    np.testing.assert_array_equal(X[0], X[1])
    np.testing.assert_array_equal(X[0], X[2])
    row = dict(zip(FEATURE_NAMES, X[0], strict=True))
    assert row["suffix_labels"] == 2.0 and row["name_length"] == 3.0


def test_private_suffix_hosts_and_bare_suffixes_are_not_scored() -> None:
    assert registered_domain("x1.duckdns.org") is None
    X = featurize(["x1.duckdns.org", "evil.blogspot.com", "co.uk", "a..com"], ["domain"] * 4)
    assert np.isnan(X).all()


def test_generated_names_have_higher_entropy_and_lower_bigram_likelihood() -> None:
    X = featurize(["xjqvzkwpfhtr.com", "homedepot.com"], ["domain", "domain"])
    i, j = FEATURE_NAMES.index("name_bigram"), FEATURE_NAMES.index("name_consonant_run")
    assert X[0, i] < X[1, i]
    assert X[0, j] > X[1, j]


def test_describe_is_readable() -> None:
    assert describe("name_entropy", 3.91) == "name entropy 3.9 bits/char"
    assert describe("brand_lure", 1.0) == "contains a brand or lure word"
    assert "TLD" in describe("tld", 0.0)
    assert describe("ngram_logodds", math.nan).startswith("no ")
    assert describe("name_word_coverage", 0.5) == "50% of the name in dictionary words"


def test_word_features_tell_words_from_random_letters() -> None:
    assert segment("stonecoremason", _word_logfreq()) == ["stone", "core", "mason"]
    X = featurize(["stonecoremason.com", "xkqzjvbwpltr.com"], ["domain", "domain"])
    row = {n: X[:, i] for i, n in enumerate(FEATURE_NAMES)}
    assert row["name_words"][0] == 3.0
    assert row["name_word_coverage"][0] == 1.0 and row["name_word_coverage"][1] < 0.5
    assert row["name_nonword_run"][0] == 0.0 and row["name_nonword_run"][1] >= 6.0
    assert row["name_trigram"][0] > row["name_trigram"][1]


def test_character_features_count_switches_and_runs() -> None:
    switches, repeat, rare, _vc, starts, ends = char_features("1a2bzzz9")
    assert (switches, repeat, starts, ends) == (4.0, 3.0, 1.0, 1.0)
    assert rare == 3 / 8


def test_ngram_regression_scores_by_its_weights() -> None:
    reg = NgramRegression({"^a": (2.0, 1.5), "b$": (1.0, -1.0)}, bias=0.25)
    # ^ab$ has the n-grams ^a and b$ in the table: (2·1.5 − 1·1) / √(4 + 1) + 0.25
    assert math.isclose(reg.score(lr_ngrams("ab")), 2.0 / math.sqrt(5.0) + 0.25, rel_tol=1e-9)
    assert reg.score(lr_ngrams("zz")) == 0.25


def test_ngram_regression_does_not_depend_on_the_order_of_its_inputs() -> None:
    # n-grams come as a set, whose order changes with the hash seed: the shipped model
    # must come out the same from every training run (a plain sum gives 0 or 1 here)
    reg = NgramRegression({"a": (1.0, 1e16), "b": (1.0, -1e16), "c": (1.0, 1.0)})
    assert reg.score(["a", "b", "c"]) == reg.score(["a", "c", "b"]) == 1 / math.sqrt(3)
