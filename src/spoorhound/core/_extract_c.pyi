"""Type stub of the C accelerator (``_extract_c.c``); see ``_extract_accel``."""

from spoorhound.core._extract_emit import Row
from spoorhound.core._extract_model import Candidate
from spoorhound.core._extract_refang import OffsetMap
from spoorhound.core._extract_run import Run
from spoorhound.core.indicators import IndicatorType

SOURCE_HASH: str

def configure(
    cidr: IndicatorType,
    ipv4: IndicatorType,
    domain: IndicatorType,
    filename: IndicatorType,
    url_host: tuple[str, ...],
    email_domain: tuple[str, ...],
    candidate: type[Candidate],
    /,
) -> None: ...
def dotted(
    run: Run, starts: list[int], ends: list[int], want_domain: bool, want_file: bool, /
) -> None: ...
def tokens(text: str, kind: str, /) -> tuple[list[int], list[int]]: ...
def hinted(
    text: str,
    starts: list[int],
    order: list[int],
    words: tuple[str, ...],
    lookback: int,
    min_window: int,
    /,
) -> dict[int, int] | None: ...
def columns(
    rows: list[Row], omap: OffsetMap | None, /
) -> tuple[
    list[int],
    list[int],
    list[tuple[str, ...]],
    list[int],
    list[int],
    list[int],
    list[int],
]: ...
def build(
    rows: list[Row],
    order: list[int],
    ostarts: list[int],
    oends: list[int],
    fixes: dict[int, tuple[int, frozenset[str]]],
    original: str,
    flat: str,
    width: int,
    flagsets: dict[tuple[str, ...], frozenset[str]],
    /,
) -> list[Candidate]: ...
