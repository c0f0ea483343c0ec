from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlab import load_space
from searchlab.rlm.text import FILENAME, SPECIALS, TextTokenizer, TokenizerError

ODD = [
    "",
    "\n\n\n",
    "lat_ms_my_new_phone",
    "emoji 🙂🚀 and CJK 模型搜索 and ünïcödé",
    "control \x00\x01\x7f\r\t\x1b[0m end",
    "<pad><bos><eos><sep><unk> are plain text here",
    "float[16,16,3,3] h1_0,\r\nh1 = l.cell (h0,h1_0)\n" * 3,
    "\U0010ffff\ufeff\u200b",
]


def _texts(space: str, n: int, seed: int) -> list[str]:
    s = load_space(space)
    rng = np.random.default_rng(seed)
    return [s.sample(rng).text for _ in range(n)]


@pytest.fixture(scope="module")
def nb201() -> tuple[list[str], list[str]]:
    return _texts("nb201", 500, 1), _texts("nb201", 300, 2)


@pytest.fixture(scope="module")
def tok(nb201) -> TextTokenizer:
    return TextTokenizer.train(nb201[0], vocab_size=2048)


def test_special_ids(tok):
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.sep_id) == (0, 1, 2, 3)
    assert (tok.PAD, tok.BOS, tok.EOS, tok.SEP, tok.UNK) == SPECIALS
    assert tok.vocab_size == 2048
    assert tok.decode([tok.bos_id, tok.pad_id, tok.eos_id]) == ""


def test_round_trip_real_texts(tok, nb201):
    test = nb201[1]
    batch = tok.encode_batch(test)
    assert batch[:20] == [tok.encode(t) for t in test[:20]]
    assert [tok.decode(ids) for ids in batch] == test
    assert all(0 <= i < tok.vocab_size for ids in batch for i in ids)


@pytest.mark.parametrize("text", ODD)
def test_round_trip_unseen_characters(tok, text):
    ids = tok.encode(text)
    assert min(ids, default=len(SPECIALS)) >= len(SPECIALS)  # specials never come from text
    assert tok.decode(ids) == text
    assert tok.encode_batch([text, text]) == [ids, ids]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_round_trip_arbitrary_text(tok, text):
    assert tok.decode(tok.encode(text)) == text


def test_short_and_split_at_lines(tok, nb201):
    counts = [len(ids) for ids in tok.encode_batch(nb201[1])]
    assert np.median(counts) <= 200
    # merges never cross a line break: a newline can only end a token
    pieces = [tok.decode([i]) for i in range(len(SPECIALS), tok.vocab_size)]
    assert not [p for p in pieces if "\n" in p[:-1]]


def test_deterministic(nb201, tmp_path):
    a, b = (TextTokenizer.train(nb201[0][:200], vocab_size=1024) for _ in range(2))
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    assert (tmp_path / "a" / FILENAME).read_bytes() == (tmp_path / "b" / FILENAME).read_bytes()


def test_vocab_too_small():
    with pytest.raises(ValueError, match="vocab_size"):
        TextTokenizer.train(["x"], vocab_size=100)


def test_decode_rejects_unknown_ids(tok):
    with pytest.raises(ValueError, match="out of range"):
        tok.decode([5, tok.vocab_size])


def test_extend_keeps_ids_and_learns_new_text(tok):
    mlp = _texts("plugin_space:MlpSpace", 30, 0)
    before = [tok.encode(t) for t in mlp]
    ext = tok.extend(mlp, extra_tokens=200)
    assert tok.vocab_size < ext.vocab_size <= tok.vocab_size + 200
    old = range(tok.vocab_size)
    assert [ext.decode([i]) for i in old] == [tok.decode([i]) for i in old]
    after = [ext.encode(t) for t in mlp]
    assert np.median([len(x) for x in after]) < np.median([len(x) for x in before]) / 3
    assert [ext.decode(x) for x in after] == mlp
    for text in ODD:
        assert ext.decode(ext.encode(text)) == text
    # the old tokenizer is untouched
    assert tok.vocab_size == 2048
    assert [tok.encode(t) for t in mlp] == before


def test_extend_limits(tok):
    mlp = _texts("plugin_space:MlpSpace", 30, 0)
    assert tok.extend(mlp, extra_tokens=0).vocab_size == tok.vocab_size
    assert tok.extend(mlp, extra_tokens=7).vocab_size == tok.vocab_size + 7
    # texts the tokenizer already covers add nothing: each line is a single token
    full = TextTokenizer.train(mlp, vocab_size=4096)
    assert full.extend(mlp).vocab_size == full.vocab_size


def test_save_load(tok, nb201, tmp_path):
    tok.save(tmp_path / "new" / "dir")
    loaded = TextTokenizer.load(tmp_path / "new" / "dir")
    assert loaded.vocab_size == tok.vocab_size
    assert loaded.encode_batch(nb201[1][:50]) == tok.encode_batch(nb201[1][:50])
    loaded.save(tmp_path / "again")
    assert (tmp_path / "again" / FILENAME).read_bytes() == (
        tmp_path / "new" / "dir" / FILENAME
    ).read_bytes()


def test_load_errors(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(TokenizerError, match="nowhere"):
        TextTokenizer.load(missing)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / FILENAME).write_text('{"model": {"type": "BPE", "vocab": ', encoding="utf-8")
    with pytest.raises(TokenizerError, match=re.escape(str(corrupt / FILENAME))):
        TextTokenizer.load(corrupt)
    assert issubclass(TokenizerError, ValueError)


def test_load_rejects_foreign_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / FILENAME).write_text(Tokenizer(models.BPE({"a": 0}, [])).to_str())
    with pytest.raises(TokenizerError, match="foreign"):
        TextTokenizer.load(foreign)


@pytest.mark.parametrize("split", ["args", "nodes"])
def test_finer_splits_share_operator_tokens_and_survive_save_and_extend(split, nb201, tmp_path):
    fine = TextTokenizer.train(nb201[0], vocab_size=2048, split=split)
    text = nb201[1][0]
    pieces = [fine.decode([i]) for i in fine.encode(text)]
    assert "".join(pieces) == text
    # the argument list of a node line is its own piece: no token holds both "Conv" and "("
    assert not [p for p in pieces if "Conv" in p and " (" in p]
    counts = [len(ids) for ids in fine.encode_batch(nb201[1])]
    assert np.median(counts) <= 200
    fine.save(tmp_path)
    loaded = TextTokenizer.load(tmp_path)
    assert loaded.encode(text) == fine.encode(text)
    mlp = _texts("plugin_space:MlpSpace", 30, 0)
    bigger = loaded.extend(mlp, extra_tokens=50)
    grown = [bigger.decode([i]) for i in bigger.encode(mlp[0])]
    assert "".join(grown) == mlp[0]
    assert not [p for p in grown if "Gemm" in p and " (" in p]  # the split survives extend


def test_unknown_split_is_named():
    with pytest.raises(ValueError, match="'words'"):
        TextTokenizer.train(["x = Relu (y)\n"], vocab_size=300, split="words")
