"""Chapter 6's model and generated task: the Transformer's shapes, masks and parameter count, the loss, and the
translation task's rule and determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ddd_utils.data import translation
from ddd_utils.models import count_parameters
from ddd_utils.models.transformer import PAD, TranslationTransformer, transformer_parameters, translation_loss

GRAMMAR = translation.Grammar(nouns=6, verbs=4, adjectives=5, max_adjectives=2)


def tiny_model(d_model: int = 16, layers: int = 2) -> TranslationTransformer:
    torch.manual_seed(0)
    return TranslationTransformer(d_model, GRAMMAR.vocab, GRAMMAR.vocab, layers=layers).eval()


def test_logits_have_one_row_per_target_position_over_the_target_vocabulary():
    pairs = translation.generate_pairs(GRAMMAR, 5, seed=0)
    source = translation.pad_batch(pairs.source)
    target_in, target_out = translation.teacher_forcing(pairs.target)
    logits = tiny_model()(source, target_in)
    assert logits.shape == (5, target_in.shape[1], GRAMMAR.vocab)
    assert target_in.shape == target_out.shape


def test_padding_changes_nothing_at_the_real_positions():
    pairs = translation.generate_pairs(GRAMMAR, 4, seed=1)
    model = tiny_model()
    source, (target_in, _) = translation.pad_batch(pairs.source), translation.teacher_forcing(pairs.target)
    longer_source = translation.pad_batch(pairs.source, length=source.shape[1] + 5)
    longer_target = torch.cat([target_in, torch.full((4, 3), PAD)], dim=1)
    with torch.no_grad():
        plain, padded = model(source, target_in), model(longer_source, longer_target)
    real = target_in != PAD
    torch.testing.assert_close(padded[:, : target_in.shape[1]][real], plain[real], rtol=1e-5, atol=1e-5)
    alone = model(translation.pad_batch(pairs.source[:1]), translation.teacher_forcing(pairs.target[:1])[0])
    torch.testing.assert_close(alone[0], plain[0, : alone.shape[1]], rtol=1e-5, atol=1e-5)  # batch-mates too


def test_a_position_never_sees_the_target_tokens_after_it():
    pairs = translation.generate_pairs(GRAMMAR, 2, seed=2)
    model = tiny_model()
    source, (target_in, _) = translation.pad_batch(pairs.source), translation.teacher_forcing(pairs.target)
    changed = target_in.clone()
    changed[:, 3:] = translation.FIRST_WORD  # rewrite everything from position 3 on
    with torch.no_grad():
        before, after = model(source, target_in), model(source, changed)
    torch.testing.assert_close(after[:, :3], before[:, :3])
    assert not torch.allclose(after[:, 3:], before[:, 3:])


@pytest.mark.parametrize("d_model, layers", [(8, 1), (16, 2), (64, 6)])
def test_the_parameter_count_matches_its_closed_form(d_model, layers):
    model = TranslationTransformer(d_model, 50, 70, layers=layers)
    assert count_parameters(model) == transformer_parameters(d_model, 50, 70, layers=layers)


def test_bad_sizes_name_the_parameter():
    with pytest.raises(ValueError, match="d_model must be a multiple of heads = 8; got 12"):
        TranslationTransformer(12, 10, 10)
    with pytest.raises(ValueError, match="source_vocab must be >= 2"):
        TranslationTransformer(8, 1, 10)
    with pytest.raises(ValueError, match="max_length = 4"):
        TranslationTransformer(8, 10, 10, layers=1, max_length=4)(torch.ones(1, 5, dtype=torch.long),
                                                                  torch.ones(1, 2, dtype=torch.long))


def test_the_loss_ignores_padding_and_label_smoothing_raises_it_on_confident_predictions():
    logits = torch.full((1, 3, 5), -20.0)
    logits[0, torch.arange(3), torch.tensor([3, 4, 2])] = 20.0  # confident and right
    target = torch.tensor([[3, 4, 2]])
    padded_logits = torch.cat([logits, torch.randn(1, 2, 5)], dim=1)
    padded_target = torch.tensor([[3, 4, 2, PAD, PAD]])
    assert translation_loss(padded_logits, padded_target) == pytest.approx(float(translation_loss(logits, target)))
    assert translation_loss(logits, target) < 1e-6
    assert translation_loss(logits, target, label_smoothing=0.1) > 1.0
    with pytest.raises(ValueError, match="label_smoothing"):
        translation_loss(logits, target, label_smoothing=1.5)


def test_the_target_is_the_source_translated_word_for_word_and_reordered():
    pairs = translation.generate_pairs(GRAMMAR, 200, seed=3)
    nouns = set(range(translation.FIRST_WORD, translation.FIRST_WORD + GRAMMAR.nouns))
    verbs = set(range(translation.FIRST_WORD + GRAMMAR.nouns, translation.FIRST_WORD + GRAMMAR.nouns + GRAMMAR.verbs))
    inverse = np.argsort(pairs.lexicon)
    for source, target in zip(pairs.source, pairs.target, strict=True):
        back = inverse[target]  # the target in source words
        assert sorted(back) == sorted(source)
        assert back[-1] in verbs and source[[i for i, w in enumerate(source) if w in verbs][0]] == back[-1]
        source_nouns = [w for w in source if w in nouns]
        assert [w for w in back if w in nouns] == source_nouns  # subject first, then object
        assert back[0] == source_nouns[0]  # each phrase starts with its noun, adjectives after it
    assert sorted(pairs.lexicon) == list(range(GRAMMAR.vocab))  # a bijection that keeps the special tokens
    assert list(pairs.lexicon[: translation.FIRST_WORD]) == [0, 1, 2]


def test_the_task_is_deterministic_in_its_seed_and_nested_in_its_count():
    a, b = translation.generate_pairs(GRAMMAR, 50, seed=4), translation.generate_pairs(GRAMMAR, 50, seed=4)
    prefix, other = translation.generate_pairs(GRAMMAR, 20, seed=4), translation.generate_pairs(GRAMMAR, 50, seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(a.source + a.target, b.source + b.target, strict=True))
    assert all(np.array_equal(x, y) for x, y in zip(prefix.source, a.source[:20], strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a.source, other.source, strict=True))
    assert not np.array_equal(a.lexicon, other.lexicon)


def test_teacher_forcing_shifts_the_target_by_one_with_start_and_end_tokens():
    target_in, target_out = translation.teacher_forcing([np.array([5, 6]), np.array([7])])
    assert target_in.tolist() == [[translation.BOS, 5, 6], [translation.BOS, 7, PAD]]
    assert target_out.tolist() == [[5, 6, translation.EOS], [7, translation.EOS, PAD]]
    with pytest.raises(ValueError, match="length must be >= the longest sequence"):
        translation.pad_batch([np.array([5, 6, 7])], length=2)


def test_word_names_show_each_target_word_as_the_source_word_it_translates():
    pairs = translation.generate_pairs(GRAMMAR, 20, seed=6)
    names = translation.word_names(GRAMMAR, pairs.lexicon)
    for source, target in zip(pairs.source, pairs.target, strict=True):
        shown_source = [names["source"][w] for w in source]
        shown_target = [names["target"][w] for w in target]
        assert sorted(shown_target) == sorted(name.upper() for name in shown_source)
        assert shown_target[-1].startswith("V") and shown_target[0].startswith("N")
