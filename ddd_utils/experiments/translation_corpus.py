"""The sentence pairs of chapter 6's Transformer sweep as padded tensors: the generated task (the CPU stand-in, its
training targets carrying token noise) or IWSLT'14 German-English, tokenized. Training sets are nested: a smaller
one is a prefix of a larger one, and every size shares one test set."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from ddd_utils.data import iwslt, translation


@dataclass(frozen=True)
class Corpus:
    """Padded tensors of a task: its training pairs (the generated task's with token noise in the targets), its
    test pairs, and each language's vocabulary size."""

    source: torch.Tensor       # (N, S)
    target_in: torch.Tensor    # (N, T) [BOS, words]
    target_out: torch.Tensor   # (N, T) [words, EOS]
    test_source: torch.Tensor
    test_target_in: torch.Tensor
    test_target_out: torch.Tensor
    source_vocab: int
    target_vocab: int


def corpus(shared: dict, n_train: int) -> Corpus:
    """The first `n_train` training pairs of the run's dataset and its test pairs, padded."""
    if shared["dataset"] == "iwslt14":
        return _iwslt_corpus(shared, n_train)
    return synthetic_corpus(shared, n_train)


def synthetic_corpus(shared: dict, n_train: int) -> Corpus:
    """The generated task's first `n_train` training pairs, their target words replaced with probability
    `token_noise` by a random word (fixed by `data_seed`, the same for every run), and the test pairs after them."""
    grammar = translation.Grammar(shared["nouns"], shared["verbs"], shared["adjectives"])
    pairs = translation.generate_pairs(grammar, shared["test_size"] + n_train, shared["data_seed"])
    rng = np.random.default_rng((shared["data_seed"], 1))
    noisy = []
    for target in pairs.target[shared["test_size"]:]:
        replace = rng.random(target.size) < shared["token_noise"]
        noisy.append(np.where(replace, rng.integers(translation.FIRST_WORD, grammar.vocab, target.size), target))
    test_in, test_out = translation.teacher_forcing(pairs.target[: shared["test_size"]])
    target_in, target_out = translation.teacher_forcing(noisy)
    return Corpus(translation.pad_batch(pairs.source[shared["test_size"]:]), target_in, target_out,
                  translation.pad_batch(pairs.source[: shared["test_size"]]), test_in, test_out, grammar.vocab,
                  grammar.vocab)


@functools.lru_cache(maxsize=2)
def _iwslt_tokens(data_root: str, vocab_size: int, max_tokens: int, data_seed: int) -> tuple[list, list, int, int]:
    """IWSLT'14 tokenized (a tokenizer per language, fitted on the whole training split): the training pairs of
    at most `max_tokens` tokens in a fixed shuffled order (by `data_seed`), the test pairs likewise filtered, in
    order, and the two vocabulary sizes."""
    def tokenized(split: str, tokenizers=None):
        german, english = iwslt.load_pairs(data_root, split)
        tokenizers = tokenizers or (iwslt.fit_tokenizer(german, vocab_size), iwslt.fit_tokenizer(english, vocab_size))
        pairs = [(s, t) for s, t in zip(iwslt.encode(tokenizers[0], german), iwslt.encode(tokenizers[1], english),
                                        strict=True) if 0 < len(s) <= max_tokens and 0 < len(t) < max_tokens]
        return pairs, tokenizers

    train, tokenizers = tokenized("train")
    test, _ = tokenized("test", tokenizers)
    order = np.random.default_rng((data_seed, 2)).permutation(len(train))
    return [train[i] for i in order], test, tokenizers[0].get_vocab_size(), tokenizers[1].get_vocab_size()


def _iwslt_corpus(shared: dict, n_train: int) -> Corpus:
    """IWSLT'14's first `n_train` training pairs (of a fixed shuffled order) and first `test_size` test pairs."""
    train, test, source_vocab, target_vocab = _iwslt_tokens(shared["data_root"], shared["vocab_size"],
                                                            shared["max_tokens"], shared["data_seed"])
    for name, wanted, available in (("n_train", n_train, len(train)), ("test_size", shared["test_size"], len(test))):
        if wanted > available:
            raise ValueError(f"{name} must be at most {available} (the IWSLT'14 pairs of at most max_tokens = "
                             f"{shared['max_tokens']} tokens); got {wanted}")
    train, test = train[:n_train], test[: shared["test_size"]]
    target_in, target_out = translation.teacher_forcing([t for _, t in train])
    test_in, test_out = translation.teacher_forcing([t for _, t in test])
    return Corpus(translation.pad_batch([s for s, _ in train]), target_in, target_out,
                  translation.pad_batch([s for s, _ in test]), test_in, test_out, source_vocab, target_vocab)
