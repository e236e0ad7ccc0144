"""Claims a page makes about its own run, checked when the page runs: a sentence that stopped being true fails the
book build with its own text instead of being published. `smoke` runs are too small to show the effects a page
describes, so they skip the check (and print that they did)."""

from __future__ import annotations

from collections.abc import Mapping

from ddd_utils.analysis.curves import wrapped


class ClaimFailed(AssertionError):
    """A claim the page makes about this run is false for this run."""


def check_claims(preset: str, claims: Mapping[str, bool]) -> None:
    """Print each claim with its verdict; raise ClaimFailed naming every false one, unless `preset` is 'smoke'."""
    if preset == "smoke":
        print(f"'smoke' run: {len(claims)} claims about the 'cpu' run not checked (too small a run to show them)")
        return
    for claim, holds in claims.items():
        print(wrapped(f"{'holds' if holds else 'FALSE'}: {claim}"))  # within the page's code box
    false = [claim for claim, holds in claims.items() if not holds]
    if false:
        raise ClaimFailed(f"this '{preset}' run contradicts the page: " + "; ".join(false))
