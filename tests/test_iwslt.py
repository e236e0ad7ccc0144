"""IWSLT'14 for chapter 6's GPU presets, tested offline on a tiny corpus written in the Hub's Parquet format: the
loader, the tokenizers, and one training job of the sweep on it."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from ddd_utils.data import iwslt, translation
from ddd_utils.experiments import translation_corpus as tc
from ddd_utils.experiments import translation_sweep as ts

GERMAN = ["der hund", "die katze", "ein haus", "das auto", "der baum", "die blume", "ein buch", "das kind"]
ENGLISH = ["the dog", "the cat", "a house", "the car", "the tree", "the flower", "a book", "the child"]


def write_corpus(root, sizes=(("train", 40), ("validation", 6), ("test", 12))):
    """Splits of sentence pairs as Parquet files with a `translation` column, one folder per split, as in the Hub's
    export; returns the pairs written per split."""
    import datasets

    written = {}
    for split, count in sizes:
        pairs = [(f"{GERMAN[i % 8]} {i}.", f"{ENGLISH[i % 8].capitalize()} {i}.") for i in range(count)]
        folder = root / "iwslt14" / "de-en" / split
        folder.mkdir(parents=True)
        datasets.Dataset.from_dict({"translation": [{"de": de, "en": en} for de, en in pairs]}).to_parquet(
            str(folder / "0000.parquet"))
        written[split] = pairs
    return written


def test_each_split_is_read_in_order_from_its_parquet_files(tmp_path):
    written = write_corpus(tmp_path)
    for split in iwslt.SPLITS:
        german, english = iwslt.load_pairs(tmp_path, split)
        assert list(zip(german, english, strict=True)) == written[split]
    with pytest.raises(ValueError, match="split must be one of"):
        iwslt.split_files(tmp_path, "dev")


def test_a_missing_corpus_is_downloaded_once_and_then_named_if_still_missing(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(iwslt, "download", lambda root: calls.append(root))  # no network here
    with pytest.raises(FileNotFoundError, match="no Parquet files of split 'test' under"):
        iwslt.load_pairs(tmp_path, "test")
    assert calls == [tmp_path]


def test_the_tokenizer_puts_the_special_tokens_first_and_covers_its_training_text(tmp_path):
    write_corpus(tmp_path)
    german, _ = iwslt.load_pairs(tmp_path, "train")
    tokenizer = iwslt.fit_tokenizer(german, vocab_size=60)
    assert [tokenizer.token_to_id(token) for token in iwslt.SPECIAL_TOKENS[:3]] == [
        translation.PAD, translation.BOS, translation.EOS]
    assert tokenizer.get_vocab_size() <= 60
    for sentence, ids in zip(german, iwslt.encode(tokenizer, german), strict=True):
        pieces = [tokenizer.id_to_token(int(i)) for i in ids]
        assert "[UNK]" not in pieces
        assert "".join(pieces) == sentence.lower().replace(" ", "")  # lower-cased, split, nothing lost


def test_one_training_job_runs_on_the_corpus_with_nested_training_sets(tmp_path):
    write_corpus(tmp_path)
    config = dataclasses.replace(ts.PRESETS["smoke"], dataset="iwslt14", token_noise=0.0, data_root=str(tmp_path),
                                 vocab_size=60, n_trains=(10, 20), test_size=8, steps=4, eval_count=2)
    shared = dataclasses.asdict(config)
    small, large = tc.corpus(shared, 10), tc.corpus(shared, 20)
    assert np.array_equal(small.source.numpy(), large.source[:10, : small.source.shape[1]].numpy())
    assert small.source_vocab == large.source_vocab <= 60
    histories = ts.run(ts.run_configs(config)[:2])
    assert all(math.isfinite(value) for history in histories for value in history["test_loss"])
    with pytest.raises(ValueError, match="n_train must be at most"):
        tc.corpus(shared, 10_000)
    with pytest.raises(ValueError, match="token_noise must be 0 with dataset 'iwslt14'"):
        dataclasses.replace(config, token_noise=0.1)
