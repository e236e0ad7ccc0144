"""A page's claims about its own run fail the build with their text, except on `smoke`."""

import pytest

from ddd_utils.notebook.claims import ClaimFailed, check_claims


def test_a_false_claim_fails_with_its_text_and_true_ones_pass(capsys):
    check_claims("cpu", {"the peak is 3 points high": True})
    assert "holds: the peak is 3 points high" in capsys.readouterr().out
    with pytest.raises(ClaimFailed, match="contradicts the page: more data hurts at k = 8"):
        check_claims("cpu", {"the peak is 3 points high": True, "more data hurts at k = 8": False})


def test_smoke_runs_skip_the_check_and_say_so(capsys):
    check_claims("smoke", {"anything": False})
    assert "not checked" in capsys.readouterr().out
