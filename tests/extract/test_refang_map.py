"""The refang pre-pass's offset map agrees with itself and with the original text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spoorhound.core._extract_refang import refang_with_map

PIECES = st.sampled_from(
    ["a", "b.", " ", "[.]", "(dot)", "[at]", "hxxp", "://", "[:]", "-\n", "x.y", "\n"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join), st.data())
def test_span_matches_start_end_touches(text: str, data: st.DataObject) -> None:
    refanged, omap = refang_with_map(text)
    if omap is None:
        assert refanged == text
        return
    start = data.draw(st.integers(0, max(0, len(refanged) - 1)))
    end = data.draw(st.integers(start + 1, max(start + 1, len(refanged))))
    assert omap.span(start, end) == (omap.start(start), omap.end(end), omap.touches(start, end))
    ostart, oend, _ = omap.span(start, end)
    assert 0 <= ostart <= oend <= len(text)


def test_known_map() -> None:
    text = "go hxxps[:]//evil[.]com now"
    refanged, omap = refang_with_map(text)
    assert refanged == "go https://evil.com now"
    assert omap is not None
    s = refanged.index("evil.com")
    ostart, oend, defanged = omap.span(s, s + len("evil.com"))
    assert text[ostart:oend] == "evil[.]com" and defanged


def test_every_scheme_spelling_is_refanged() -> None:
    # "htxp" / "hTXp" (t before x) was missed while the other spellings were found
    for spelled in ("hxxp", "hXXp", "hxxxp", "hxtp", "htxp", "hTXp", "h**p", "h__p"):
        refanged, _ = refang_with_map(f"see {spelled}s[:]//evil[.]com/a and {spelled}://b.org")
        assert refanged == "see https://evil.com/a and http://b.org", spelled
    assert refang_with_map("fxp://files[.]example")[0] == "ftp://files.example"
    # inside a word it is not a scheme
    assert refang_with_map("ahxxp://x")[0] == "ahxxp://x"
