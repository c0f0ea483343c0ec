"""P10 number tokens: round trip over the range, clipping, bad values, masks."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlab.rlm.numbers import NumberRangeWarning, NumberTokenizer

TOK = NumberTokenizer(digits=4, min_exp=-10, max_exp=10)


def _tolerance(tok, value):
    return max(tok.relative_precision() * abs(value), 0.5 * 10.0**tok.min_exp) * (1 + 1e-9)


@settings(max_examples=10_000, deadline=None)
@given(st.floats(min_value=-TOK.max_value, max_value=TOK.max_value, allow_nan=False))
def test_round_trip_within_stated_precision(value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumberRangeWarning)  # tiny values round to zero
        ids = TOK.encode(value)
    assert len(ids) == TOK.length
    back = TOK.decode(ids)
    assert abs(back - value) <= _tolerance(TOK, value)
    assert TOK.decode_many(np.array([ids]))[0] == pytest.approx(back, rel=1e-12, abs=0)


@settings(max_examples=500, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(-12, 0),
    st.integers(0, 12),
    st.floats(min_value=1e-12, max_value=1e12, allow_nan=False),
)
def test_configurable_lengths_and_ranges(digits, min_exp, max_exp, value):
    tok = NumberTokenizer(digits=digits, min_exp=min_exp, max_exp=max_exp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumberRangeWarning)
        back = tok.decode(tok.encode(value))
    if value <= tok.max_value:
        assert abs(back - value) <= _tolerance(tok, value)
    else:
        assert back == tok.max_value


def test_paper_example_and_rounding_carry():
    tok = NumberTokenizer(digits=3)
    assert tok.tokens(72.5) == ["<+>", "<7>", "<2>", "<5>", "<E-1>"]
    assert tok.tokens(9.9996) == ["<+>", "<1>", "<0>", "<0>", "<E-1>"]
    assert tok.tokens(0.0) == ["<+>", "<0>", "<0>", "<0>", f"<E{tok.min_exp}>"]
    assert tok.decode(tok.encode(94.373)) == 94.4


def test_out_of_range_values_clip_with_a_warning():
    with pytest.warns(NumberRangeWarning, match="exceeds the largest number"):
        assert TOK.decode(TOK.encode(1e30)) == TOK.max_value
    with pytest.warns(NumberRangeWarning, match="rounded to 0"):
        assert TOK.decode(TOK.encode(1e-30)) == 0.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_rejected(bad):
    with pytest.raises(ValueError, match="non-finite"):
        TOK.encode(bad)


def test_decode_rejects_invalid_sequences():
    good = TOK.encode(3.5)
    with pytest.raises(ValueError, match="has 6 tokens"):
        TOK.decode(good[:-1])
    swapped = [good[1]] + good[1:]
    with pytest.raises(ValueError, match="not allowed at position 0"):
        TOK.decode(swapped)


def test_masks_allow_exactly_the_grammar():
    m = TOK.masks
    assert m.shape == (TOK.length, len(TOK.vocab))
    assert m[0].sum() == 2 and all(m[p].sum() == 10 for p in range(1, 5))
    assert m[-1].sum() == TOK.max_exp - TOK.min_exp + 1
