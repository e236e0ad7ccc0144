"""The encoder-decoder Transformer of Nakkiran et al.'s translation sweeps, with the embedding dimension d_model as
the width knob: 6 encoder and 6 decoder layers, 8 heads, feed-forward width 4 d_model, no dropout.

Built from PyTorch's own layers (`nn.Transformer`), with sinusoidal positions (no parameters, as in fairseq, which
the paper used) and padding masks on every attention, so that a padded batch computes exactly what each sentence
alone computes. Label smoothing belongs to the loss (`translation_loss`), not the model.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ddd_utils._checks import check_nonnegative, check_positive_int, check_probability

PAD = 0  # the padding token id of every vocabulary here


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    """(length, d_model) position codes of Vaswani et al.: sines in the even dimensions, cosines in the odd."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    codes = torch.zeros(length, d_model)
    codes[:, 0::2] = torch.sin(position * frequency)
    codes[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
    return codes


class TranslationTransformer(nn.Module):
    """Source token ids (N, S) and shifted target ids (N, T) to next-token logits (N, T, target_vocab).

    `d_model` must be a multiple of `heads`. Token id `PAD` is padding in both languages: it is masked as a key in
    every attention and its embedding is zero.
    """

    def __init__(self, d_model: int, source_vocab: int, target_vocab: int, layers: int = 6, heads: int = 8,
                 ff_multiplier: int = 4, max_length: int = 256):
        super().__init__()
        d_model, heads = check_positive_int("d_model", d_model), check_positive_int("heads", heads)
        if d_model % heads:
            raise ValueError(f"d_model must be a multiple of heads = {heads}; got {d_model}")
        for name, vocab in (("source_vocab", source_vocab), ("target_vocab", target_vocab)):
            if check_positive_int(name, vocab) < 2:
                raise ValueError(f"{name} must be >= 2 (token {PAD} is padding); got {vocab}")
        self.d_model = d_model
        self.source_embedding = nn.Embedding(source_vocab, d_model, padding_idx=PAD)
        self.target_embedding = nn.Embedding(target_vocab, d_model, padding_idx=PAD)
        self.register_buffer("positions", sinusoidal_positions(check_positive_int("max_length", max_length), d_model),
                             persistent=False)
        self.transformer = nn.Transformer(
            d_model, heads, check_positive_int("layers", layers), layers,
            dim_feedforward=check_positive_int("ff_multiplier", ff_multiplier) * d_model, dropout=0.0,
            batch_first=True)
        self.transformer.encoder.use_nested_tensor = False  # no prototype nested tensors in evaluation
        self.output = nn.Linear(d_model, target_vocab)

    def _embed(self, embedding: nn.Embedding, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.shape[1] > self.positions.shape[0]:
            raise ValueError(f"sequences must be at most max_length = {self.positions.shape[0]} tokens; "
                             f"got {tokens.shape[1]}")
        return embedding(tokens) * math.sqrt(self.d_model) + self.positions[: tokens.shape[1]]

    def forward(self, source: torch.Tensor, target_in: torch.Tensor) -> torch.Tensor:
        source_padding, target_padding = source == PAD, target_in == PAD
        causal = nn.Transformer.generate_square_subsequent_mask(target_in.shape[1], device=source.device,
                                                                dtype=torch.bool)
        hidden = self.transformer(
            self._embed(self.source_embedding, source), self._embed(self.target_embedding, target_in),
            tgt_mask=causal, src_key_padding_mask=source_padding, tgt_key_padding_mask=target_padding,
            memory_key_padding_mask=source_padding, tgt_is_causal=True)
        return self.output(hidden)


def transformer_parameters(d_model: int, source_vocab: int, target_vocab: int, layers: int = 6,
                           ff_multiplier: int = 4) -> int:
    """The parameter count of a TranslationTransformer, in closed form: two embeddings, `layers` encoder layers
    (self-attention, feed-forward, 2 layer norms), `layers` decoder layers (two attentions, feed-forward, 3 layer
    norms), the two stacks' final layer norms, and the output layer."""
    d, ff = d_model, ff_multiplier * d_model
    attention = 4 * d * d + 4 * d            # query, key, value and output projections, with biases
    feed_forward = 2 * d * ff + ff + d
    norm = 2 * d
    encoder_layer = attention + feed_forward + 2 * norm
    decoder_layer = 2 * attention + feed_forward + 3 * norm
    return ((source_vocab + target_vocab) * d + layers * (encoder_layer + decoder_layer) + 2 * norm
            + d * target_vocab + target_vocab)


def translation_loss(logits: torch.Tensor, target_out: torch.Tensor, label_smoothing: float = 0.0
                     ) -> torch.Tensor:
    """Mean token cross-entropy over the non-padding target positions (label smoothing for training; 0 to
    measure)."""
    label_smoothing = check_probability("label_smoothing", check_nonnegative("label_smoothing", label_smoothing))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target_out.reshape(-1), ignore_index=PAD,
                           label_smoothing=label_smoothing)
