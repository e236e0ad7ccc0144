"""A generated translation task, the CPU stand-in for IWSLT'14 German-English in chapter 6, and the batching both use.

The source language has sentences subject-verb-object, each noun phrase a noun after up to `max_adjectives`
adjectives. The target language translates word for word through a random lexicon (a bijection, fixed by the
seed) and reorders: subject-object-verb, with the adjectives after their noun in reverse order. So it keeps what
makes translation a sequence-to-sequence problem (a vocabulary to learn, and long-range reordering that a
word-by-word model cannot do) and drops the rest (ambiguity, morphology, rare words).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ddd_utils._checks import check_nonnegative, check_positive_int
from ddd_utils.models.transformer import PAD

BOS, EOS = 1, 2  # the target's start and end tokens; token 0 is padding
FIRST_WORD = 3   # word ids start here in both languages


@dataclass(frozen=True)
class Grammar:
    """The generated language's vocabulary (words per class) and the most adjectives a noun phrase takes."""

    nouns: int = 40
    verbs: int = 20
    adjectives: int = 20
    max_adjectives: int = 2  # per noun phrase

    def __post_init__(self):
        for name in ("nouns", "verbs", "adjectives"):
            check_positive_int(name, getattr(self, name))
        check_nonnegative("max_adjectives", self.max_adjectives)

    @property
    def vocab(self) -> int:
        """Token ids per language: padding, start, end, and the words."""
        return FIRST_WORD + self.nouns + self.verbs + self.adjectives


@dataclass(frozen=True)
class TranslationPairs:
    """Sentence pairs of the generated task and the lexicon that produced their targets."""

    source: list[np.ndarray]  # word ids, no start or end token
    target: list[np.ndarray]  # word ids, no start or end token
    lexicon: np.ndarray       # lexicon[source id] = target id, for every id of the vocabulary


def generate_pairs(grammar: Grammar, count: int, seed: int) -> TranslationPairs:
    """`count` sentence pairs drawn from `grammar`, with the lexicon of `seed` (the same for every count, so a
    smaller set is the prefix of a larger one)."""
    count = check_positive_int("count", count)
    lexicon_rng, sentence_rng = (np.random.default_rng(stream) for stream in np.random.SeedSequence(seed).spawn(2))
    words = np.arange(FIRST_WORD, grammar.vocab)
    lexicon = np.concatenate([np.arange(FIRST_WORD), FIRST_WORD + lexicon_rng.permutation(words.size)])
    noun_ids = FIRST_WORD + np.arange(grammar.nouns)
    verb_ids = noun_ids[-1] + 1 + np.arange(grammar.verbs)
    adjective_ids = verb_ids[-1] + 1 + np.arange(grammar.adjectives)

    def noun_phrase() -> tuple[list[int], int]:
        adjectives = sentence_rng.choice(adjective_ids, size=sentence_rng.integers(0, grammar.max_adjectives + 1))
        return [int(a) for a in adjectives], int(sentence_rng.choice(noun_ids))

    sources, targets = [], []
    for _ in range(count):
        (subject_adjectives, subject), verb, (object_adjectives, obj) = (
            noun_phrase(), int(sentence_rng.choice(verb_ids)), noun_phrase())
        source = [*subject_adjectives, subject, verb, *object_adjectives, obj]
        target = [subject, *subject_adjectives[::-1], obj, *object_adjectives[::-1], verb]
        sources.append(np.array(source))
        targets.append(lexicon[np.array(target)])
    return TranslationPairs(sources, targets, lexicon)


def word_names(grammar: Grammar, lexicon: np.ndarray) -> dict[str, dict[int, str]]:
    """Readable names for a task's word ids: source words by their class (n0, v0, a0 ...), and each target word as
    its source word in capitals (N0 ...), so that a printed pair shows the translation and the reordering."""
    names, start = {}, FIRST_WORD
    for prefix, count in (("n", grammar.nouns), ("v", grammar.verbs), ("a", grammar.adjectives)):
        names.update({start + i: f"{prefix}{i}" for i in range(count)})
        start += count
    return {"source": names, "target": {int(lexicon[word]): name.upper() for word, name in names.items()}}


def pad_batch(sequences: list[np.ndarray], length: int | None = None) -> torch.Tensor:
    """Sequences of ids as one (N, length) tensor, right-padded with PAD (length: the longest, by default)."""
    length = max(len(s) for s in sequences) if length is None else length
    batch = torch.full((len(sequences), length), PAD, dtype=torch.long)
    for row, sequence in enumerate(sequences):
        if len(sequence) > length:
            raise ValueError(f"length must be >= the longest sequence ({len(sequence)}); got {length}")
        batch[row, : len(sequence)] = torch.as_tensor(sequence, dtype=torch.long)
    return batch


def teacher_forcing(targets: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """(decoder input, expected output) for teacher forcing: [BOS, w1 .. wT] and [w1 .. wT, EOS], padded alike."""
    return (pad_batch([np.concatenate([[BOS], t]) for t in targets]),
            pad_batch([np.concatenate([t, [EOS]]) for t in targets]))
