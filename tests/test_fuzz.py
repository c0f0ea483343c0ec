"""Fuzzing with hypothesis: the ONNX text path of every installed space, corrupted texts,
and arbitrary number-token sequences.

(Round trips of the number tokenizer over 10,000 floats and "constrained decoding never
yields an invalid number" live in test_rlm_numbers.py and test_rlm_model.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlab import load_space
from searchlab.core.candidate import text_key
from searchlab.core.onnx_text import OnnxTextError, canonical_text, check_text, parse_text
from searchlab.core.registry import available_spaces
from searchlab.rlm.numbers import NumberTokenizer

SPACES = sorted(available_spaces())
_loaded: dict[str, object] = {}


def space_named(name: str):
    if name not in _loaded:
        _loaded[name] = load_space(name)
    return _loaded[name]


def test_every_installed_space_is_fuzzed():
    assert {"nb201", "fbnet"} <= set(SPACES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SPACES), st.integers(0, 2**32 - 1))
def test_random_candidates_parse_back_and_check(name, seed):
    space = space_named(name)
    rng = np.random.default_rng(seed)
    parent = space.sample(rng)
    family = [parent, space.mutate(parent, rng)]
    if space.has_crossover():
        family.append(space.crossover(parent, space.sample(rng), rng))
    for cand in family:
        model = check_text(cand.text, f"{name}:{cand.key}")  # parses and passes the checker
        assert canonical_text(model) == cand.text  # the rendering is a fixed point
        assert text_key(cand.text) == cand.key
        again = space.candidate(cand.genotype)
        assert again.text == cand.text and again.key == cand.key


EDITS = st.sampled_from(["delete", "insert", "replace", "swap", "truncate"])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SPACES), st.integers(0, 1000), EDITS, st.integers(0, 10**6), st.text(
    alphabet="(){}[]<>=,:;\"' abcxyz0123456789.-_\n", min_size=1, max_size=4))  # fmt: skip
def test_corrupted_texts_fail_only_with_a_clear_error(name, seed, edit, where, chunk):
    text = space_named(name).sample(np.random.default_rng(seed)).text
    i = where % len(text)
    corrupted = {
        "delete": text[:i] + text[i + len(chunk) :],
        "insert": text[:i] + chunk + text[i:],
        "replace": text[:i] + chunk + text[i + len(chunk) :],
        "swap": text[:i] + text[i + 1 : i + 2] + text[i : i + 1] + text[i + 2 :],
        "truncate": text[:i],
    }[edit]
    try:
        check_text(corrupted, "fuzzed.onnx.txt")
    except OnnxTextError as exc:  # the only failure allowed: one that names the source
        assert str(exc).startswith("fuzzed.onnx.txt: ")
        assert "\n" not in str(exc)


@pytest.mark.parametrize("text", ["", "\x00", "<>", "agraph", "<ir_version: -1>\ng () => () {}"])
def test_degenerate_texts_are_refused_by_name(text):
    with pytest.raises(OnnxTextError, match="^x.txt: "):
        check_text(text, "x.txt")


TOK = NumberTokenizer(digits=4, min_exp=-10, max_exp=10)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.integers(-3, len(TOK.vocab) + 3), min_size=0, max_size=TOK.length + 2))
def test_arbitrary_token_sequences_decode_or_raise_value_error(ids):
    try:
        value = TOK.decode(ids)
    except ValueError:
        return
    assert len(ids) == TOK.length and np.isfinite(value)
    assert TOK.decode_many(np.array([ids]))[0] == value
    assert abs(value) <= TOK.max_value


def test_parse_text_never_leaks_a_parser_exception():
    with pytest.raises(OnnxTextError):
        parse_text("<" * 1000, "deep.txt")
