"""The small decoder-only Transformer of the grokking papers (Power et al. 2022; Davies et al. 2023): it reads an
equation "a o b =" as four tokens and predicts c from the last position. Width knob: d_model."""

from __future__ import annotations

import torch
from torch import nn

from ddd_utils._checks import check_positive_int

EQUATION_LENGTH = 4  # tokens of "a o b =": a, the operation, b, "=" (the format `data.modular` writes)


class ArithmeticTransformer(nn.Module):
    """Token ids (N, 4) of `data.modular.equation_tokens` to logits (N, p) over the answer: learned token and
    position embeddings, `layers` pre-norm blocks of causal self-attention (`heads` heads) and a 4 d_model
    feed-forward layer, no dropout, a final LayerNorm and a linear read-out of the last position. `d_model` must be
    a multiple of `heads`."""

    def __init__(self, modulus: int, d_model: int = 128, layers: int = 2, heads: int = 4):
        super().__init__()
        self.modulus = check_positive_int("modulus", modulus, minimum=2)
        d_model = check_positive_int("d_model", d_model)
        check_positive_int("layers", layers)
        heads = check_positive_int("heads", heads)
        if d_model % heads:
            raise ValueError(f"d_model must be a multiple of heads = {heads}; got {d_model}")
        self.tokens = nn.Embedding(modulus + 2, d_model)
        self.positions = nn.Parameter(torch.randn(EQUATION_LENGTH, d_model) * 0.02)
        block = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, modulus)
        mask = torch.triu(torch.full((EQUATION_LENGTH, EQUATION_LENGTH), float("-inf")), diagonal=1)
        self.register_buffer("causal_mask", mask, persistent=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 2 or tokens.shape[1] != EQUATION_LENGTH:
            raise ValueError(f"tokens must have shape (N, {EQUATION_LENGTH}); got {tuple(tokens.shape)}")
        h = self.tokens(tokens) + self.positions
        h = self.blocks(h, mask=self.causal_mask, is_causal=True)
        return self.head(self.norm(h[:, -1]))
